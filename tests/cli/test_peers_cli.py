"""``trellis peers match`` and ``trellis peers mentors``: JSON contract and bad input."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PATIENTS = [
    {
        "id": "p1",
        "language": "en",
        "track": "trd",
        "availability": [
            {"weekday": 1, "start": "17:00", "end": "21:00"},
            {"weekday": 3, "start": "09:00", "end": "12:00"},
        ],
        "identity_opt_in": [],
    },
    {
        "id": "p2",
        "language": "en",
        "track": "ptsd",
        "availability": [{"weekday": 1, "start": "17:00", "end": "21:00"}],
        "identity_opt_in": ["lgbtq+"],
    },
] + [
    {
        "id": f"s{i}",
        "language": "es",
        "track": "trd",
        "availability": [{"weekday": 2, "start": "18:00", "end": "20:00"}],
        "identity_opt_in": [],
    }
    for i in range(6)
]
CIRCLES = [
    {
        "id": "c1",
        "language": "en",
        "focus": None,
        "identity": None,
        "weekday": 1,
        "start": "18:00",
        "end": "19:30",
        "capacity": 10,
        "enrolled": 9,
    },
    {
        "id": "c2",
        "language": "en",
        "focus": "trd",
        "identity": None,
        "weekday": 3,
        "start": "10:00",
        "end": "11:30",
        "capacity": 8,
        "enrolled": 7,
    },
]


def write(tmp_path: Path, doc: Any, name: str = "in.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def test_match_json_contract(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = write(tmp_path, {"patients": PATIENTS, "circles": CIRCLES})
    result = cli("peers", "match", "--input", path, "--format", "json")
    assert (result.code, result.err) == (0, "")
    out = json.loads(result.out)
    assert list(out) == ["assignments", "waitlist", "suggested_circles"]
    # maximum placement: p1 moves to Thursday so that p2 gets the last Tuesday place
    assert out["assignments"] == {"p1": "c2", "p2": "c1"}
    assert out["waitlist"] == [f"s{i}" for i in range(6)]
    assert out["suggested_circles"] == [
        {
            "language": "es",
            "weekday": 2,
            "start": "18:00",
            "end": "19:30",
            "patients": [f"s{i}" for i in range(6)],
        }
    ]
    for s in out["suggested_circles"]:
        assert {"language", "weekday", "start", "patients"} <= set(s)


def test_match_is_independent_of_input_order(cli: Callable[..., Any], tmp_path: Path) -> None:
    a = write(tmp_path, {"patients": PATIENTS, "circles": CIRCLES}, "a.json")
    b = write(tmp_path, {"circles": CIRCLES[::-1], "patients": PATIENTS[::-1]}, "b.json")
    out_a = cli("peers", "match", "--input", a, "--format", "json").out
    out_b = cli("peers", "match", "--input", b, "--format", "json").out
    assert out_a == out_b


def test_match_options_and_stdin(cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"patients": PATIENTS, "circles": CIRCLES, "options": {"min_new_circle": 7}}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(doc)))
    result = cli("peers", "match", "--input", "-", "--format", "json")
    assert result.code == 0
    assert json.loads(result.out)["suggested_circles"] == []


def test_match_text(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = write(tmp_path, {"patients": PATIENTS, "circles": CIRCLES})
    result = cli("peers", "match", "--input", path)
    assert result.code == 0
    assert "Placed 2, waitlisted 6." in result.out
    assert "p1 → circle c2" in result.out
    assert "Suggest a new es circle Wed 18:00–19:30 for 6" in result.out


def bad_doc(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = json.loads(json.dumps({"patients": PATIENTS, "circles": CIRCLES}))
    change(doc)
    return doc


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            _set(["patients", 3, "availability", 0, "start"], "25:00"),
            "patients[3].availability[0].start",
        ),
        (_set(["patients", 0, "language"], 42), "patients[0].language"),
        (_set(["patients", 1, "id"], "p1"), "patients[1].id"),
        (_set(["circles", 1, "capacity"], 20), "circles[1].capacity"),
        (_set(["circles", 0, "enrolled"], 11), "circles[0].enrolled"),
        (_set(["circles", 0, "weekday"], 7), "circles[0].weekday"),
        (_set(["circles", 0, "end"], "17:00"), "circles[0].end"),
        (_set(["options"], {"min_new_circle": 0}), "options.min_new_circle"),
    ],
)
def test_match_bad_input(
    cli: Callable[..., Any], tmp_path: Path, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    path = write(tmp_path, bad_doc(change))
    result = cli("peers", "match", "--input", path, "--format", "json")
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"trellis: error: {field}: ")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "--input: "),
        ("[]", "must be an object"),
        ('{"patients": []}', "circles: is missing"),
    ],
)
def test_match_bad_file(cli: Callable[..., Any], tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content, encoding="utf-8")
    result = cli("peers", "match", "--input", str(path), "--format", "json")
    assert (result.code, result.out) == (2, "")
    assert len(result.err.splitlines()) == 1
    assert words in result.err


def test_match_missing_file_and_flag(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("peers", "match", "--input", str(tmp_path / "nope.json"))
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("trellis: error: --input: no such file")
    result = cli("peers", "match", "--format", "json")
    assert (result.code, result.out) == (2, "")
    assert len(result.err.splitlines()) == 1
    assert "--input" in result.err


def test_peers_without_action(cli: Callable[..., Any]) -> None:
    result = cli("peers")
    assert (result.code, result.out) == (2, "")
    assert result.err.strip() == "trellis: error: peers: choose an action: match or mentors"


MENTORS = {
    "mentors": [
        {
            "id": "m1",
            "language": "en",
            "track": "trd",
            "opted_in": True,
            "training_done": True,
            "finished_course": True,
            "current_mentees": 2,
        },
        {
            "id": "m2",
            "language": "en",
            "track": "ptsd",
            "opted_in": True,
            "training_done": False,
            "finished_course": True,
        },
    ],
    "mentees": [
        {"id": "e1", "language": "en", "track": "trd"},
        {"id": "e2", "language": "en", "track": "ptsd"},
    ],
}


def test_mentors_json(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = write(tmp_path, MENTORS)
    result = cli("peers", "mentors", "--input", path, "--format", "json")
    assert result.code == 0
    out = json.loads(result.out)
    assert list(out) == ["pairs", "unpaired", "ineligible_mentors"]
    assert out == {"pairs": {"e1": "m1"}, "unpaired": ["e2"], "ineligible_mentors": ["m2"]}
    text = cli("peers", "mentors", "--input", path).out
    assert "e1 ← mentor m1" in text
    assert "Not eligible" in text


def test_mentors_bad_input(cli: Callable[..., Any], tmp_path: Path) -> None:
    doc = json.loads(json.dumps(MENTORS))
    doc["mentors"][0]["current_mentees"] = 4
    result = cli("peers", "mentors", "--input", write(tmp_path, doc), "--format", "json")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        "trellis: error: mentors[0].current_mentees: must be between 0 and 3, got 4"
    ]
