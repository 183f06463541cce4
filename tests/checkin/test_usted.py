"""Patient pages in Spanish use one register, "usted" (issue 13 §4; brief: patient pages use
usted). The check-in pages used "tú": every catalogue entry used on a patient page is checked."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from tests.web.test_translations import _parse_po

import trellis

SRC = Path(trellis.__file__).parent
CATALOGUES = sorted(SRC.glob("**/locale/es/LC_MESSAGES/django.po"))
# Templates and modules whose words a patient reads (check-in link pages and their sections).
PATIENT_FACING = re.compile(
    r"patient_\w+\.html|_checkin\w*\.html|checkin/|questionnaire\.html|thanks\.html|"
    r"instructions\.html|cost_print\.html|safety_plan_print\.html|web_hooks\.py|panels\.py|"
    r"integration/forms\.py"
)
TU = re.compile(
    r"\b(tú|tu|tus|te|contigo|puedes|quieres|tienes|estás|dinos|cuéntanos|escríbenos|"
    r"llámanos|escribe|llama|elige|responde|sáltate)\b",
    re.IGNORECASE,
)


def _entries(po: Path) -> list[tuple[str, str, str]]:
    """(references, msgid, msgstr) of each entry."""
    out = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        refs = " ".join(line for line in block.splitlines() if line.startswith("#:"))
        parsed = _parse_po_block(block)
        if parsed:
            out.append(
                (
                    refs,
                    parsed["msgid"],
                    " ".join(v for k, v in parsed.items() if k.startswith("msgstr")),
                )
            )
    return out


def _parse_po_block(block: str) -> dict[str, str]:
    """One entry, read as ``tests.web.test_translations._parse_po`` reads a file."""
    entry: dict[str, str] = {}
    key = ""
    for raw in block.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entry if entry.get("msgid") else {}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(SRC)).split("/")[0])
def test_patient_pages_say_usted(po: Path) -> None:
    assert _parse_po(po)  # the catalogue parses
    informal = [
        f"{msgid!r} -> {msgstr!r}"
        for refs, msgid, msgstr in _entries(po)
        if PATIENT_FACING.search(refs) and TU.search(msgstr)
    ]
    assert informal == []
