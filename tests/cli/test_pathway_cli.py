"""``trellis pathway plan|screen|adherence``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from trellis.core.protocols import load_protocol

Cli = Callable[..., Any]
KINDS = {"preparation", "dose", "integration", "peer_circle", "assessment", "follow_up"}


def assert_one_line_error(result: Any, *fragments: str) -> None:
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("trellis: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_plan_json_contract(cli: Cli) -> None:
    result = cli(
        "pathway", "plan", "--protocol", "iv-trd", "--start", "2026-03-02", "--format", "json"
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["protocol"] == "iv-trd"
    assert {"protocol", "activities"} <= set(data)
    acts = data["activities"]
    assert {a["kind"] for a in acts} == KINDS
    for a in acts:
        assert {"kind", "index", "earliest", "target", "latest", "after"} <= set(a)
        assert a["kind"] in KINDS
        e, t, lt = (date.fromisoformat(a[k]) for k in ("earliest", "target", "latest"))
        assert e <= t <= lt
        assert a["after"] is None or isinstance(a["after"], str)
    doses = [a for a in acts if a["kind"] == "dose"]
    assert [d["index"] for d in doses] == [1, 2, 3, 4, 5, 6]
    assert doses[1]["after"] == "dose:1"
    last_prep = max(date.fromisoformat(a["latest"]) for a in acts if a["kind"] == "preparation")
    assert last_prep < date.fromisoformat(doses[0]["earliest"])


def test_plan_adaptations_repeated_or_comma_separated(cli: Cli) -> None:
    one = cli(
        "pathway",
        "plan",
        "--protocol",
        "iv-trd",
        "--start",
        "2026-03-02",
        "--adapt",
        "medical-distrust,interpreter",
        "--format",
        "json",
    )
    two = cli(
        "pathway",
        "plan",
        "--protocol",
        "iv-trd",
        "--start",
        "2026-03-02",
        "--adapt",
        "interpreter",
        "--adapt",
        "medical-distrust",
        "--format",
        "json",
    )
    assert one.code == two.code == 0
    assert one.out == two.out
    data = json.loads(one.out)
    assert data["adaptations"] == ["interpreter", "medical-distrust"]
    preps = [a for a in data["activities"] if a["kind"] == "preparation"]
    assert len(preps) == load_protocol("iv-trd").preparation.count + 1
    assert all("interpreter" in a["needs"] for a in data["activities"])


def test_plan_with_clinic_calendar(cli: Cli) -> None:
    result = cli(
        "pathway",
        "plan",
        "--protocol",
        "esketamine-trd",
        "--start",
        "2026-03-02",
        "--open-days",
        "mon,tue,wed,thu,fri",
        "--closed",
        "2026-03-11",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    for a in json.loads(result.out)["activities"]:
        if a["kind"] == "dose":
            day = date.fromisoformat(a["target"])
            assert day.weekday() < 5
            assert day != date(2026, 3, 11)


def test_plan_text(cli: Cli) -> None:
    result = cli("pathway", "plan", "--protocol", "esketamine-suicidal", "--start", "2026-03-02")
    assert result.code == 0
    assert "esketamine-suicidal" in result.out
    assert "dose #1" in result.out


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--protocol", "iv-nope", "--start", "2026-03-02"], ["--protocol", "unknown protocol"]),
        (["--protocol", "iv-trd", "--start", "2026-02-30"], ["--start", "not a date"]),
        (["--protocol", "iv-trd", "--start", "tomorrow"], ["--start"]),
        (["--protocol", "iv-trd", "--start", "2026-03-02", "--adapt", "vip"], ["--adapt", "'vip'"]),
        (
            ["--protocol", "iv-trd", "--start", "2026-03-02", "--open-days", "mon,funday"],
            ["--open-days"],
        ),
        (["--protocol", "iv-trd", "--start", "2026-03-02", "--closed", "2026-03-99"], ["--closed"]),
        (
            ["--protocol", "iv-trd", "--start", "2026-03-02", "--open-days", "sun"],
            ["--open-days/--closed", "no open clinic day"],
        ),
        (["--start", "2026-03-02"], ["--protocol"]),
        (["--protocol", "iv-trd"], ["--start"]),
    ],
)
def test_plan_bad_input(cli: Cli, args: list[str], fragments: list[str]) -> None:
    assert_one_line_error(cli("pathway", "plan", *args, "--format", "json"), *fragments)


def test_plan_from_adapted_protocol_file(cli: Cli, tmp_path: Path) -> None:
    from importlib import resources

    text = resources.files("trellis.core").joinpath("data", "protocols", "iv-trd.yaml").read_text()
    path = tmp_path / "clinic-c-trd.yaml"
    path.write_text(text.replace("id: iv-trd", "id: clinic-c-trd").replace("count: 6", "count: 4"))
    result = cli(
        "pathway", "plan", "--protocol-file", str(path), "--start", "2026-03-02", "--format", "json"
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["protocol"] == "clinic-c-trd"
    assert len([a for a in data["activities"] if a["kind"] == "dose"]) == 4


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_screen(cli: Cli, tmp_path: Path) -> None:
    proto = load_protocol("esketamine-trd")
    answers = {i.id: False for i in proto.screening if i.age_below is None}
    ok = cli(
        "pathway",
        "screen",
        "--protocol",
        "esketamine-trd",
        "--answers",
        write(tmp_path, "a.json", answers),
        "--age",
        "40",
        "--format",
        "json",
    )
    assert ok.code == 0, ok.err
    assert json.loads(ok.out) == {
        "protocol": "esketamine-trd",
        "outcome": "eligible",
        "reasons": [],
        "can_start": True,
        "blocked_because": [],
    }
    minor = cli(
        "pathway",
        "screen",
        "--protocol",
        "esketamine-trd",
        "--answers",
        write(tmp_path, "a.json", answers),
        "--age",
        "16",
        "--format",
        "json",
    )
    data = json.loads(minor.out)
    assert (data["outcome"], data["can_start"]) == ("excluded", False)
    assert data["reasons"][0]["item"] == "age_under_18"

    bad = answers | {"telepathy": True}
    assert_one_line_error(
        cli(
            "pathway",
            "screen",
            "--protocol",
            "esketamine-trd",
            "--answers",
            write(tmp_path, "b.json", bad),
            "--age",
            "40",
        ),
        "--answers",
        "telepathy",
    )
    assert_one_line_error(
        cli(
            "pathway",
            "screen",
            "--protocol",
            "esketamine-trd",
            "--answers",
            write(tmp_path, "a.json", answers),
            "--age",
            "forty",
        ),
        "--age",
    )
    assert_one_line_error(
        cli(
            "pathway",
            "screen",
            "--protocol",
            "esketamine-trd",
            "--answers",
            str(tmp_path / "missing.json"),
            "--age",
            "40",
        ),
        "--answers",
        "no such file",
    )


def test_adherence(cli: Cli, tmp_path: Path) -> None:
    data = {
        "doses": [
            {"index": 1, "at": "2026-03-02T09:00:00+00:00"},
            {"index": 2, "at": "2026-03-05T09:00:00+00:00"},
        ],
        "integrations": [{"index": 1, "at": "2026-03-03T15:00:00Z"}],
    }
    result = cli(
        "pathway",
        "adherence",
        "--input",
        write(tmp_path, "e.json", data),
        "--now",
        "2026-03-10T09:00:00Z",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert set(out) == {"doses", "adherence_percent", "gaps"}
    assert [d["status"] for d in out["doses"]] == ["done_in_window", "missing"]
    assert out["adherence_percent"] == 50.0
    assert out["gaps"] == [{"dose_index": 2, "window_closed_at": "2026-03-08T09:00:00+00:00"}]

    assert_one_line_error(
        cli(
            "pathway",
            "adherence",
            "--input",
            write(tmp_path, "e.json", data),
            "--now",
            "2026-03-10T09:00:00",
        ),
        "--now",
        "time zone",
    )
    data["doses"][0]["at"] = "yesterday"
    assert_one_line_error(
        cli(
            "pathway",
            "adherence",
            "--input",
            write(tmp_path, "f.json", data),
            "--now",
            "2026-03-10T09:00:00Z",
        ),
        "--input",
        "doses[0].at",
    )
    assert_one_line_error(
        cli(
            "pathway",
            "adherence",
            "--input",
            write(tmp_path, "g.json", {"doses": []}),
            "--now",
            "2026-03-10T09:00:00Z",
            "--within-hours",
            "0",
        ),
        "--within-hours",
    )


def test_plan_dates_are_iso(cli: Cli) -> None:
    result = cli(
        "pathway", "plan", "--protocol", "iv-aud", "--start", "2026-12-28", "--format", "json"
    )
    acts = json.loads(result.out)["activities"]
    first = date.fromisoformat(next(a for a in acts if a["kind"] == "dose")["target"])
    prep = load_protocol("iv-aud").preparation
    assert first - date(2026, 12, 28) == timedelta(days=prep.count * prep.days_between)


def test_phase(cli: Cli, tmp_path: Path) -> None:
    events = [
        {"kind": "referred", "at": "2026-03-02T09:00:00Z"},
        {"kind": "screened", "at": "2026-03-03T09:00:00Z", "outcome": "eligible"},
        {"kind": "preparation_done", "at": "2026-03-04T09:00:00Z"},
    ]
    result = cli(
        "pathway",
        "phase",
        "--protocol",
        "iv-trd",
        "--events",
        write(tmp_path, "ev.json", events),
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"protocol": "iv-trd", "phase": "preparing"}
    bad = [{"kind": "dose_given", "at": "2026-03-02T09:00:00Z"}]
    assert_one_line_error(
        cli(
            "pathway", "phase", "--protocol", "iv-trd", "--events", write(tmp_path, "bad.json", bad)
        ),
        "--events",
        "dose_given during referred",
    )
    assert_one_line_error(
        cli(
            "pathway",
            "phase",
            "--protocol",
            "iv-trd",
            "--events",
            write(tmp_path, "obj.json", {"kind": "referred"}),
        ),
        "--events",
        "list",
    )


def test_booster(cli: Cli) -> None:
    result = cli(
        "pathway",
        "booster",
        "--protocol",
        "iv-trd",
        "--warning-date",
        "2026-05-04",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    acts = json.loads(result.out)["activities"]
    assert [(a["kind"], a["name"]) for a in acts] == [
        ("integration", "relapse-booster"),
        ("follow_up", "prescriber-review"),
    ]
    assert acts[0]["latest"] == "2026-05-07"  # within 72 h
    assert_one_line_error(
        cli("pathway", "booster", "--protocol", "iv-trd", "--warning-date", "May 4"),
        "--warning-date",
    )
