"""Every CSV the app writes neutralises formula cells, through one writer (issue 14, finding 8)."""

from __future__ import annotations

import ast
import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from tests.support import Cast, sign_in

from trellis.exports import SafeDictWriter, SafeWriter, neutralise

SRC = Path(__file__).resolve().parents[1] / "src" / "trellis"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_starts_are_quoted(start: str) -> None:
    assert neutralise(f'{start}HYPERLINK("http://x")') == f'\'{start}HYPERLINK("http://x")'


def test_plain_text_and_numbers_are_left_alone() -> None:
    assert neutralise("Riverbend") == "Riverbend"
    assert neutralise("a=b") == "a=b"
    assert neutralise(-5) == -5
    assert neutralise(Decimal("-1.5")) == Decimal("-1.5")
    assert neutralise(None) is None


def test_writers_quote_every_cell() -> None:
    out = io.StringIO()
    SafeWriter(out).writerow(["=1+1", "ok", -3])
    w = SafeDictWriter(out, fieldnames=["a", "b"])
    w.writerow({"a": "@SUM(A1)", "b": "+1"})
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["'=1+1", "ok", "-3"], ["'@SUM(A1)", "'+1"]]


def test_no_module_writes_csv_around_the_shared_writer() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "exports.py" and path.parent == SRC:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
                and node.attr in {"writer", "DictWriter"}
            ):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


@pytest.mark.django_db
def test_a_formula_typed_as_a_username_is_inert_in_the_audit_csv(client: Any, cast: Cast) -> None:
    attack = '=HYPERLINK("http://evil.example","x")'
    client.post(reverse("accounts:login"), {"username": attack, "password": "nope"})
    sign_in(client, cast.admin_a)
    response = client.get(reverse("audit:log"), {"export": "csv", "category": "account"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    actors = {row["actor"] for row in rows}
    assert "'" + attack in actors
    assert attack not in actors
