"""`trellis score`: JSON contract and one-line errors (exit 2, empty stdout)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

Cli = Callable[..., Any]


def ok_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("score", *args, "--format", "json")
    assert result.code == 0, result.err
    assert result.err == ""
    data: dict[str, Any] = json.loads(result.out)
    return data


def bad(cli: Cli, *args: str) -> str:
    result = cli("score", *args, "--format", "json")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    line: str = lines[0]
    return line


def test_phq9_contract_keys(cli: Cli) -> None:
    data = ok_json(cli, "phq9", "--answers", "1,1,1,1,1,0,0,0,0")
    assert {"instrument", "total", "band", "flags"} <= set(data)
    assert data["instrument"] == "phq9"
    assert data["total"] == 5
    assert data["band"] == "mild"
    assert data["flags"] == []


def test_phq9_item9_flag(cli: Cli) -> None:
    data = ok_json(cli, "phq9", "--answers", "0,0,0,0,0,0,0,0,1")
    assert data["total"] == 1
    assert data["band"] == "minimal"
    assert data["flags"] == ["suicidal_ideation"]


@pytest.mark.parametrize(
    ("answers", "band"),
    [("3,1,0,0,0,0,0", "minimal"), ("3,2,0,0,0,0,0", "mild"), ("3,3,3,3,3,0,0", "severe")],
)
def test_gad7_bands(cli: Cli, answers: str, band: str) -> None:
    data = ok_json(cli, "gad7", "--answers", answers)
    assert data["band"] == band
    assert data["total"] == sum(int(x) for x in answers.split(","))


def test_pcl5_flags(cli: Cli) -> None:
    data = ok_json(cli, "pcl5", "--answers", ",".join(["2"] * 20))
    assert data["total"] == 40
    assert data["flags"] == ["probable_ptsd", "dsm5_pattern"]
    assert data["subtotals"] == {"B": 10, "C": 4, "D": 14, "E": 12}


def test_pcl5_32_has_no_flag(cli: Cli) -> None:
    data = ok_json(cli, "pcl5", "--answers", ",".join(["4"] * 8 + ["0"] * 12))
    assert data["total"] == 32
    assert "probable_ptsd" not in data["flags"]


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        ("n,n,-,-,-,n,-", "none"),
        ("y,n,-,-,-,n,-", "low"),
        ("y,y,y,n,n,n,-", "moderate"),
        ("n,n,-,-,-,y,n", "moderate"),
        ("y,y,n,y,n,n,-", "high"),
        ("n,n,-,-,-,y,y", "high"),
    ],
)
def test_cssrs_risk(cli: Cli, answers: str, risk: str) -> None:
    data = ok_json(cli, "cssrs", "--answers", answers)
    assert data["instrument"] == "cssrs"
    assert data["risk"] == risk
    assert data["flags"] == []
    assert "total" not in data


def test_qids_and_totals(cli: Cli) -> None:
    data = ok_json(cli, "qids-sr16", "--answers", ",".join(["3"] * 16))
    assert data["total"] == 27
    assert data["band"] == "very_severe"
    data = ok_json(cli, "madrs", "--total", "24")
    assert data["total"] == 24
    assert data["instrument"] == "madrs"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("phq9", "--answers", "0,0,5,0,0,0,0,0,0"), "item 3: must be an integer from 0 to 3, got"),
        (("phq9", "--answers", "0,0,0,0,0,0,0,0"), "--answers: phq9 needs 9"),
        (("phq9", "--answers", "0,0,0,0,0,0,0,0,0,0"), "--answers: phq9 needs 9"),
        (("phq9", "--answers", "0,a,0,0,0,0,0,0,0"), "item 2: must be an integer from 0 to 3"),
        (("gad7", "--answers", "0,0,0,0,0,0,-1"), "item 7: must be an integer from 0 to 3"),
        (("pcl5", "--answers", ",".join(["5"] * 20)), "item 1: must be an integer from 0 to 4"),
        (("cssrs", "--answers", "y,n,y,-,-,n,n"), "q3: must be no or not_asked"),
        (("cssrs", "--answers", "y,n,-,-,y,n,n"), "q5: "),
        (("cssrs", "--answers", "y,n,-,-,-,n,y"), "q6_3mo: "),
        (("cssrs", "--answers", "y,n,-,-,-,n"), "--answers: cssrs needs 7"),
        (("cssrs", "--answers", "y,x,-,-,-,n,n"), "q2: must be y, n or -"),
        (("madrs", "--total", "61"), "--total: madrs total must be an integer from 0 to 60"),
        (("madrs", "--total", "ten"), "--total: must be an integer from 0 to 60"),
        (("madrs", "--answers", "1,2"), "--total"),
        (("phq9", "--total", "10"), "--answers"),
        (("phq10", "--answers", "1"), "INSTRUMENT: unknown instrument 'phq10'"),
    ],
)
def test_bad_input_one_line(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    line = bad(cli, *args)
    assert line.startswith("trellis: error: ")
    assert expected in line


def test_text_output_mentions_crisis_line_on_flag(cli: Cli) -> None:
    result = cli("score", "phq9", "--answers", "0,0,0,0,0,0,0,0,2", "--format", "text")
    assert result.code == 0
    assert "suicidal_ideation" in result.out
    assert "988" in result.out


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ("y,y,-,-,-,n,-", "q3: is required: the screen is incomplete"),  # was scored "low"
        ("-,-,-,-,-,-,-", "q1: is required: the screen is incomplete"),  # was scored "none"
        ("n,n,-,-,-,-,-", "q6: is required"),
        ("n,n,-,-,-,y,-", "q6_3mo: is required"),
    ],
)
def test_cssrs_incomplete_screen_exits_2_naming_the_question(
    cli: Cli, answers: str, expected: str
) -> None:
    """CLINICAL.md §2: an incomplete screen gets no risk level. ``--answers=`` passes a list
    that starts with ``-`` (argparse would read ``--answers -,…`` as a missing value)."""
    line = bad(cli, "cssrs", f"--answers={answers}")
    assert expected in line


@pytest.mark.parametrize(("total", "flags"), [("5", []), ("6", ["possible_mania"])])
def test_asrm_contract(cli: Cli, total: str, flags: list[str]) -> None:
    """Issue 18 contract: ``trellis score asrm --total N --format json`` (0-20), ``flags``
    holding ``possible_mania`` at N >= 6."""
    data = ok_json(cli, "asrm", "--total", total)
    assert data["instrument"] == "asrm"
    assert data["total"] == int(total)
    assert data["flags"] == flags
    assert "--total: asrm total must be an integer from 0 to 20" in bad(
        cli, "asrm", "--total", "21"
    )


@pytest.mark.parametrize("typo", ["0_1", "+1", "١", "１"])
def test_loose_numbers_are_refused(cli: Cli, typo: str) -> None:
    """Issue 18: ``int()`` read ``0_1`` as 1 and took ``+1`` and non-ASCII digits."""
    assert "item 1: must be an integer from 0 to 3" in bad(
        cli, "phq9", "--answers", ",".join([typo] + ["0"] * 8)
    )
    assert "--total: must be an integer from 0 to 20" in bad(cli, "asrm", "--total", typo)
