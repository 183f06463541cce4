"""``trellis protocols list|show|validate``."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from trellis.core.protocols import protocol_ids

Cli = Callable[..., Any]


def packaged_yaml(track: str) -> dict[str, Any]:
    text = (
        resources.files("trellis.core").joinpath("data", "protocols", f"{track}.yaml").read_text()
    )
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def assert_one_line_error(result: Any, *fragments: str) -> None:
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("trellis: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_list_json(cli: Cli) -> None:
    result = cli("protocols", "list", "--format", "json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [r["id"] for r in rows] == list(protocol_ids())
    assert len(rows) >= 8
    for row in rows:
        assert set(row) == {"id", "version", "title", "drug", "route"}
    by_id = {r["id"]: r for r in rows}
    assert (by_id["esketamine-trd"]["drug"], by_id["esketamine-trd"]["route"]) == (
        "esketamine",
        "intranasal",
    )


def test_list_text(cli: Cli) -> None:
    result = cli("protocols", "list")
    assert result.code == 0
    assert "iv-trd" in result.out
    assert "Esketamine" in result.out


def test_show(cli: Cli) -> None:
    result = cli("protocols", "show", "iv-ocd", "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["id"] == "iv-ocd"
    assert data["response_threshold_percent"] == 35
    assert_one_line_error(cli("protocols", "show", "nope"), "ID", "unknown protocol 'nope'")


def test_validate_packaged_and_adapted_copy(cli: Cli, tmp_path: Path) -> None:
    data = packaged_yaml("iv-trd")
    data["id"] = "clinic-b-trd"
    data["version"] = "1.1.0"
    path = tmp_path / "clinic-b-trd.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = cli("protocols", "validate", str(path), "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "file": str(path),
        "id": "clinic-b-trd",
        "version": "1.1.0",
        "valid": True,
    }


def test_validate_refuses_with_file_and_field(cli: Cli, tmp_path: Path) -> None:
    data = packaged_yaml("iv-trd")
    data["doses"]["min_days_between"] = 5
    data["doses"]["max_days_between"] = 3
    del data["doses"]["target_days_between"]
    path = tmp_path / "iv-trd.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = cli("protocols", "validate", str(path))
    assert_one_line_error(
        result, "trellis: error: iv-trd.yaml: doses.min_days_between: must be ≤ max (5 > 3)"
    )


def test_validate_lists_every_problem_first_names_file_and_field(cli: Cli, tmp_path: Path) -> None:
    data = packaged_yaml("esketamine-trd")
    data["primary_instrument"] = "bdi"
    data["requirements_before_first_dose"] = ["safety_plan"]
    path = tmp_path / "esketamine-trd.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = cli("protocols", "validate", str(path))
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) >= 2
    assert all(line.startswith("trellis: error: esketamine-trd.yaml: ") for line in lines)
    assert "primary_instrument" in result.err
    assert "rems_patient_enrolment" in result.err


def test_validate_missing_and_broken_files(cli: Cli, tmp_path: Path) -> None:
    assert_one_line_error(
        cli("protocols", "validate", str(tmp_path / "none.yaml")), "none.yaml", "cannot read"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [oops\n")
    assert_one_line_error(cli("protocols", "validate", str(broken)), "broken.yaml: (file)")


def test_missing_action_is_one_line(cli: Cli) -> None:
    assert_one_line_error(cli("protocols"), "ACTION")
