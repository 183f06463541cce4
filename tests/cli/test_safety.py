"""CLI contract for ``trellis safety`` (predose, discharge, dose, monitor, rems-form)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]


def assert_bad_input(result: Any, field: str) -> None:
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("trellis: error: ")
    assert field in lines[0]


def write(tmp_path: Path, data: Any, name: str = "in.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


# --- predose ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "decision", "reasons"),
    [
        (["--systolic", "140", "--diastolic", "90"], "proceed", []),
        (["--systolic", "141", "--diastolic", "90"], "hold", ["systolic 141 > 140"]),
        (["--systolic", "140", "--diastolic", "91"], "hold", ["diastolic 91 > 90"]),
        (
            ["--systolic", "120", "--diastolic", "80", "--heart-rate", "111"],
            "hold",
            ["heart rate 111 > 110"],
        ),
        (
            ["--systolic", "120", "--diastolic", "80", "--heart-rate", "50", "--spo2", "92"],
            "proceed",
            [],
        ),
        (["--systolic", "120", "--diastolic", "80", "--spo2", "91"], "hold", ["SpO2 91 < 92"]),
    ],
)
def test_predose_json_contract(
    cli: Cli, args: list[str], decision: str, reasons: list[str]
) -> None:
    result = cli("safety", "predose", *args, "--format", "json")
    assert result.code == 0, result.err
    assert result.err == ""
    data = json.loads(result.out)
    assert list(data) == ["decision", "reasons"]
    assert data == {"decision": decision, "reasons": reasons}


def test_predose_text(cli: Cli) -> None:
    result = cli("safety", "predose", "--systolic", "150", "--diastolic", "80")
    assert result.code == 0
    assert result.out.startswith("HOLD: systolic 150 > 140")
    assert "override" in result.out
    assert (
        cli("safety", "predose", "--systolic", "130", "--diastolic", "80").out.strip() == "PROCEED"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--systolic", "abc", "--diastolic", "80"],
            '--systolic: must be a whole number from 40 to 300, got "abc"',
        ),
        (["--systolic", "120.5", "--diastolic", "80"], "--systolic: must be a whole number"),
        (
            ["--systolic", "²", "--diastolic", "80"],
            '--systolic: must be a whole number from 40 to 300, got "²"',
        ),
        (
            ["--systolic", "301", "--diastolic", "80"],
            "--systolic: must be a whole number from 40 to 300, got 301",
        ),
        (["--systolic", "120", "--diastolic", "-5"], "--diastolic: must be a whole number"),
        (["--systolic", "80", "--diastolic", "120"], "--diastolic: 120 must be below systolic 80"),
        (["--systolic", "120", "--diastolic", "80", "--heart-rate", "fast"], "--heart-rate"),
        (["--systolic", "120", "--diastolic", "80", "--spo2", "101"], "--spo2"),
        (["--diastolic", "80"], "--systolic"),
    ],
)
def test_predose_bad_input(cli: Cli, args: list[str], message: str) -> None:
    result = cli("safety", "predose", *args, "--format", "json")
    assert_bad_input(result, message)


def test_safety_without_subcommand_is_one_line(cli: Cli) -> None:
    assert_bad_input(cli("safety"), "SUBCOMMAND")


# --- discharge --------------------------------------------------------------------------------


def discharge_input(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "drug": "esketamine",
        "first_administration": "2026-03-02T09:00:00",
        "now": "2026-03-02T11:00:00",
        "moaas": 5,
        "predose_bp": [130, 80],
        "last_bp": [135, 85],
        "spo2": 96,
        "sedation_resolved": True,
        "dissociation_resolved": True,
        "respiratory_depression_resolved": True,
        "open_adverse_events": 0,
        "ride_confirmed": True,
        "bp_at_40_min": [148, 90],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def test_discharge_ready(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "safety", "discharge", "--input", write(tmp_path, discharge_input()), "--format", "json"
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert list(data)[:2] == ["ready", "unmet"]
    assert data["ready"] is True
    assert data["unmet"] == []


def test_discharge_not_ready_lists_criteria(cli: Cli, tmp_path: Path) -> None:
    data_in = discharge_input(now="2026-03-02T10:30:00", moaas=4, open_adverse_events=True)
    result = cli("safety", "discharge", "--input", write(tmp_path, data_in), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["ready"] is False
    assert data["unmet"] == ["minimum_observation", "moaas", "open_adverse_events"]
    assert set(data["details"]) == set(data["unmet"])


def test_discharge_esketamine_needs_bp_at_40_min(cli: Cli, tmp_path: Path) -> None:
    data_in = discharge_input(bp_at_40_min=...)
    result = cli("safety", "discharge", "--input", write(tmp_path, data_in), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["ready"] is False
    assert data["unmet"] == ["bp_at_40_min"]
    bad = cli(
        "safety",
        "discharge",
        "--input",
        write(tmp_path, discharge_input(bp_at_40_min=[150])),
        "--format",
        "json",
    )
    assert bad.code == 2
    assert bad.out == ""
    assert "bp_at_40_min" in bad.err


def test_discharge_ketamine(cli: Cli, tmp_path: Path) -> None:
    data_in = discharge_input(
        drug="ketamine", infusion_end="2026-03-02T09:40:00", now="2026-03-02T10:39:00"
    )
    data = json.loads(
        cli("safety", "discharge", "--input", write(tmp_path, data_in), "--format", "json").out
    )
    assert data["unmet"] == ["minimum_observation"]
    data_in["now"] = "2026-03-02T10:40:00"
    data = json.loads(
        cli("safety", "discharge", "--input", write(tmp_path, data_in), "--format", "json").out
    )
    assert data["ready"] is True


def test_discharge_text(cli: Cli, tmp_path: Path) -> None:
    result = cli("safety", "discharge", "--input", write(tmp_path, discharge_input(spo2=93)))
    assert result.code == 0
    assert "NOT READY" in result.out
    assert "spo2: SpO2 93; needs ≥ 94" in result.out


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"moaas": ...}, "moaas: is required"),
        ({"ride_confirmed": ..., "spo2": ...}, "spo2: is required (missing: spo2, ride_confirmed)"),
        ({"predose_bp": 130}, "predose_bp: must be [systolic, diastolic]"),
        ({"last_bp": [130, 80, 70]}, "last_bp: must be [systolic, diastolic]"),
        ({"drug": "ketamine"}, "infusion_end: is required for ketamine"),
        ({"drug": "lsd"}, "drug: must be one of esketamine, ketamine"),
        ({"now": "2026-03-02T11:00:00+00:00"}, "now: has a time-zone offset"),
        ({"now": "yesterday"}, "now: must be an ISO 8601 date-time"),
        ({"now": "2026-03-02T08:00:00"}, "now: is before first_administration"),
        ({"open_adverse_events": "two"}, "open_adverse_events: must be a count"),
        ({"open_adverse_events": -1}, "open_adverse_events"),
        ({"spo2": 96.5}, "spo2: must be a whole number"),
        ({"unexpected": 1}, "input.unexpected: unknown setting"),
    ],
)
def test_discharge_bad_input(
    cli: Cli, tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    result = cli(
        "safety",
        "discharge",
        "--input",
        write(tmp_path, discharge_input(**changes)),
        "--format",
        "json",
    )
    assert_bad_input(result, message)


def test_discharge_bad_files(cli: Cli, tmp_path: Path) -> None:
    assert_bad_input(
        cli("safety", "discharge", "--input", str(tmp_path / "nope.json")), "--input: no such file"
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert_bad_input(cli("safety", "discharge", "--input", str(broken)), "--input: ")
    assert_bad_input(
        cli("safety", "discharge", "--input", write(tmp_path, [1, 2])),
        "input: must be a JSON object",
    )
    assert_bad_input(cli("safety", "discharge"), "--input")


# --- dose -------------------------------------------------------------------------------------

DOSE_KEYS = [
    "drug",
    "route",
    "mg",
    "basis",
    "capped",
    "devices",
    "device_offsets_min",
    "device_times",
    "infusion_minutes",
    "infusion_end",
]


def test_dose_ketamine_capped(cli: Cli) -> None:
    result = cli(
        "safety",
        "dose",
        "--drug",
        "ketamine",
        "--weight",
        "120",
        "--max-mg",
        "50",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert list(data) == DOSE_KEYS
    assert (data["mg"], data["capped"], data["infusion_minutes"]) == (50.0, True, 40)


def test_dose_esketamine_first_dose_65_plus(cli: Cli) -> None:
    data = json.loads(
        cli("safety", "dose", "--drug", "esketamine", "--age", "65", "--format", "json").out
    )
    assert (data["mg"], data["devices"], data["device_offsets_min"]) == (28.0, 1, [0])
    data = json.loads(
        cli("safety", "dose", "--drug", "esketamine", "--age", "64", "--format", "json").out
    )
    assert (data["mg"], data["devices"], data["device_offsets_min"]) == (56.0, 2, [0, 5])


@pytest.mark.parametrize(
    ("args", "mg", "devices"),
    [
        (["--protocol", "iv-aud", "--weight", "90"], 72.0, None),  # 0.8 mg/kg (Grabski 2022)
        (["--protocol", "iv-trd", "--weight", "90", "--max-mg", "40"], 40.0, None),
        (["--protocol", "esketamine-suicidal", "--age", "30"], 84.0, 3),
        (["--protocol", "esketamine-trd", "--age", "70"], 28.0, 1),
        (
            [
                "--protocol",
                "esketamine-trd",
                "--age",
                "70",
                "--dose-number",
                "2",
                "--requested-mg",
                "28",
            ],
            28.0,
            1,
        ),
    ],
)
def test_dose_from_protocol_track(
    cli: Cli, args: list[str], mg: float, devices: int | None
) -> None:
    result = cli("safety", "dose", *args, "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["mg"], data["devices"]) == (mg, devices)


def test_dose_text(cli: Cli) -> None:
    result = cli("safety", "dose", "--drug", "ketamine", "--weight", "72.5")
    assert (
        result.out.strip()
        == "ketamine iv 36.3 mg: 0.5 mg/kg × 72.5 kg = 36.3 mg; infuse over 40 min"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--drug", "esketamine", "--age", "40", "--dose-number", "3", "--requested-mg", "70"],
            "--requested-mg: 70 mg is not a multiple of the 28 mg device",
        ),
        (
            ["--drug", "esketamine", "--age", "40", "--dose-number", "3", "--requested-mg", "112"],
            "--requested-mg: 112 mg is above the track maximum 84 mg",
        ),
        (
            ["--drug", "esketamine", "--age", "40", "--dose-number", "2"],
            "--requested-mg: is required",
        ),
        (["--drug", "esketamine"], "--age: is required"),
        (["--drug", "esketamine", "--age", "17"], "--age: esketamine is not approved under 18"),
        (["--protocol", "iv-nope", "--weight", "80"], "--protocol: unknown protocol 'iv-nope'"),
        (["--protocol", "iv-trd", "--drug", "ketamine"], "--drug: give either"),
        (["--weight", "80"], "--protocol: give a protocol track id"),
        (["--protocol", "esketamine-trd", "--age", "40", "--max-mg", "60"], "--max-mg: applies"),
        (
            [
                "--protocol",
                "esketamine-trd",
                "--age",
                "60",
                "--dose-number",
                "2",
                "--requested-mg",
                "28",
            ],
            "--requested-mg: 28 mg is not an allowed dose on this track (56, 84 mg)",
        ),
        (["--drug", "ketamine"], "--weight: is required"),
        (["--drug", "ketamine", "--weight", "25"], "--weight: must be a number from 30 to 300 kg"),
        (["--drug", "ketamine", "--weight", "heavy"], "--weight"),
        (
            ["--drug", "ketamine", "--weight", "80", "--requested-mg", "45"],
            "--requested-mg: 45 mg is above 0.5 mg/kg × 80 kg = 40 mg",
        ),
        (["--drug", "ketamine", "--weight", "80", "--max-mg", "x"], "--max-mg"),
        (["--drug", "psilocybin"], "--drug"),
        (["--drug", "esketamine", "--age", "40", "--dose-number", "0"], "--dose-number"),
    ],
)
def test_dose_bad_input(cli: Cli, args: list[str], message: str) -> None:
    assert_bad_input(cli("safety", "dose", *args, "--format", "json"), message)


# --- monitor ----------------------------------------------------------------------------------


def test_monitor_alerts(cli: Cli) -> None:
    result = cli(
        "safety",
        "monitor",
        "--systolic",
        "180",
        "--diastolic",
        "100",
        "--moaas",
        "4",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data == {
        "alerts": [
            {
                "parameter": "systolic",
                "value": 180,
                "threshold": 180,
                "message": "systolic 180 ≥ 180",
            }
        ]
    }
    assert cli("safety", "monitor", "--spo2", "92").out.strip() == "no alerts"


def test_monitor_bad_input(cli: Cli) -> None:
    assert_bad_input(
        cli("safety", "monitor", "--moaas", "6"), "--moaas: must be a whole number from 0 to 5"
    )


# --- rems-form --------------------------------------------------------------------------------


def session(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "session_id": "S-1",
        "patient": "SYN-0001",
        "setting": "Synthetic Clinic",
        "monitoring_hcp": "RN Synthetic",
        "dose_mg": 56,
        "lot_number": "LOT-1",
        "first_device_at": "2026-03-02T09:00:00",
        "monitoring_end_at": "2026-03-02T11:00:00",
        "ready_to_leave_at": "2026-03-02T10:30:00",
        "concomitant_medicines": ["stimulants"],
        "bp_readings": [
            {"at": "2026-03-02T08:55:00", "bp": [126, 80]},
            {"at": "2026-03-02T09:40:00", "bp": [140, 88]},
            {"at": "2026-03-02T10:55:00", "bp": [128, 80]},
        ],
        "vitals_acceptable_before": True,
        "vitals_acceptable_at_end": True,
        "sedation": False,
        "dissociation": False,
        "respiratory_depression": False,
        "adverse_events": [],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def test_rems_form_complete(cli: Cli, tmp_path: Path) -> None:
    result = cli("safety", "rems-form", "--input", write(tmp_path, session()), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert list(data) == ["form", "missing", "problems", "prefilled", "due_date", "can_sign"]
    assert data["missing"] == []
    assert data["can_sign"] is True
    assert data["due_date"] == "2026-03-09"
    assert data["form"]["bp_at_40_min"] == "140/88"
    assert data["form"]["concomitant_stimulants"] == "Y"


def test_rems_form_carry_over_and_problems(cli: Cli, tmp_path: Path) -> None:
    first = cli("safety", "rems-form", "--input", write(tmp_path, session()), "--format", "json")
    prev = write(tmp_path, json.loads(first.out), "prev.json")
    second = session(
        session_id="S-2",
        patient=...,
        setting=...,
        concomitant_medicines=...,
        monitoring_hcp=...,
        monitoring_end_at="2026-03-02T10:50:00",
    )
    result = cli(
        "safety",
        "rems-form",
        "--input",
        write(tmp_path, second),
        "--previous",
        prev,
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["form"]["patient"] == "SYN-0001"
    assert data["form"]["concomitant_stimulants"] == "Y"
    assert data["missing"] == ["monitoring_hcp"]  # 10:55 BP is within 5 min after the end
    assert data["can_sign"] is False
    assert data["problems"] == ["monitoring 110 min < 120 min (REMS minimum)"]
    assert "patient" in data["prefilled"]


def test_rems_form_bad_input(cli: Cli, tmp_path: Path) -> None:
    assert_bad_input(
        cli("safety", "rems-form", "--input", write(tmp_path, session(dose_mg="56"))), "dose_mg"
    )
    assert_bad_input(
        cli(
            "safety",
            "rems-form",
            "--input",
            write(tmp_path, session()),
            "--previous",
            str(tmp_path / "x.json"),
        ),
        "--previous: no such file",
    )


def test_discharge_checks_respiratory_depression(cli: Cli, tmp_path: Path) -> None:
    """CLINICAL.md §5: respiratory depression resolved is a discharge criterion; the input key
    is required like sedation and dissociation."""
    data = discharge_input(respiratory_depression_resolved=False)
    result = cli("safety", "discharge", "--input", write(tmp_path, data), "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["unmet"] == ["respiratory_depression_resolved"]
    missing = discharge_input(respiratory_depression_resolved=...)
    result = cli("safety", "discharge", "--input", write(tmp_path, missing), "--format", "json")
    assert result.code == 2
    assert result.out == ""
    assert "respiratory_depression_resolved" in result.err


@pytest.mark.parametrize("typo", ["+120", "1_20", "١٢٠"])
def test_vital_signs_take_ascii_digits_only(cli: Cli, typo: str) -> None:
    """Issue 18: a vital sign with a sign, an underscore or non-ASCII digits is a typo."""
    result = cli("safety", "predose", "--systolic", typo, "--diastolic", "80")
    assert result.code == 2
    assert result.out == ""
    assert "--systolic" in result.err
