"""`trellis outcomes`: JSON contract (exact keys, ISO dates) and one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

Cli = Callable[..., Any]
BASE = ("--first-dose", "2026-03-02", "--series", "2026-03-01:5")
CONTRACT_KEYS = {"baseline", "response", "remission", "relapse_warning", "relapse", "status"}


def ok_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("outcomes", *args, "--format", "json")
    assert result.code == 0, result.err
    assert result.err == ""
    data: dict[str, Any] = json.loads(result.out)
    assert CONTRACT_KEYS <= set(data)
    return data


def test_response_and_score_relapse(cli: Cli) -> None:
    data = ok_json(
        cli,
        "--first-dose",
        "2026-03-02",
        "--series",
        "2026-03-01:20,2026-03-09:8,2026-04-01:12,2026-04-07:13",
    )
    assert data["baseline"] == {"date": "2026-03-01", "score": 20}
    assert data["response"] == "2026-03-09"
    assert data["remission"] is None
    assert data["relapse_warning"] == "2026-04-01"
    assert data["relapse"] == "2026-04-01"
    assert data["status"] == "relapse"


def test_event_relapse(cli: Cli) -> None:
    data = ok_json(
        cli,
        "--first-dose",
        "2026-03-02",
        "--series",
        "2026-03-01:20,2026-03-09:4",
        "--events",
        "2026-03-20:suicide_attempt",
    )
    assert data["remission"] == "2026-03-09"
    assert data["relapse"] == "2026-03-20"
    assert data["status"] == "relapse"


def test_no_baseline(cli: Cli) -> None:
    data = ok_json(cli, "--first-dose", "2026-03-02", "--series", "2026-02-15:20,2026-03-09:4")
    assert data["baseline"] is None
    assert data["status"] == "undetermined"
    assert data["response"] is None


@pytest.mark.parametrize(
    ("series", "status"),
    [
        ("2026-03-01:20,2026-03-09:4", "remission"),
        ("2026-03-01:20,2026-03-09:9", "response"),
        ("2026-03-01:20,2026-03-09:11", "no_response"),
    ],
)
def test_status(cli: Cli, series: str, status: str) -> None:
    assert ok_json(cli, "--first-dose", "2026-03-02", "--series", series)["status"] == status


def test_madrs_instrument(cli: Cli) -> None:
    data = ok_json(
        cli,
        "--first-dose",
        "2026-03-02",
        "--series",
        "2026-03-02:34,2026-03-09:12",
        "--instrument",
        "madrs",
    )
    assert data["remission"] == "2026-03-09"
    assert data["status"] == "remission"


def test_text_format(cli: Cli) -> None:
    result = cli("outcomes", "--first-dose", "2026-03-02", "--series", "2026-03-01:20,2026-03-09:8")
    assert result.code == 0
    assert "Response:" in result.out
    assert "2026-03-09" in result.out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--first-dose", "2026-02-30", "--series", "2026-03-01:5"), "--first-dose: "),
        (("--first-dose", "tomorrow", "--series", "2026-03-01:5"), "'tomorrow'"),
        (("--first-dose", "2026-03-02", "--series", "2026-03-01:28"), "--series: 2026-03-01:28"),
        (("--first-dose", "2026-03-02", "--series", "2026-03-01:-1"), "from 0 to 27"),
        (("--first-dose", "2026-03-02", "--series", "2026-03-01:x"), "--series: '2026-03-01:x'"),
        (("--first-dose", "2026-03-02", "--series", "03/01/2026:5"), "--series: "),
        (("--first-dose", "2026-03-02", "--series", "2026-03-01"), "--series: "),
        (("--first-dose", "2026-03-02", "--series", ""), "--series: "),
        (
            (*BASE, "--events", "2026-03-04:fall"),
            "--events: 2026-03-04:fall: unknown kind 'fall'",
        ),
        (
            (*BASE, "--events", "x:hospitalization"),
            "--events: ",
        ),
        (
            (*BASE, "--instrument", "gad7"),
            "--instrument: unsupported instrument 'gad7'",
        ),
        (
            ("--first-dose", "2026-03-02", "--series", "2026-03-01:61", "--instrument", "madrs"),
            "from 0 to 60",
        ),
        (("--series", "2026-03-01:5"), "--first-dose"),
    ],
)
def test_bad_input_one_line(cli: Cli, args: tuple[str, ...], expected: str) -> None:
    result = cli("outcomes", *args, "--format", "json")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("trellis: error: ")
    assert expected in lines[0]


@pytest.mark.parametrize(
    ("day_90_score", "expected"),
    [("3", True), ("6", False)],
)
def test_durable_remission_extra_keys(cli: Cli, day_90_score: str, expected: bool) -> None:
    data = ok_json(
        cli,
        "--first-dose",
        "2026-03-02",
        "--series",
        f"2026-03-01:20,2026-03-09:4,2026-06-20:{day_90_score}",
        "--induction-end",
        "2026-03-20",
    )
    assert data["durable_remission_at"] == "2026-06-18"
    assert data["durable_remission"] is expected


def test_durable_remission_cannot_tell_without_assessment_near_day_90(cli: Cli) -> None:
    data = ok_json(
        cli,
        "--first-dose",
        "2026-03-02",
        "--series",
        "2026-03-01:20,2026-03-09:4",
        "--induction-end",
        "2026-03-20",
    )
    assert data["durable_remission"] is None


def test_durable_remission_bad_input(cli: Cli) -> None:
    for extra, field in [
        (("--induction-end", "2026-02-01"), "--induction-end: "),
        (("--induction-end", "2026-03-20", "--durable-days", "-3"), "--durable-days: "),
    ]:
        result = cli("outcomes", *BASE, *extra, "--format", "json")
        assert result.code == 2
        assert result.out == ""
        assert len(result.err.splitlines()) == 1
        assert field in result.err


def test_pcl5_outcomes(cli: Any) -> None:
    """Issue 18: ``--instrument pcl5`` (PTSD and complex-trauma tracks), CLINICAL.md §3."""
    result = cli(
        "outcomes",
        "--first-dose",
        "2026-03-02",
        "--series",
        "2026-03-01:52,2026-03-09:42,2026-03-16:30",
        "--instrument",
        "pcl5",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["instrument"] == "pcl5"
    assert data["response"] == "2026-03-09"
    assert data["remission"] == "2026-03-16"
    assert data["relapse"] == "undetermined"
    assert data["status"] == "remission"
