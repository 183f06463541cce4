"""Internal notes never reach the UI (issue 13 §4): no "CLINICAL.md §5", "[verify]", "★".

Two guards: a scan of everything a page is made from (templates, the Spanish catalogues, string
literals in the apps' Python (labels, help texts, messages, alert texts) and the texts of the
protocol and instrument files shown to people), and a crawl of the demo as each staff role that
reads every rendered page.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.urls import Resolver404, resolve
from tests.support import sign_in

import trellis

SRC = Path(trellis.__file__).parent
INTERNAL = re.compile(r"CLINICAL(\.md)?\s*§|\[verify|★")
# Data-file fields that are reference material, never shown on a page (citations, licences).
REFERENCE_KEYS = {"sources", "source", "licence", "loinc"}


def _python_strings(path: Path) -> list[tuple[int, str]]:
    """String literals that can reach a person: not docstrings or bare string statements."""
    tree = ast.parse(path.read_text())
    bare = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in bare
    ]


def _yaml_texts(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [
            hit
            for k, v in value.items()
            if k not in REFERENCE_KEYS
            for hit in _yaml_texts(v, f"{path}.{k}")
        ]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _yaml_texts(v, f"{path}[{i}]")]
    return [(path, value)] if isinstance(value, str) else []


def test_no_internal_note_in_what_pages_are_made_of() -> None:
    found = []
    for tpl in SRC.glob("*/templates/**/*.html"):
        found += [f"{tpl.relative_to(SRC)}" for m in INTERNAL.finditer(tpl.read_text())]
    for po in SRC.glob("**/locale/es/LC_MESSAGES/django.po"):
        body = "\n".join(line for line in po.read_text().splitlines() if not line.startswith("#"))
        found += [f"{po.relative_to(SRC)}: {m.group(0)}" for m in INTERNAL.finditer(body)]
    for py in SRC.rglob("*.py"):
        if "migrations" in py.parts or py.parts[-3:-1] == ("cli", "commands"):
            continue  # the command line's own --help is for operators, not a page
        for line, text in _python_strings(py):
            if INTERNAL.search(text):
                found.append(f"{py.relative_to(SRC)}:{line}: {text[:60]}")
    for data in (SRC / "core" / "data").rglob("*.yaml"):
        for where, text in _yaml_texts(yaml.safe_load(data.read_text())):
            if INTERNAL.search(text):
                found.append(f"{data.relative_to(SRC)}{where}: {text[:60]}")
    assert found == []


TEXTAREA = re.compile(r"<textarea[^>]*>.*?</textarea>", re.S)
SKIP = re.compile(r"\.(csv|pdf|json|svg|png|js|css)$|/export|/logout|/static/|/i18n/")


def _crawl(client: Any, limit: int = 400) -> dict[str, str]:
    """GET every staff page reachable from home, one URL per route pattern (with its args)."""
    seen_routes: set[str] = set()
    pages: dict[str, str] = {}
    queue = deque(["/"])
    while queue and len(pages) < limit:
        url = queue.popleft()
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            continue
        route = f"{match.route}?{urlsplit(url).query and 'q'}"
        if route in seen_routes:
            continue
        seen_routes.add(route)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        pages[url] = html
        for href in re.findall(r'href="(/[^"#]*)"', html):
            if not SKIP.search(href):
                queue.append(href.replace("&amp;", "&"))
    return pages


@pytest.mark.django_db
def test_no_internal_note_on_any_rendered_staff_page(client: Any) -> None:
    from trellis.accounts.models import User
    from trellis.web.demo import seed_demo

    seed_demo()  # once: the demo is the slow part, each role then walks the same data
    bad: dict[str, str] = {}
    for username in ("ada.admin", "noah.nurse", "tessa.therapist", "priya.prescriber"):
        client.logout()
        sign_in(client, User.objects.get(username=username))
        pages = _crawl(client)
        assert len(pages) > 15, username
        # The protocol editor's textarea holds the protocol file as written, citations
        # included: source text being edited, not words the page says to anyone.
        for url, html in pages.items():
            if m := INTERNAL.search(TEXTAREA.sub("", html)):
                bad[f"{username} {url}"] = m.group(0)
    assert bad == {}
