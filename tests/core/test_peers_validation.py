"""Validation of the matching document: every bad value names its JSON path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from trellis.core.errors import InvalidInput
from trellis.core.peers import parse_match_input, parse_time

GOOD: dict[str, Any] = {
    "patients": [
        {
            "id": "p1",
            "language": "en",
            "track": "trd",
            "availability": [{"weekday": 1, "start": "17:00", "end": "21:00"}],
            "identity_opt_in": ["lgbtq+"],
        },
        {
            "id": "p2",
            "language": "es",
            "track": "ptsd",
            "availability": [
                {"weekday": 0, "start": "09:00", "end": "12:00"},
                {"weekday": 6, "start": "20:00", "end": "24:00"},
            ],
        },
    ],
    "circles": [
        {
            "id": "c1",
            "language": "en",
            "focus": "trd",
            "identity": None,
            "weekday": 1,
            "start": "18:00",
            "end": "19:30",
            "capacity": 10,
            "enrolled": 4,
            "start_date": "2026-03-03",
        }
    ],
    "options": {"min_new_circle": 6, "length_minutes": 90},
}


def test_good_document_parses() -> None:
    inst = parse_match_input(GOOD)
    assert [p.id for p in inst.patients] == ["p1", "p2"]
    assert inst.patients[1].availability[1].end == 24 * 60
    assert inst.circles[0].room == 6
    assert inst.circles[0].start_date is not None
    assert inst.circles[0].start_date.isoformat() == "2026-03-03"


def with_change(path: list[Any], value: Any, delete: bool = False) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


P = ["patients", 0]
C = ["circles", 0]
W = [*P, "availability", 0]


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        (
            [*W, "start"],
            "25:00",
            "patients[0].availability[0].start",
            'HH:MM (00:00–23:59), got "25:00"',
        ),
        ([*W, "start"], "7:00", "patients[0].availability[0].start", "HH:MM"),
        ([*W, "start"], "24:00", "patients[0].availability[0].start", "HH:MM"),
        ([*W, "end"], "17:00", "patients[0].availability[0].end", "after start 17:00"),
        ([*W, "end"], "16:00", "patients[0].availability[0].end", "after start"),
        ([*W, "end"], 1800, "patients[0].availability[0].end", "HH:MM"),
        ([*W, "weekday"], 7, "patients[0].availability[0].weekday", "0–6"),
        ([*W, "weekday"], -1, "patients[0].availability[0].weekday", "0–6"),
        ([*W, "weekday"], True, "patients[0].availability[0].weekday", "0–6"),
        ([*W, "weekday"], "1", "patients[0].availability[0].weekday", "0–6"),
        ([*W, "day"], 1, "patients[0].availability[0]", 'unknown key "day"'),
        ([*P, "availability"], {}, "patients[0].availability", "must be a list"),
        ([*P, "id"], "", "patients[0].id", "non-empty string"),
        ([*P, "id"], 7, "patients[0].id", "non-empty string"),
        (["patients", 1, "id"], "p1", "patients[1].id", 'duplicate patient id "p1"'),
        ([*P, "language"], "english!", "patients[0].language", "language tag"),
        ([*P, "language"], None, "patients[0].language", "language tag"),
        ([*P, "track"], "", "patients[0].track", "non-empty"),
        ([*P, "identity_opt_in"], "lgbtq+", "patients[0].identity_opt_in", "must be a list"),
        ([*P, "identity_opt_in"], [3], "patients[0].identity_opt_in[0]", "non-empty string"),
        ([*P, "identity_optin"], [], "patients[0]", 'unknown key "identity_optin"'),
        (["patients", 0], "p1", "patients[0]", "must be an object"),
        (["patients"], {}, "patients", "must be a list"),
        ([*C, "capacity"], 13, "circles[0].capacity", "between 1 and 12"),
        ([*C, "capacity"], 0, "circles[0].capacity", "between 1 and 12"),
        ([*C, "capacity"], 9.5, "circles[0].capacity", "whole number"),
        ([*C, "enrolled"], 11, "circles[0].enrolled", "between 0 and 10"),
        ([*C, "enrolled"], -1, "circles[0].enrolled", "between 0 and 10"),
        ([*C, "weekday"], 9, "circles[0].weekday", "0–6"),
        ([*C, "start"], "18:60", "circles[0].start", "HH:MM"),
        ([*C, "end"], "18:00", "circles[0].end", "after start 18:00"),
        ([*C, "focus"], 5, "circles[0].focus", "non-empty string"),
        ([*C, "identity"], "", "circles[0].identity", "non-empty string"),
        ([*C, "start_date"], "03/03/2026", "circles[0].start_date", "ISO date"),
        ([*C, "start_date"], 20260303, "circles[0].start_date", "ISO date"),
        ([*C, "language"], "", "circles[0].language", "language tag"),
        ([*C, "room"], 3, "circles[0]", 'unknown key "room"'),
        (["options", "min_new_circle"], 1, "options.min_new_circle", "between 2 and 12"),
        (["options", "min_new_circle"], 13, "options.min_new_circle", "between 2 and 12"),
        (["options", "length_minutes"], 20, "options.length_minutes", "between 30 and 240"),
        (["options", "max_new_circle"], 20, "options.max_new_circle", "between 2 and 12"),
        (["options", "size"], 3, "options", 'unknown key "size"'),
        (["options"], [], "options", "must be an object"),
        (["extra"], 1, "input", 'unknown key "extra"'),
    ],
)
def test_bad_value_names_field(path: list[Any], value: Any, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_match_input(with_change(path, value))
    assert info.value.field == field
    assert words in info.value.detail


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ([*P, "id"], "patients[0].id"),
        ([*P, "language"], "patients[0].language"),
        ([*P, "availability"], "patients[0].availability"),
        ([*W, "end"], "patients[0].availability[0].end"),
        ([*C, "capacity"], "circles[0].capacity"),
        ([*C, "weekday"], "circles[0].weekday"),
        (["circles"], "circles"),
        (["patients"], "patients"),
    ],
)
def test_missing_field(path: list[Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_match_input(with_change(path, None, delete=True))
    assert (info.value.field, info.value.detail) == (field, "is missing")


def test_optional_fields_default() -> None:
    doc = copy.deepcopy(GOOD)
    for key in ("focus", "identity", "enrolled", "start_date"):
        del doc["circles"][0][key]
    del doc["options"]
    inst = parse_match_input(doc)
    c = inst.circles[0]
    assert (c.focus, c.identity, c.enrolled, c.start_date) == (None, None, 0, None)
    assert inst.options.min_new_circle == 6


def test_min_above_max_new_circle() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_match_input(with_change(["options"], {"min_new_circle": 9, "max_new_circle": 8}))
    assert info.value.field == "options.min_new_circle"


def test_top_level_must_be_object() -> None:
    with pytest.raises(InvalidInput, match="must be an object"):
        parse_match_input([1, 2])


@pytest.mark.parametrize(
    ("text", "is_end", "minutes"),
    [("00:00", False, 0), ("09:30", False, 570), ("23:59", False, 1439), ("24:00", True, 1440)],
)
def test_parse_time(text: str, is_end: bool, minutes: int) -> None:
    assert parse_time(text, "t", is_end=is_end) == minutes


@pytest.mark.parametrize("text", ["24:01", "12:5", "1230", " 12:30", "ab:cd", "-1:00"])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_time(text, "t", is_end=True)
