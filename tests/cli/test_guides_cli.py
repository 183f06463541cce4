"""``trellis guides``: list with readability, show, validate a program's copy."""

from __future__ import annotations

import json
from pathlib import Path

from trellis.core import guides


def test_list_shows_every_guide_with_its_readability(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("guides", "list", "--format", "json")
    assert result.code == 0
    rows = json.loads(result.out)
    assert {(r["id"], r["language"]) for r in rows} == {
        ("ketamine", "en"),
        ("ketamine", "es"),
        ("esketamine", "en"),
        ("esketamine", "es"),
    }
    assert all(r["readability"]["passes"] for r in rows)


def test_show_and_unknown_guide(cli) -> None:  # type: ignore[no-untyped-def]
    shown = json.loads(cli("guides", "show", "esketamine", "--lang", "es").out)
    assert shown["language"] == "es"
    assert len(shown["teach_back"]) == 5
    bad = cli("guides", "show", "nope")
    assert bad.code == 2
    assert bad.out == ""
    assert bad.err.startswith("trellis: error: ID:")


def test_validate_a_copy_and_a_broken_one(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "ketamine.en.yaml"
    good.write_text(guides.packaged_guide_text("ketamine", "en"), encoding="utf-8")
    ok = cli("guides", "validate", str(good), "--format", "json")
    assert ok.code == 0
    assert json.loads(ok.out)["valid"] is True
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        guides.packaged_guide_text("ketamine", "en").replace("answer: b", "answer: z", 1),
        encoding="utf-8",
    )
    result = cli("guides", "validate", str(broken))
    assert result.code == 2
    assert result.out == ""
    assert "broken.yaml: teach_back[0].answer: 'z' is not one of the options" in result.err
