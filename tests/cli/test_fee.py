"""``trellis fee``: the JSON contract, text output, and one-line errors with exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

KEYS = [
    "year",
    "region",
    "household_size",
    "poverty_guideline",
    "percent_of_poverty",
    "class",
    "discount_percent",
    "nominal_fee",
]

Cli = Callable[..., Any]


def _json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("fee", *args, "--format", "json")
    assert result.code == 0, result.err
    assert result.err == ""
    data = json.loads(result.out)
    assert isinstance(data, dict)
    return data


def _bad(cli: Cli, *args: str) -> str:
    result = cli("fee", *args, "--format", "json")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("trellis: error: ")
    return lines[0]


def test_json_contract_exact_keys_and_types(cli: Cli) -> None:
    data = _json(cli, "--year", "2025", "--household-size", "3", "--annual-income", "34000")
    assert list(data) == KEYS
    assert data == {
        "year": 2025,
        "region": "contiguous",
        "household_size": 3,
        "poverty_guideline": 26650,
        "percent_of_poverty": 127.6,
        "class": "C",
        "discount_percent": 60,
        "nominal_fee": None,
    }
    assert isinstance(data["poverty_guideline"], int)
    assert isinstance(data["discount_percent"], int)


def test_class_a_has_the_nominal_fee(cli: Cli) -> None:
    data = _json(cli, "--year", "2026", "--household-size", "1", "--annual-income", "15960")
    assert data["class"] == "A"
    assert data["percent_of_poverty"] == 100.0
    assert data["nominal_fee"] == 20
    assert data["discount_percent"] == 100


@pytest.mark.parametrize(
    ("income", "label"),
    [("64300", "E"), ("64300.01", "F"), ("32150", "A"), ("32150.01", "B"), ("40187.50", "B")],
)
def test_boundaries_through_the_cli(cli: Cli, income: str, label: str) -> None:
    data = _json(cli, "--year", "2025", "--household-size", "4", "--annual-income", income)
    assert data["class"] == label


@pytest.mark.parametrize(("region", "guideline"), [("alaska", 33310), ("hawaii", 30650)])
def test_region_flag(cli: Cli, region: str, guideline: int) -> None:
    data = _json(
        cli, "--year", "2025", "--household-size", "3", "--annual-income", "1", "--region", region
    )
    assert data["region"] == region
    assert data["poverty_guideline"] == guideline


def test_text_format_is_a_readable_summary(cli: Cli) -> None:
    result = cli("fee", "--year", "2025", "--household-size", "3", "--annual-income", "34000")
    assert result.code == 0
    assert "Class C" in result.out
    assert "60 % discount" in result.out
    assert "127.6 %" in result.out
    assert "$26,650" in result.out


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--year", "2025", "--household-size", "0", "--annual-income", "1"], "--household-size"),
        (["--year", "2025", "--household-size", "-2", "--annual-income", "1"], "--household-size"),
        (["--year", "2025", "--household-size", "two", "--annual-income", "1"], "--household-size"),
        (["--year", "2025", "--household-size", "2", "--annual-income", "-1"], "--annual-income"),
        (["--year", "2025", "--household-size", "2", "--annual-income", "lots"], "--annual-income"),
        (["--year", "1999", "--household-size", "2", "--annual-income", "1"], "--year"),
        (["--year", "20x5", "--household-size", "2", "--annual-income", "1"], "--year"),
        (
            ["--year", "2025", "--household-size", "2", "--annual-income", "1", "--region", "guam"],
            "--region",
        ),
        (
            [
                "--year",
                "2026",
                "--household-size",
                "2",
                "--annual-income",
                "1",
                "--region",
                "alaska",
            ],
            "--household-size",
        ),
        (
            [
                "--year",
                "2026",
                "--household-size",
                "5",
                "--annual-income",
                "1",
                "--region",
                "hawaii",
            ],
            "--household-size",
        ),
        (["--household-size", "2", "--annual-income", "1"], "--year"),
    ],
)
def test_bad_input_exit_2_one_line_naming_the_flag(cli: Cli, args: list[str], flag: str) -> None:
    line = _bad(cli, *args)
    assert flag in line


def test_unknown_year_lists_known_years(cli: Cli) -> None:
    line = _bad(cli, "--year", "2031", "--household-size", "2", "--annual-income", "1")
    assert "2031" in line
    assert "2025" in line


def _write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(data), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


SCHEDULE = {
    "classes": [
        {"label": "I", "max_percent": 100, "discount_percent": 100, "nominal_fee": 5},
        {"label": "II", "max_percent": 150, "discount_percent": 75},
        {"label": "III", "max_percent": 175, "discount_percent": 50},
        {"label": "IV", "max_percent": 200, "discount_percent": 25},
        {"label": "V", "max_percent": None, "discount_percent": 0},
    ]
}


@pytest.mark.parametrize("name", ["s.yaml", "s.json"])
def test_custom_schedule_file(cli: Cli, tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, SCHEDULE)
    base = ["--year", "2025", "--household-size", "1", "--schedule", path]
    assert _json(cli, *base, "--annual-income", "20000")["class"] == "II"
    low = _json(cli, *base, "--annual-income", "100")
    assert (low["class"], low["nominal_fee"]) == ("I", 5)


def test_schedule_breaking_an_hrsa_rule_names_the_rule(cli: Cli, tmp_path: Path) -> None:
    bad = json.loads(json.dumps(SCHEDULE))
    bad["classes"][4]["discount_percent"] = 10
    path = _write(tmp_path, "bad.yaml", bad)
    line = _bad(
        cli, "--year", "2025", "--household-size", "1", "--annual-income", "1", "--schedule", path
    )
    assert "--schedule" in line
    assert "hrsa_no_discount_above_200" in line


@pytest.mark.parametrize(
    ("content", "mentions"),
    [("classes: [", "not valid YAML"), ("classes: 3", "classes"), ("{}", "classes")],
)
def test_malformed_schedule_file(cli: Cli, tmp_path: Path, content: str, mentions: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(content, encoding="utf-8")
    line = _bad(
        cli,
        "--year",
        "2025",
        "--household-size",
        "1",
        "--annual-income",
        "1",
        "--schedule",
        str(path),
    )
    assert "--schedule" in line
    assert mentions in line


def test_missing_schedule_file(cli: Cli, tmp_path: Path) -> None:
    line = _bad(
        cli,
        "--year",
        "2025",
        "--household-size",
        "1",
        "--annual-income",
        "1",
        "--schedule",
        str(tmp_path / "nope.yaml"),
    )
    assert "--schedule" in line
    assert "no such file" in line
