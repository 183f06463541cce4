"""Circle window, connection index and the packaged defaults (CLINICAL.md §7)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.peers import circle_window, connection_index, episode_connection, load_defaults
from trellis.core.peers.defaults import parse_defaults

MON = date(2026, 3, 2)


def test_circle_window_default_is_week_two_for_eight_weeks() -> None:
    # §7 ★: 8 weeks from week 2 of dosing; week 1 starts on the first dose
    assert circle_window(MON) == (date(2026, 3, 9), date(2026, 5, 3))
    start, end = circle_window(MON)
    assert (end - start).days + 1 == 56


@pytest.mark.parametrize(
    ("from_week", "weeks", "expected"),
    [(1, 1, (MON, MON + timedelta(days=6))), (3, 2, (date(2026, 3, 16), date(2026, 3, 29)))],
)
def test_circle_window_arguments(from_week: int, weeks: int, expected: Any) -> None:
    assert circle_window(MON, from_week=from_week, weeks=weeks) == expected


@pytest.mark.parametrize(
    ("kw", "field"), [({"from_week": 0}, "from_week"), ({"weeks": 0}, "weeks")]
)
def test_circle_window_rejects(kw: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        circle_window(MON, **kw)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("planned", "attended", "index"),
    [(0, 0, None), (8, 0, 0.0), (8, 6, 0.75), (8, 8, 1.0), (3, 1, 1 / 3)],
)
def test_connection_index_table(planned: int, attended: int, index: float | None) -> None:
    assert connection_index(planned, attended) == index


@pytest.mark.parametrize(
    ("planned", "attended", "field"),
    [
        (2, 3, "attended"),
        (-1, 0, "planned_meetings"),
        (1, -1, "attended"),
        (True, 0, "planned_meetings"),
    ],
)
def test_connection_index_rejects(planned: Any, attended: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        connection_index(planned, attended)
    assert info.value.field == field


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 50), st.data())
def test_connection_index_in_range(planned: int, data: st.DataObject) -> None:
    attended = data.draw(st.integers(0, planned))
    index = connection_index(planned, attended)
    if planned == 0:
        assert index is None
    else:
        assert index is not None
        assert 0.0 <= index <= 1.0


def test_episode_counts_only_meetings_up_to_as_of() -> None:
    meetings = [MON + timedelta(weeks=k) for k in range(8)]
    attended = [meetings[0], meetings[2]]
    contacts = [MON, MON + timedelta(days=40)]
    summary = episode_connection(
        meetings, attended, as_of=meetings[3], mentor_contact_dates=contacts
    )
    assert (summary.planned, summary.attended, summary.index, summary.mentor_contacts) == (
        4,
        2,
        0.5,
        1,
    )
    assert summary.to_dict() == {
        "as_of": "2026-03-23",
        "planned": 4,
        "attended": 2,
        "connection_index": 0.5,
        "mentor_contacts": 1,
    }
    # before the first meeting: nothing planned yet, so no index (not zero)
    assert episode_connection(meetings, [], as_of=MON - timedelta(days=1)).index is None


def test_episode_rejects_stray_or_future_attendance() -> None:
    meetings = [MON, MON + timedelta(weeks=1)]
    with pytest.raises(InvalidInput, match="not a planned circle meeting"):
        episode_connection(meetings, [MON + timedelta(days=1)], as_of=MON + timedelta(weeks=2))
    with pytest.raises(InvalidInput, match="after the as-of date"):
        episode_connection(meetings, [meetings[1]], as_of=MON)


def test_packaged_defaults_match_clinical_section_7() -> None:
    d = load_defaults()
    assert (d.max_participants, d.min_new_circle, d.meeting_minutes) == (12, 6, 90)
    assert (d.from_week, d.weeks, d.max_mentees) == (2, 8, 3)
    assert "§7" in d.source


GOOD_DEFAULTS = {
    "source": "CLINICAL.md §7",
    "circle": {
        "max_participants": 12,
        "min_new_circle": 6,
        "meeting_minutes": 90,
        "slot_step_minutes": 30,
    },
    "enrolment": {"from_week": 2, "weeks": 8},
    "mentors": {"max_mentees": 3},
}


@pytest.mark.parametrize(
    ("section", "key", "value", "field"),
    [
        ("circle", "max_participants", 13, "x.yaml: circle.max_participants"),
        ("circle", "min_new_circle", "six", "x.yaml: circle.min_new_circle"),
        ("circle", "slot_step_minutes", 7, "x.yaml: circle.slot_step_minutes"),
        ("circle", "extra", 1, "x.yaml: circle"),
        ("enrolment", "weeks", 0, "x.yaml: enrolment.weeks"),
        ("mentors", "max_mentees", None, "x.yaml: mentors.max_mentees"),
    ],
)
def test_defaults_validation_names_file_and_key(
    section: str, key: str, value: Any, field: str
) -> None:
    doc = yaml.safe_load(yaml.safe_dump(GOOD_DEFAULTS))
    assert parse_defaults(doc, "x.yaml").max_participants == 12
    doc[section][key] = value
    with pytest.raises(InvalidInput) as info:
        parse_defaults(doc, "x.yaml")
    assert info.value.field == field


def test_defaults_min_above_cap() -> None:
    doc = yaml.safe_load(yaml.safe_dump(GOOD_DEFAULTS))
    doc["circle"]["max_participants"] = 8
    doc["circle"]["min_new_circle"] = 9
    with pytest.raises(InvalidInput, match="above circle.max_participants"):
        parse_defaults(doc, "x.yaml")
