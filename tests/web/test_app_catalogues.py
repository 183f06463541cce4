"""Every app's Spanish catalogue is complete (issue 13 §4: staff pages were partly English)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from tests.web.test_translations import _parse_po

import trellis

CATALOGUES = sorted(Path(trellis.__file__).parent.glob("*/locale/es/LC_MESSAGES/django.po"))


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_entry_of_the_app_catalogue_is_translated(po: Path) -> None:
    empty = [
        e["msgid"]
        for e in _parse_po(po)
        if e.get("msgid") and not (e.get("msgstr") or e.get("msgstr[0]"))
    ]
    assert empty == []


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_the_compiled_catalogue_matches_and_checks(po: Path, tmp_path: Path) -> None:
    if shutil.which("msgfmt") is None:
        pytest.skip("msgfmt (gettext) is not installed")
    out = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-c", "-o", str(out), str(po)], check=True, capture_output=True)
    assert out.read_bytes() == po.with_suffix(".mo").read_bytes()
