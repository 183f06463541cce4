"""CLI: ``trellis safety checklist | vitals | rems-due`` and ``--thresholds`` overrides."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]


def assert_bad_input(result: Any, fragment: str) -> None:
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("trellis: error: ")
    assert fragment in lines[0]


def write(tmp_path: Path, data: Any, name: str = "in.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


# --- checklist --------------------------------------------------------------------------------


def record(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "identity_confirmed": True,
        "screening_changes_reviewed": True,
        "pregnancy_status": "not_pregnant",
        "planned_start": "2026-03-02T10:00:00",
        "last_food": "2026-03-02T07:30:00",
        "last_liquids": "2026-03-02T09:30:00",
        "concomitant_medicines_reviewed": True,
        "concomitant_medicines": ["benzodiazepines"],
        "phq9_item9": 0,
        "systolic": 132,
        "diastolic": 84,
        "heart_rate": 76,
        "spo2": 98,
        "weight_kg": 70,
        "ride_home_confirmed": True,
        "no_driving_advice_given": True,
        "prescriber_sign_off": "Dr. Synthetic",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


@pytest.mark.parametrize("protocol", ["esketamine-trd", "iv-trd"])
def test_checklist_may_start(cli: Cli, tmp_path: Path, protocol: str) -> None:
    result = cli(
        "safety",
        "checklist",
        "--protocol",
        protocol,
        "--input",
        write(tmp_path, record()),
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"may_start": True, "blocking": []}


def test_checklist_blocking_items(cli: Cli, tmp_path: Path) -> None:
    data = record(last_food="2026-03-02T09:00:00", systolic=141, weight_kg=...)
    result = cli(
        "safety",
        "checklist",
        "--protocol",
        "esketamine-trd",
        "--input",
        write(tmp_path, data),
        "--format",
        "json",
    )
    out = json.loads(result.out)
    assert out["may_start"] is False
    assert [b["item"] for b in out["blocking"]] == ["food_timing", "predose_hold"]
    assert all(set(b) == {"item", "detail"} for b in out["blocking"])
    data["override"] = {"prescriber": "Dr. Synthetic", "reason": "stable baseline"}
    data["last_food"] = "2026-03-02T08:00:00"
    result = cli(
        "safety",
        "checklist",
        "--protocol",
        "esketamine-trd",
        "--input",
        write(tmp_path, data),
        "--format",
        "json",
    )
    assert json.loads(result.out)["may_start"] is True
    # the IV track needs the weight that esketamine does not
    result = cli("safety", "checklist", "--protocol", "iv-trd", "--input", write(tmp_path, data))
    assert "weight" in result.out


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"systolic": "high"}, "systolic: must be a whole number"),
        ({"planned_start": "10am"}, "planned_start: must be an ISO 8601"),
        ({"last_food": "2026-03-02T07:30:00Z"}, "last_food: has a time-zone offset"),
        ({"concomitant_medicines": ["coffee"]}, "concomitant_medicines: must be one of"),
        ({"identity": True}, "input.identity: unknown setting"),
    ],
)
def test_checklist_bad_input(
    cli: Cli, tmp_path: Path, changes: dict[str, Any], fragment: str
) -> None:
    result = cli(
        "safety",
        "checklist",
        "--protocol",
        "esketamine-trd",
        "--input",
        write(tmp_path, record(**changes)),
        "--format",
        "json",
    )
    assert_bad_input(result, fragment)


def test_checklist_unknown_protocol(cli: Cli, tmp_path: Path) -> None:
    result = cli("safety", "checklist", "--protocol", "nope", "--input", write(tmp_path, record()))
    assert_bad_input(result, "--protocol: unknown protocol")


# --- vitals -----------------------------------------------------------------------------------


def test_vitals_due_json(cli: Cli, tmp_path: Path) -> None:
    data = {
        "drug": "ketamine",
        "first_administration": "2026-03-02T09:00:00",
        "infusion_end": "2026-03-02T09:40:00",
        "now": "2026-03-02T09:45:00",
        "recorded_times": [
            "2026-03-02T08:55:00",
            "2026-03-02T09:10:00",
            "2026-03-02T09:20:00",
            "2026-03-02T09:30:00",
            "2026-03-02T09:40:00",
        ],
    }
    result = cli("safety", "vitals", "--input", write(tmp_path, data), "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "due_at": "2026-03-02T09:55:00",
        "label": "after infusion (every 15 min)",
        "overdue": False,
    }


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"drug": "esketamine", "now": "2026-03-02T09:00:00"}, "first_administration: is required"),
        (
            {
                "drug": "x",
                "first_administration": "2026-03-02T09:00:00",
                "now": "2026-03-02T09:00:00",
            },
            "drug: must be one of",
        ),
        (
            {
                "drug": "esketamine",
                "first_administration": "2026-03-02T09:00:00",
                "now": "2026-03-02T09:10:00",
                "recorded_times": ["later"],
            },
            "recorded_times[0]",
        ),
        (
            {
                "drug": "esketamine",
                "first_administration": "2026-03-02T09:00:00",
                "now": "2026-03-02T09:10:00",
                "recorded_times": "09:05",
            },
            "recorded_times: must be a list",
        ),
        (
            {
                "drug": "esketamine",
                "first_administration": "2026-03-02T09:00:00",
                "now": "2026-03-02T09:10:00",
                "vitals": [],
            },
            "input.vitals: unknown key",
        ),
        ([], "input: must be a JSON object"),
    ],
)
def test_vitals_bad_input(cli: Cli, tmp_path: Path, data: Any, fragment: str) -> None:
    assert_bad_input(cli("safety", "vitals", "--input", write(tmp_path, data)), fragment)


# --- rems-due ---------------------------------------------------------------------------------

SESSIONS = [
    {"session_id": "S1", "patient": "SYN-1", "session_date": "2026-03-01"},
    {"session_id": "S0", "patient": "SYN-2", "session_date": "2026-02-20"},
    {"session_id": "S2", "session_date": "2026-02-25", "submitted_on": "2026-02-26"},
]


def test_rems_due(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "safety",
        "rems-due",
        "--input",
        write(tmp_path, SESSIONS),
        "--today",
        "2026-03-05",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "forms_due": [
            {
                "session_id": "S0",
                "patient": "SYN-2",
                "session_date": "2026-02-20",
                "due_date": "2026-02-27",
                "days_left": -6,
                "overdue": True,
            },
            {
                "session_id": "S1",
                "patient": "SYN-1",
                "session_date": "2026-03-01",
                "due_date": "2026-03-08",
                "days_left": 3,
                "overdue": False,
            },
        ]
    }
    text = cli("safety", "rems-due", "--input", write(tmp_path, SESSIONS), "--today", "2026-03-05")
    assert "OVERDUE by 6 day(s)" in text.out


@pytest.mark.parametrize(
    ("data", "today", "fragment"),
    [
        (SESSIONS, "05/03/2026", "--today: must be a date YYYY-MM-DD"),
        ({"S1": "2026-03-01"}, "2026-03-05", "input: must be a JSON list"),
        ([{"session_id": "S1"}], "2026-03-05", "input[0].session_date: is required"),
        ([{"session_date": "1 March"}], "2026-03-05", "input[0].session_date: must be a date"),
        (
            [{"session_date": "2026-03-01", "submitted_on": 5}],
            "2026-03-05",
            "input[0].submitted_on",
        ),
        ([{"session_date": "2026-03-01", "form": 1}], "2026-03-05", "input[0].form: unknown key"),
        (
            [{"session_date": "2026-03-01", "patient": 7}],
            "2026-03-05",
            "input[0].patient: must be text",
        ),
    ],
)
def test_rems_due_bad_input(cli: Cli, tmp_path: Path, data: Any, today: str, fragment: str) -> None:
    result = cli("safety", "rems-due", "--input", write(tmp_path, data), "--today", today)
    assert_bad_input(result, fragment)


# --- thresholds overrides ---------------------------------------------------------------------


def test_predose_with_program_thresholds(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, {"predose_systolic_hold": 150}, "t.json")
    result = cli(
        "safety",
        "predose",
        "--systolic",
        "150",
        "--diastolic",
        "80",
        "--thresholds",
        path,
        "--format",
        "json",
    )
    assert json.loads(result.out) == {"decision": "proceed", "reasons": []}
    result = cli(
        "safety",
        "predose",
        "--systolic",
        "151",
        "--diastolic",
        "80",
        "--thresholds",
        path,
        "--format",
        "json",
    )
    assert json.loads(result.out) == {"decision": "hold", "reasons": ["systolic 151 > 150"]}


def test_monitor_with_program_thresholds(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, {"alert_systolic": 170}, "t.json")
    result = cli("safety", "monitor", "--systolic", "170", "--thresholds", path, "--format", "json")
    assert [a["threshold"] for a in json.loads(result.out)["alerts"]] == [170]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"alert_sys": 170}, "--thresholds.alert_sys: unknown threshold"),
        ({"alert_systolic": 130}, "--thresholds.predose_systolic_hold: 140 must be below"),
        ([170], "--thresholds: must be a mapping"),
        (
            {"esketamine_min_observation_min": 60},
            "--thresholds.esketamine_min_observation_min: 60 is below the legal floor of 120 "
            "(Spravato REMS",
        ),
    ],
)
def test_bad_thresholds_file(cli: Cli, tmp_path: Path, data: Any, fragment: str) -> None:
    path = write(tmp_path, data, "t.json")
    result = cli(
        "safety", "predose", "--systolic", "120", "--diastolic", "80", "--thresholds", path
    )
    assert_bad_input(result, fragment)
