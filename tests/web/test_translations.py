"""The Spanish catalogue: every entry is translated and the compiled .mo matches the .po."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext, ngettext

import trellis

PO_PATH = Path(trellis.__file__).parent / "locale" / "es" / "LC_MESSAGES" / "django.po"

SAMPLE_MSGIDS = [
    "Sign in",
    "Skip to main content",
    "Nurse",
    "Integration therapist",
    "Open alerts",
    "Audit log",
    "Register a patient",
    "This field is required.",
    "Hello, %(first_name)s",
    "Household size is from 1 to %(n)s people.",
]


def _parse_po(path: Path) -> list[dict[str, str]]:
    """A tiny .po reader: one dict per entry, keyed msgid / msgid_plural / msgstr / msgstr[N]."""
    entries: list[dict[str, str]] = []
    entry: dict[str, str] = {}
    key = ""
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if entry:
                entries.append(entry)
            entry, key = {}, ""
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


ENTRIES = _parse_po(PO_PATH)
BY_MSGID = {e["msgid"]: e for e in ENTRIES}


def test_every_entry_is_translated() -> None:
    body = [e for e in ENTRIES if e["msgid"]]
    assert len(body) > 200
    untranslated = [
        e["msgid"]
        for e in body
        if not all(v for k, v in e.items() if k.startswith("msgstr"))
        or not any(k.startswith("msgstr") for k in e)
    ]
    assert untranslated == []


def test_header_declares_spanish_plurals() -> None:
    header = BY_MSGID[""]["msgstr"]
    assert "Language: es\n" in header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\n" in header
    assert "charset=UTF-8" in header


@pytest.mark.parametrize("msgid", SAMPLE_MSGIDS)
def test_compiled_catalogue_is_current(msgid: str) -> None:
    expected = BY_MSGID[msgid]["msgstr"]
    with translation.override("es"):
        assert gettext(msgid) == expected


def test_placeholder_survives_translation() -> None:
    with translation.override("es"):
        assert gettext("Hello, %(first_name)s") % {"first_name": "Ana"} == "Hola, Ana"
        assert ngettext("%(counter)s patient", "%(counter)s patients", 3) % {"counter": 3} == (
            "3 pacientes"
        )
