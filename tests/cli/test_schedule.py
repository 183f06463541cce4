"""`trellis schedule …` CLI contracts: generate, solve, verify, bound, repair."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trellis.core.scheduling.examples import tiny_instance, tiny_plan


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    inst, plan = tmp_path / "instance.json", tmp_path / "plan.json"
    inst.write_text(json.dumps(tiny_instance()))
    plan.write_text(json.dumps(tiny_plan()))
    return {"instance": str(inst), "plan": str(plan), "dir": str(tmp_path)}


def _bad(result: Any, field: str) -> None:
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("trellis: error: ")
    assert field in lines[0]


def test_generate_writes_a_seeded_instance(cli: Callable[..., Any], tmp_path: Path) -> None:
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    args = (
        "--days",
        "14",
        "--chairs",
        "2",
        "--nurses",
        "1",
        "--therapists",
        "2",
        "--patients",
        "9",
    )
    r = cli("schedule", "generate", "--seed", "5", *args, "--out", str(out1), "--format", "json")
    assert r.code == 0, r.err
    summary = json.loads(r.out)
    assert summary["patients"] == 9
    assert summary["out"] == str(out1)
    cli("schedule", "generate", "--seed", "5", *args, "--out", str(out2))
    assert out1.read_text() == out2.read_text()
    data = json.loads(out1.read_text())
    assert len(data["patients"]) == 9
    assert data["days"] == 14


def test_verify_valid_plan_json_keys(cli: Callable[..., Any], files: dict[str, str]) -> None:
    r = cli("schedule", "verify", files["instance"], files["plan"], "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert {"valid", "violations", "courses_complete", "patients"} <= set(data)
    assert data["valid"] is True
    assert data["violations"] == []
    assert data["courses_complete"] == 2
    assert data["patients"] == 3


def test_verify_invalid_plan_exits_1_and_lists_violations(
    cli: Callable[..., Any], files: dict[str, str]
) -> None:
    plan = tiny_plan()
    plan["appointments"].pop()  # B's last integration
    Path(files["plan"]).write_text(json.dumps(plan))
    r = cli("schedule", "verify", files["instance"], files["plan"], "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    assert data["valid"] is False
    assert [v["constraint"] for v in data["violations"]] == ["partial_course"]
    assert data["violations"][0]["patient"] == "B"
    assert data["courses_complete"] == 1
    text = cli("schedule", "verify", files["instance"], files["plan"])
    assert text.code == 1
    assert "INVALID" in text.out
    assert "partial_course" in text.out


@pytest.mark.parametrize("method", ["greedy", "cpsat"])
def test_solve_writes_a_plan_that_verifies(
    cli: Callable[..., Any], files: dict[str, str], method: str
) -> None:
    out = str(Path(files["dir"]) / f"{method}.json")
    r = cli(
        "schedule",
        "solve",
        files["instance"],
        "--method",
        method,
        "--time-limit",
        "5",
        "--out",
        out,
        "--format",
        "json",
    )
    assert r.code == 0, r.err
    summary = json.loads(r.out)
    assert summary["valid"] is True
    assert summary["method"] == method
    plan = json.loads(Path(out).read_text())
    assert {"status", "objective", "bound", "solve_seconds", "appointments"} <= set(plan)
    assert plan["status"] in ("optimal", "feasible", "heuristic")
    first = plan["appointments"][0]
    assert {"patient", "kind", "index", "start", "room", "staff"} <= set(first)
    v = cli("schedule", "verify", files["instance"], out, "--format", "json")
    assert v.code == 0
    assert json.loads(v.out)["courses_complete"] == summary["courses_complete"]


def test_bound_json(cli: Callable[..., Any], files: dict[str, str]) -> None:
    r = cli("schedule", "bound", files["instance"], "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert {"bound", "method"} <= set(data)
    assert isinstance(data["bound"], int)
    assert data["method"] in ("capacity-knapsack", "day-master-mip")
    assert 2 <= data["bound"] <= 3  # the hand plan books 2 of 3 courses


def test_repair_moves_only_the_patient(cli: Callable[..., Any], files: dict[str, str]) -> None:
    out = str(Path(files["dir"]) / "repaired.json")
    r = cli(
        "schedule",
        "repair",
        files["instance"],
        files["plan"],
        "--patient",
        "B",
        "--appointment",
        "dose#2",
        "--out",
        out,
        "--format",
        "json",
    )
    assert r.code == 0, r.err
    summary = json.loads(r.out)
    assert summary["changed"] == ["dose#2"]
    assert summary["valid"] is True
    new = json.loads(Path(out).read_text())["appointments"]
    old = tiny_plan()["appointments"]

    def key(a: dict[str, Any]) -> tuple[Any, ...]:
        return (a["patient"], a["kind"], a["index"], a["start"], a["room"], tuple(a["staff"]))

    assert {key(a) for a in old if a["patient"] != "B"} == {
        key(a) for a in new if a["patient"] != "B"
    }


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("generate", "--seed", "x", "--out", "-"), "--seed"),
        (("generate", "--seed", "1", "--chairs", "0", "--out", "-"), "--chairs"),
        (("solve", "missing.json", "--method", "greedy", "--out", "-"), "INSTANCE"),
        (
            ("solve", "{instance}", "--method", "greedy", "--time-limit", "soon", "--out", "-"),
            "--time-limit",
        ),
        (("solve", "{instance}", "--method", "magic", "--out", "-"), "--method"),
        (("verify", "{instance}", "missing.json"), "PLAN"),
        (("verify", "{broken}", "{plan}"), "patients[0].track"),
        (("verify", "{instance}", "{badplan}"), "appointments[0].start"),
        (
            (
                "repair",
                "{instance}",
                "{plan}",
                "--patient",
                "B",
                "--appointment",
                "dose",
                "--out",
                "-",
            ),
            "--appointment",
        ),
        (("repair", "{instance}", "{plan}", "--patient", "nobody", "--out", "-"), "patient"),
        (("bound", "{notjson}"), "INSTANCE"),
        ((), "schedule"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    cli: Callable[..., Any], files: dict[str, str], args: tuple[str, ...], field: str
) -> None:
    d = Path(files["dir"])
    broken = tiny_instance()
    broken["patients"][0]["track"] = "unknown-track"
    (d / "broken.json").write_text(json.dumps(broken))
    badplan = tiny_plan()
    badplan["appointments"][0]["start"] = "Monday morning"
    (d / "badplan.json").write_text(json.dumps(badplan))
    (d / "notjson.json").write_text("{nope")
    paths = {
        **files,
        "broken": str(d / "broken.json"),
        "badplan": str(d / "badplan.json"),
        "notjson": str(d / "notjson.json"),
    }
    result = cli("schedule", *(a.format(**paths) for a in args))
    _bad(result, field)


def test_bound_json_is_the_only_thing_on_stdout(files: dict[str, str]) -> None:
    """The MIP solver writes to the process's stdout from C++ unless told not to; run the real
    command in a child process so that such output would be caught."""
    import subprocess
    import sys

    code = "import sys; from trellis.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run(
        [sys.executable, "-c", code, "schedule", "bound", files["instance"], "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["method"] in ("capacity-knapsack", "day-master-mip")


def test_generate_with_windows_gives_care_plan_windows_that_plans_keep(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    inst, plan = tmp_path / "w.json", tmp_path / "p.json"
    r = cli(
        "schedule", "generate", "--seed", "4", "--patients", "12", "--windows", "--out", str(inst)
    )
    assert r.code == 0, r.err
    data = json.loads(inst.read_text())
    assert all(p["windows"] for p in data["patients"])
    r = cli("schedule", "solve", str(inst), "--method", "greedy", "--out", str(plan))
    assert r.code == 0, r.err
    r = cli("schedule", "verify", str(inst), str(plan), "--format", "json")
    assert r.code == 0, r.out
    assert json.loads(r.out)["valid"]


def test_verify_names_a_session_outside_its_care_plan_window(
    cli: Callable[..., Any], files: dict[str, str]
) -> None:
    data = tiny_instance()
    data["patients"][0]["windows"] = [{"kind": "dose", "index": 2, "earliest": "2026-02-04"}]
    Path(files["instance"]).write_text(json.dumps(data))
    r = cli("schedule", "verify", files["instance"], files["plan"], "--format", "json")
    assert r.code == 1
    (violation,) = json.loads(r.out)["violations"]
    assert violation["constraint"] == "outside_pathway_window"
    assert violation["appointment"] == "A/dose#2"
