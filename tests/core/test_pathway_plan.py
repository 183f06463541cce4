"""Plans from tracks (CLINICAL.md §3–7): dose series, integration windows, preparation first,
assessments, adaptations and the clinic calendar."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.pathway import (
    ACTIVITY_KINDS,
    Activity,
    ClinicCalendar,
    Plan,
    plan,
)
from trellis.core.protocols import ADAPTATIONS, load_protocol, protocol_ids

MONDAY = date(2026, 3, 2)


def doses(p: Plan) -> tuple[Activity, ...]:
    return p.of_kind("dose")


def test_iv_trd_six_doses_within_21_days_each_followed_by_72h_integration() -> None:
    proto = load_protocol("iv-trd")
    result = plan(proto, MONDAY)
    ds = doses(result)
    assert [d.index for d in ds] == [1, 2, 3, 4, 5, 6]
    assert ds[-1].target - ds[0].target <= timedelta(days=21)
    assert ds[-1].latest - ds[0].target <= timedelta(days=21)  # even at the latest spacing
    integ = {a.index: a for a in result.of_kind("integration", "integration")}
    assert sorted(integ) == [1, 2, 3, 4, 5, 6]
    for d in ds:
        window = integ[d.index]
        assert window.after == f"dose:{d.index}"
        assert window.earliest == d.target
        assert window.latest - d.target <= timedelta(hours=72)
        assert d.target < window.target <= window.latest
    first = ds[0]
    for prep in result.of_kind("preparation"):
        assert prep.latest < first.earliest
    assert first.after == "preparation:2"


def test_iv_trd_worked_example() -> None:
    result = plan(load_protocol("iv-trd"), MONDAY)
    assert [(a.earliest, a.target, a.latest) for a in result.of_kind("preparation")] == [
        (date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 4)),
        (date(2026, 3, 5), date(2026, 3, 5), date(2026, 3, 7)),
    ]
    assert [d.target.day for d in doses(result)] == [8, 11, 14, 17, 20, 23]
    assert doses(result)[1].earliest == date(2026, 3, 10)
    assert doses(result)[1].latest == date(2026, 3, 12)


def test_esketamine_trd_follows_the_label_cadence() -> None:
    # Spravato label (CLINICAL.md §4): weeks 1–4 twice weekly, weeks 5–8 weekly.
    result = plan(load_protocol("esketamine-trd"), MONDAY)
    ds = doses(result)
    assert len(ds) == 12
    d1 = ds[0].target
    per_week = Counter((d.target - d1).days // 7 + 1 for d in ds)
    assert per_week == {1: 2, 2: 2, 3: 2, 4: 2, 5: 1, 6: 1, 7: 1, 8: 1}
    for d in ds:  # windows stay inside the label week of the dose
        week = (d.target - d1).days // 7
        assert (d.earliest - d1).days // 7 == week or d.index == 1
        assert (d.latest - d1).days // 7 == week or d.index == 1
    gaps = [(b.target - a.target).days for a, b in zip(ds, ds[1:], strict=False)]
    assert min(gaps) >= 2


def test_esketamine_suicidal_first_dose_within_48h_of_referral() -> None:
    proto = load_protocol("esketamine-suicidal")
    for adapt in ([], ["medical-distrust"]):
        result = plan(proto, MONDAY, adapt)
        first = doses(result)[0]
        assert first.latest <= MONDAY + timedelta(days=2)
        assert len(doses(result)) == 8
    cssrs = [a for a in plan(proto, MONDAY).of_kind("assessment") if a.instrument == "cssrs"]
    visits = [a for a in plan(proto, MONDAY).activities if a.kind in ("preparation", "dose")]
    refs = {a.ref for a in cssrs}
    assert all(v.key in refs for v in visits)  # C-SSRS at every visit


def test_integration_every_nth_dose_and_always_after_the_last() -> None:
    from dataclasses import replace

    proto = load_protocol("iv-trd")
    every2 = replace(proto, integration=replace(proto.integration, every=4))
    result = plan(every2, MONDAY)
    assert [a.index for a in result.of_kind("integration", "integration")] == [4, 6]


def test_integration_window_uses_whole_days() -> None:
    from dataclasses import replace

    proto = load_protocol("iv-trd")
    for hours, days in [(24, 1), (25, 2), (48, 2), (72, 3)]:
        p = replace(proto, integration=replace(proto.integration, within_hours=hours))
        for a in plan(p, MONDAY).of_kind("integration", "integration"):
            d = doses(plan(p, MONDAY))[a.index - 1]
            assert (a.latest - d.target).days == days == math.ceil(hours / 24)


def test_peer_circle_from_week_2_for_8_weeks() -> None:
    result = plan(load_protocol("iv-trd"), MONDAY)
    d1 = doses(result)[0].target
    circles = result.of_kind("peer_circle")
    assert [c.index for c in circles] == list(range(1, 9))
    assert [(c.target - d1).days for c in circles] == [7 * w for w in range(1, 9)]


def test_assessments_follow_the_measures_schedule() -> None:
    result = plan(load_protocol("iv-trd"), MONDAY)
    a = result.of_kind("assessment")
    by = Counter((x.instrument, x.name) for x in a)
    assert by[("phq9", "baseline")] == 1
    assert by[("phq9", "before_each_dose")] == 6
    assert by[("phq9", "weekly")] == 12
    assert by[("phq9", "monthly")] == 12
    assert by[("phq9", "end_of_series")] == 1
    assert by[("gad7", "baseline")] == 1
    d1 = doses(result)[0].target
    baseline = next(x for x in a if x.name == "baseline" and x.instrument == "phq9")
    # CLINICAL.md §3: baseline in the 14 days up to and including dose 1
    assert (baseline.earliest, baseline.latest) == (d1 - timedelta(days=13), d1)
    assert [x.index for x in a] == list(range(1, len(a) + 1))


def test_ocd_measures_24h_after_dose() -> None:
    result = plan(load_protocol("iv-ocd"), MONDAY)
    after = [a for a in result.of_kind("assessment") if a.name == "after_each_dose_24h"]
    assert len(after) == 1
    assert after[0].target == doses(result)[0].target + timedelta(days=1)


def test_aud_relapse_prevention_sessions() -> None:
    result = plan(load_protocol("iv-aud"), MONDAY)
    rp = result.of_kind("integration", "relapse-prevention")
    assert [a.index for a in rp] == list(range(1, 8))
    assert len(doses(result)) == 3
    gaps = {
        (b.target - a.target).days for a, b in zip(doses(result), doses(result)[1:], strict=False)
    }
    assert gaps == {7}


def test_follow_up_check_ins_after_the_series() -> None:
    proto = load_protocol("iv-trd")
    result = plan(proto, MONDAY)
    last = doses(result)[-1].target
    checks = result.of_kind("follow_up", "check-in")
    assert [(c.target - last).days for c in checks] == list(proto.sustained_support.check_in_days)
    assert all(c.earliest > last and c.after == "dose:6" for c in checks)


def test_adaptations() -> None:
    proto = load_protocol("iv-trd")
    base = plan(proto, MONDAY)
    full = plan(proto, MONDAY, ADAPTATIONS)
    assert full.adaptations == ADAPTATIONS
    assert len(full.of_kind("preparation")) == len(base.of_kind("preparation")) + 1
    assert full.of_kind("preparation")[0].note is not None
    for a in full.activities:
        assert "interpreter" in a.needs
    for a in full.of_kind("preparation"):
        assert {"family-or-community-member-invited", "transport"} <= set(a.needs)
        assert "language-concordant-therapist" in a.needs
    assert all("transport" in d.needs for d in doses(full))
    assert all("language-concordant-circle" in c.needs for c in full.of_kind("peer_circle"))
    nav = full.of_kind("follow_up", "chw-navigator-contact")
    assert len(nav) == 2
    assert nav[0].target == MONDAY
    assert not base.of_kind("follow_up", "chw-navigator-contact")
    assert all(a.needs == () for a in base.activities)


def test_unknown_adaptation_and_bad_start() -> None:
    with pytest.raises(InvalidInput) as info:
        plan(load_protocol("iv-trd"), MONDAY, ["interpreter", "astrology"])
    assert info.value.field == "adaptations"
    assert "'astrology'" in info.value.detail
    with pytest.raises(InvalidInput) as info2:
        plan(load_protocol("iv-trd"), "2026-03-02")  # type: ignore[arg-type]
    assert info2.value.field == "start"


def test_calendar_moves_targets_to_open_days_within_windows() -> None:
    weekdays = ClinicCalendar(frozenset(range(5)), frozenset({date(2026, 3, 9)}))
    for pid in protocol_ids():
        result = plan(load_protocol(pid), MONDAY, calendar=weekdays)
        for a in result.activities:
            assert a.earliest <= a.target <= a.latest
            if a.kind in ("preparation", "dose", "integration", "peer_circle"):
                assert weekdays.is_open(a.target), (pid, a)
    # iv-trd dose 1 would be Sunday 8 March; the 9th is closed, so it moves to the 10th.
    assert doses(plan(load_protocol("iv-trd"), MONDAY, calendar=weekdays))[0].target == date(
        2026, 3, 10
    )


def test_calendar_without_any_open_day_in_a_window_is_refused() -> None:
    closed = frozenset(MONDAY + timedelta(days=i) for i in range(3))
    with pytest.raises(InvalidInput) as info:
        plan(load_protocol("iv-trd"), MONDAY, calendar=ClinicCalendar(closed_dates=closed))
    assert info.value.field == "calendar"
    assert "preparation 1" in info.value.detail
    with pytest.raises(InvalidInput):
        ClinicCalendar(frozenset())
    with pytest.raises(InvalidInput):
        ClinicCalendar(frozenset({7}))


def test_plan_json_shape() -> None:
    data = plan(load_protocol("iv-trd"), MONDAY).to_dict()
    assert data["protocol"] == "iv-trd"
    first = data["activities"][0]
    assert {"kind", "index", "earliest", "target", "latest", "after"} <= set(first)
    assert {a["kind"] for a in data["activities"]} == set(ACTIVITY_KINDS)
    date.fromisoformat(first["target"])


# ---- properties ------------------------------------------------------------------------------

starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31))
adaptation_sets = st.lists(st.sampled_from(ADAPTATIONS), unique=True)
calendars = st.one_of(
    st.none(),
    st.builds(
        ClinicCalendar,
        st.sampled_from([frozenset(range(5)), frozenset(range(6)), frozenset(range(7))]),
        st.frozensets(starts, max_size=5),
    ),
)


def check_invariants(result: Plan, pid: str) -> None:
    proto = load_protocol(pid)
    ds = doses(result)
    assert len(ds) == proto.doses.count
    preps = result.of_kind("preparation")
    assert preps
    for prep in preps:
        assert prep.target < ds[0].target
        assert prep.latest < ds[0].earliest
    for a in result.activities:
        assert a.earliest <= a.target <= a.latest
    lo = proto.doses.min_days_between
    hi = proto.doses.max_days_between
    for a, b in zip(ds, ds[1:], strict=False):
        gap = (b.target - a.target).days
        assert gap >= lo
        if hi is not None:
            assert gap <= hi
    span = math.ceil(proto.integration.within_hours / 24)
    for integ in result.of_kind("integration", "integration"):
        dose = ds[integ.index - 1]
        assert integ.after == dose.key
        assert dose.target <= integ.earliest <= integ.target <= integ.latest
        assert (integ.latest - dose.target).days <= span


@settings(max_examples=150, deadline=None)
@given(pid=st.sampled_from(protocol_ids()), start=starts, adapt=adaptation_sets)
def test_plans_keep_order_spacing_and_windows(pid: str, start: date, adapt: list[str]) -> None:
    check_invariants(plan(load_protocol(pid), start, adapt), pid)


@settings(max_examples=150, deadline=None)
@given(pid=st.sampled_from(protocol_ids()), start=starts, adapt=adaptation_sets, cal=calendars)
def test_plans_with_calendars_keep_invariants_or_refuse(
    pid: str, start: date, adapt: list[str], cal: ClinicCalendar | None
) -> None:
    refused: InvalidInput | None = None
    try:
        result = plan(load_protocol(pid), start, adapt, cal)
    except InvalidInput as exc:
        refused = exc
    if refused is not None:
        assert cal is not None
        assert refused.field == "calendar"
        return
    check_invariants(result, pid)
    if cal is not None:
        for a in result.activities:
            if a.kind in ("preparation", "dose", "integration", "peer_circle"):
                assert cal.is_open(a.target)
