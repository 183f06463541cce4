"""Billed sessions, dose items and one episode's equity funnel (trellis.core.access_rules)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.core import equity
from trellis.core.access_rules import (
    billed_sessions,
    dose_item,
    episode_funnel,
    omb_categories,
)
from trellis.core.errors import InvalidInput
from trellis.core.pathway import plan
from trellis.core.protocols import list_protocols


@pytest.mark.parametrize(
    ("drug", "mg", "item"),
    [
        ("ketamine", None, "ketamine_iv"),
        ("esketamine", 28, "esketamine_56"),  # 65+ first dose: one device, G2082 (≤ 56 mg)
        ("esketamine", 56, "esketamine_56"),
        ("esketamine", 84, "esketamine_84"),  # G2083 (> 56 mg)
    ],
)
def test_dose_item(drug: str, mg: int | None, item: str) -> None:
    assert dose_item(drug, mg) == item


def test_dose_item_refuses_esketamine_without_mg_and_unknown_drugs() -> None:
    with pytest.raises(InvalidInput) as exc:
        dose_item("esketamine", None)
    assert exc.value.field == "esketamine_mg"
    with pytest.raises(InvalidInput) as exc:
        dose_item("psilocybin")
    assert exc.value.field == "drug"


@pytest.mark.parametrize("protocol", list_protocols(), ids=lambda p: p.id)
def test_every_track_plan_becomes_billed_sessions(protocol: object) -> None:
    p = protocol
    planned = plan(p, date(2026, 3, 2), ["chw-navigator"])  # type: ignore[arg-type]
    acts = [(a.kind, a.name) for a in planned.activities]
    billed = billed_sessions(
        p.drug,  # type: ignore[attr-defined]
        acts,
        first_dose_mg=p.dose_rule.first_dose_mg,  # type: ignore[attr-defined]
        later_dose_mg=max(p.dose_rule.fixed_mg, default=None),  # type: ignore[attr-defined]
    )
    assert billed.not_billed == 2  # the two navigator contacts
    assert len(billed.sessions) == len(acts) - 2
    doses = [s for s in billed.sessions if s.kind == "dose"]
    assert len(doses) == sum(1 for kind, _ in acts if kind == "dose")
    if p.drug == "ketamine":  # type: ignore[attr-defined]
        assert {s.drug for s in doses} == {"ketamine_iv"}
    else:
        first = "esketamine_84" if p.dose_rule.first_dose_mg == 84 else "esketamine_56"  # type: ignore[attr-defined]
        assert doses[0].drug == first
        assert {s.drug for s in doses[1:]} == {"esketamine_84"}


def test_omb_mapping() -> None:
    assert omb_categories(["hispanic", "white"]) == ("hispanic_or_latino", "white")
    assert omb_categories(["prefer_not"]) == ()
    assert equity.race_ethnicity_group(omb_categories(["aian"])) == (
        "american_indian_or_alaska_native"
    )
    with pytest.raises(InvalidInput):
        omb_categories(["martian"])


def test_funnel_completed_needs_every_dose_and_80_percent_integration() -> None:
    base = {"screened": True, "doses_planned": 6}
    assert episode_funnel(**base, doses_given=6, adherence_percent=80.0)[
        "completed_series_with_80pct_integration"
    ]
    assert not episode_funnel(**base, doses_given=6, adherence_percent=79.9)[
        "completed_series_with_80pct_integration"
    ]
    assert not episode_funnel(**base, doses_given=5, adherence_percent=100.0)[
        "completed_series_with_80pct_integration"
    ]
    assert not episode_funnel(**base, doses_given=6, adherence_percent=None)[
        "completed_series_with_80pct_integration"
    ]


def test_funnel_outcomes_unknown_are_false_and_nested() -> None:
    flags = episode_funnel(screened=True, doses_given=0, doses_planned=6, adherence_percent=None)
    assert flags["referred"]
    assert flags["screened"]
    assert not flags["started"]
    assert not flags["response"]
    # Outcomes never without a first dose; durable remission never without remission.
    flags = episode_funnel(
        screened=True,
        doses_given=0,
        doses_planned=6,
        adherence_percent=None,
        outcomes={"response": True, "remission": True},
    )
    assert not flags["response"]
    assert not flags["remission"]
    flags = episode_funnel(
        screened=False,
        doses_given=2,
        doses_planned=6,
        adherence_percent=100.0,
        outcomes={"durable_remission_90d": True, "remission": None},
    )
    assert flags["screened"]
    assert not flags["durable_remission_90d"]


@given(
    screened=st.booleans(),
    given_=st.integers(0, 20),
    planned=st.integers(1, 20),
    adherence=st.one_of(st.none(), st.floats(0, 100)),
    outcomes=st.dictionaries(
        st.sampled_from(["response", "remission", "durable_remission_90d"]),
        st.one_of(st.none(), st.booleans()),
    ),
)
def test_funnel_always_parses_as_an_equity_record(
    screened: bool,
    given_: int,
    planned: int,
    adherence: float | None,
    outcomes: dict[str, bool | None],
) -> None:
    flags = episode_funnel(
        screened=screened,
        doses_given=given_,
        doses_planned=planned,
        adherence_percent=adherence,
        outcomes=outcomes,
    )
    equity.parse_episode(flags)  # the funnel's nesting holds
