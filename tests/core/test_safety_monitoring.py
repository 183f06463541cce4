"""Monitoring alerts and the vitals schedule (CLINICAL.md §4, §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.safety import Observation, SafetyThresholds, monitoring_alerts, vitals_due


@pytest.mark.parametrize(
    ("observation", "expected"),
    [
        (Observation(systolic=179, diastolic=100), []),
        (Observation(systolic=180, diastolic=100), [("systolic", 180, 180)]),
        (Observation(systolic=170, diastolic=109), []),
        (Observation(systolic=170, diastolic=110), [("diastolic", 110, 110)]),
        (Observation(heart_rate=110), []),
        (Observation(heart_rate=111), [("heart_rate", 111, 110)]),
        (Observation(heart_rate=50), []),
        (Observation(heart_rate=49), [("heart_rate", 49, 50)]),
        (Observation(spo2=92), []),
        (Observation(spo2=91), [("spo2", 91, 92)]),
        (Observation(moaas=4), []),
        (Observation(moaas=3), [("moaas", 3, 3)]),
        (Observation(moaas=0), [("moaas", 0, 3)]),
        (Observation(dissociation="severe", cadss_total=60), []),  # no published bands
        (Observation(), []),
    ],
)
def test_alert_boundaries(observation: Observation, expected: list[tuple[str, int, int]]) -> None:
    alerts = monitoring_alerts(observation)
    assert [(a.parameter, a.value, a.threshold) for a in alerts] == expected


def test_alert_messages_name_the_threshold() -> None:
    obs = Observation(systolic=185, diastolic=112, heart_rate=120, spo2=88, moaas=2)
    messages = [a.message for a in monitoring_alerts(obs)]
    assert messages == [
        "systolic 185 ≥ 180",
        "diastolic 112 ≥ 110",
        "heart rate 120 > 110",
        "SpO2 88 < 92",
        "MOAA/S 2 ≤ 3",
    ]


def test_configured_alert_thresholds() -> None:
    t = SafetyThresholds.from_mapping({"alert_systolic": 170, "alert_spo2_low": 90})
    assert [a.parameter for a in monitoring_alerts(Observation(systolic=170, spo2=91), t)] == [
        "systolic"
    ]


@settings(max_examples=200)
@given(hr=st.integers(20, 250), spo2=st.integers(50, 100), moaas=st.integers(0, 5))
def test_alert_iff_out_of_range(hr: int, spo2: int, moaas: int) -> None:
    params = {
        a.parameter for a in monitoring_alerts(Observation(heart_rate=hr, spo2=spo2, moaas=moaas))
    }
    assert ("heart_rate" in params) == (hr > 110 or hr < 50)
    assert ("spo2" in params) == (spo2 < 92)
    assert ("moaas" in params) == (moaas <= 3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"systolic": 301}, "systolic"),
        ({"moaas": 6}, "moaas"),
        ({"cadss_total": 93}, "cadss_total"),
        ({"dissociation": "lots"}, "dissociation"),
        ({"systolic": 80, "diastolic": 90}, "diastolic"),
        ({"spo2": 97.5}, "spo2"),
    ],
)
def test_observation_refuses_bad_values(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Observation(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


# --- vitals schedule --------------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 0)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("recorded", "now", "due", "label", "overdue"),
    [
        ([], -10, 0, "pre-dose", False),
        ([], 1, 0, "pre-dose", True),
        ([-5], 3, 15, "every 15 min", False),
        ([-5, 15], 20, 30, "every 15 min", False),
        ([-5, 15, 30], 31, 40, "40 min BP", False),  # the 40-min point comes before 45
        ([-5, 15, 30], 41, 40, "40 min BP", True),
        ([-5, 15, 30, 36], 37, 51, "every 15 min", False),  # 36 is within 5 min of 40
        ([-5, 15, 30, 40], 50, 55, "every 15 min", False),
        ([-5, 15, 30, 40, 55, 70, 85, 100, 110], 111, 120, "before discharge", False),
        ([-5, 15, 30, 40, 55, 70, 85, 100, 115], 116, 130, "every 15 min", False),
        ([-5, 15, 30, 40, 55, 70, 85, 100, 115, 130], 150, 145, "every 15 min", True),
    ],
)
def test_esketamine_schedule(
    recorded: list[int], now: int, due: int, label: str, overdue: bool
) -> None:
    result = vitals_due("esketamine", T0, None, at(now), [at(m) for m in recorded])
    assert (result.due_at, result.label, result.overdue) == (at(due), label, overdue)


@pytest.mark.parametrize(
    ("recorded", "end", "now", "due", "label"),
    [
        ([], 40, -1, 0, "pre-dose"),
        ([0], 40, 1, 10, "during infusion (every 10 min)"),
        ([0, 10, 20], 40, 25, 30, "during infusion (every 10 min)"),
        ([0, 10, 20, 30], 40, 35, 40, "during infusion (every 10 min)"),
        ([0, 10, 20, 30, 40], 40, 41, 55, "after infusion (every 15 min)"),
        ([0, 10, 20, 35], 40, 36, 50, "after infusion (every 15 min)"),
        ([0, 10, 20, 30], None, 35, 40, "during infusion (every 10 min)"),
    ],
)
def test_iv_schedule(recorded: list[int], end: int | None, now: int, due: int, label: str) -> None:
    end_at = None if end is None else at(end)
    result = vitals_due("ketamine", T0, end_at, at(now), [at(m) for m in recorded])
    assert (result.due_at, result.label) == (at(due), label)


def test_overdue_boundary_and_grace() -> None:
    rec = [at(-5), at(0)]
    assert not vitals_due("ketamine", T0, at(40), at(10), rec).overdue
    assert vitals_due("ketamine", T0, at(40), at(10.5), rec).overdue
    grace = SafetyThresholds.from_mapping({"vitals_overdue_grace_min": 2})
    assert not vitals_due("ketamine", T0, at(40), at(12), rec, grace).overdue
    assert vitals_due("ketamine", T0, at(40), at(12.5), rec, grace).overdue


def test_recorded_times_may_be_unsorted() -> None:
    result = vitals_due("esketamine", T0, None, at(20), [at(15), at(-5)])
    assert result.due_at == at(30)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("lsd", T0, None, at(1), []), "drug"),
        (("esketamine", T0, None, at(1), [at(5)]), "recorded_times[0]"),
        (("ketamine", T0, at(-1), at(1), []), "infusion_end"),
        (("esketamine", T0, None, at(1).replace(tzinfo=UTC), []), "now"),
        (("esketamine", T0, None, at(1), ["soon"]), "recorded_times"),
    ],
)
def test_vitals_due_refuses_bad_input(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        vitals_due(*args)  # type: ignore[arg-type]
    assert info.value.field == field


@settings(max_examples=150)
@given(
    drug=st.sampled_from(["esketamine", "ketamine"]),
    offsets=st.lists(st.integers(-10, 180), min_size=1, max_size=12),
    end=st.integers(20, 60),
)
def test_next_due_is_never_more_than_one_interval_after_the_last_reading(
    drug: str, offsets: list[int], end: int
) -> None:
    now = at(max(offsets) + 1)
    result = vitals_due(drug, T0, at(end), now, [at(m) for m in offsets])
    last = at(max(max(offsets), 0))
    if not any(m <= 0 for m in offsets):
        assert (result.due_at, result.label) == (T0, "pre-dose")
    else:
        assert last < result.due_at <= last + timedelta(minutes=15)
    assert result.overdue == (now > result.due_at)
