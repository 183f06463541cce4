"""Equity aggregation: funnel counts and rates, small-cell and complementary suppression."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.equity import (
    DIMENSIONS,
    FUNNEL,
    MULTIPLE,
    SUPPRESSED_COUNT,
    SUPPRESSED_VALUE,
    UNKNOWN,
    EpisodeRecord,
    aggregate,
    parse_episode,
    race_ethnicity_group,
)
from trellis.core.errors import InvalidInput


def rec(stage: str | None = "referred", **attrs: Any) -> EpisodeRecord:
    """A synthetic episode that reached ``stage`` (and every stage before it on the main path)."""
    flags = dict.fromkeys(FUNNEL, False)
    if stage is not None:
        path = ["referred", "screened", "started"]
        extra = {
            "completed_series_with_80pct_integration": ["completed_series_with_80pct_integration"],
            "response": ["response"],
            "remission": ["response", "remission"],
            "durable_remission_90d": ["response", "remission", "durable_remission_90d"],
        }
        reached = path[: path.index(stage) + 1] if stage in path else path + extra[stage]
        for s in reached:
            flags[s] = True
    data: dict[str, Any] = {"race_ethnicity": [], **flags, **attrs}
    return parse_episode(data)


def many(n: int, stage: str | None = "referred", **attrs: Any) -> list[EpisodeRecord]:
    return [rec(stage, **attrs) for _ in range(n)]


def groups(report: Any, dimension: str) -> dict[str, Any]:
    return {g.group: g for g in report.dimensions[dimension].groups}


def test_counts_rates_and_disparity_without_suppression() -> None:
    records = (
        many(12, "started", payer="medicaid")
        + many(8, "referred", payer="medicaid")
        + many(30, "started", payer="commercial")
        + many(10, "referred", payer="commercial")
    )
    report = aggregate(records)
    g = groups(report, "payer")
    assert g["medicaid"].episodes == 20
    assert g["commercial"].episodes == 40
    assert g["medicaid"].stages["started"].count == 12
    assert g["medicaid"].stages["started"].rate == Decimal("0.600")
    assert g["commercial"].stages["started"].rate == Decimal("0.750")
    # Best served at "started" is commercial; medicaid's ratio is 0.6 / 0.75.
    assert report.dimensions["payer"].reference_group["started"] == "commercial"
    assert g["medicaid"].stages["started"].disparity_ratio == Decimal("0.80")
    assert g["commercial"].stages["started"].disparity_ratio == Decimal("1.00")
    total = report.dimensions["payer"].total
    assert total.episodes == 60
    assert total.stages["started"].count == 42
    assert total.stages["response"].count == 0  # zero is shown, not suppressed
    assert g["medicaid"].stages["response"].rate == Decimal("0.000")
    assert g["medicaid"].stages["response"].disparity_ratio is None  # best rate is 0


@pytest.mark.parametrize("n", [1, 5, 10])
def test_small_cells_are_suppressed_and_so_is_everything_derived(n: int) -> None:
    records = (
        many(n, "started", payer="va_tricare", out_of_pocket="100")
        + many(40, "started", payer="commercial", out_of_pocket="50")
        + many(30, "started", payer="medicaid", out_of_pocket="0")
    )
    g = groups(aggregate(records), "payer")
    va = g["va_tricare"]
    assert va.episodes == SUPPRESSED_COUNT
    assert va.stages["started"].count == SUPPRESSED_COUNT
    assert va.stages["started"].rate == SUPPRESSED_VALUE
    assert va.stages["started"].disparity_ratio == SUPPRESSED_VALUE
    assert va.median_out_of_pocket == SUPPRESSED_VALUE
    assert va.stages["response"].count == 0  # zero shown


def test_eleven_is_shown() -> None:
    records = many(11, "started", payer="va_tricare") + many(40, "started", payer="commercial")
    g = groups(aggregate(records), "payer")
    assert g["va_tricare"].episodes == 11
    assert g["va_tricare"].stages["started"].rate == Decimal("1.000")


def test_complementary_suppression_hides_the_next_smallest_cell() -> None:
    records = (
        many(4, "referred", payer="uninsured")
        + many(20, "referred", payer="medicaid")
        + many(30, "referred", payer="commercial")
    )
    report = aggregate(records)
    g = groups(report, "payer")
    assert g["uninsured"].episodes == SUPPRESSED_COUNT  # primary
    # Complementary: the next smallest cell, marked "suppressed" (20 is not "<11").
    assert g["medicaid"].episodes == SUPPRESSED_VALUE
    assert g["commercial"].episodes == 30
    assert report.dimensions["payer"].total.episodes == 54
    # Medicaid's rates are derived from a suppressed count, so they are suppressed too.
    assert g["medicaid"].stages["referred"].rate == SUPPRESSED_VALUE
    assert g["medicaid"].median_out_of_pocket == SUPPRESSED_VALUE
    assert report.dimensions["payer"].reference_group["referred"] == "commercial"


def test_complementary_suppression_skips_zero_cells() -> None:
    # At "started": uninsured 3 (primary), medicaid 0, commercial 25, medicare 40.
    records = (
        many(3, "started", payer="uninsured")
        + many(12, "referred", payer="uninsured")
        + many(20, "referred", payer="medicaid")
        + many(25, "started", payer="commercial")
        + many(40, "started", payer="medicare")
    )
    g = groups(aggregate(records), "payer")
    assert g["uninsured"].stages["started"].count == SUPPRESSED_COUNT
    assert g["medicaid"].stages["started"].count == 0
    assert g["commercial"].stages["started"].count == SUPPRESSED_VALUE
    assert g["medicare"].stages["started"].count == 40
    assert g["uninsured"].episodes == 15  # other columns are unaffected


def test_two_primary_suppressions_need_no_complement() -> None:
    records = many(3, payer="uninsured") + many(7, payer="other") + many(50, payer="commercial")
    g = groups(aggregate(records), "payer")
    assert g["uninsured"].episodes == SUPPRESSED_COUNT
    assert g["other"].episodes == SUPPRESSED_COUNT
    assert g["commercial"].episodes == 50


def test_small_total_suppresses_the_total() -> None:
    report = aggregate(many(7, "started", payer="commercial"))
    assert report.episodes == SUPPRESSED_COUNT
    total = report.dimensions["payer"].total
    assert total.episodes == SUPPRESSED_COUNT
    assert total.stages["started"].rate == SUPPRESSED_VALUE


def test_single_group_equal_to_total_is_suppressed_with_it() -> None:
    # Only commercial reaches remission (5) and the total equals it: both must be hidden.
    records = many(5, "remission", payer="commercial") + many(30, "started", payer="medicaid")
    payer = aggregate(records).dimensions["payer"]
    g = {x.group: x for x in payer.groups}
    assert g["commercial"].stages["remission"].count == SUPPRESSED_COUNT
    assert payer.total.stages["remission"].count == SUPPRESSED_COUNT


def test_median_out_of_pocket() -> None:
    records = [rec(payer="commercial", out_of_pocket=str(v)) for v in range(100, 1300, 100)]
    records += [rec(payer="commercial", out_of_pocket=None)]
    g = groups(aggregate(records), "payer")
    assert g["commercial"].episodes == 13
    assert g["commercial"].median_out_of_pocket == Decimal("650.00")  # 12 values: (600+700)/2


def test_multi_race_counted_once_as_multiracial() -> None:
    records = (
        many(12, race_ethnicity=["white"])
        + many(15, race_ethnicity=["black_or_african_american", "white"])
        + many(11, race_ethnicity=["hispanic_or_latino", "white"])
        + many(14, race_ethnicity=[])
    )
    report = aggregate(records)
    g = groups(report, "race_ethnicity")
    assert g["white"].episodes == 12  # "alone"
    assert g[MULTIPLE].episodes == 26
    assert g[UNKNOWN].episodes == 14
    assert sum(x.episodes for x in g.values()) == report.episodes == 52
    assert [x.group for x in report.dimensions["race_ethnicity"].groups] == [
        "white",
        MULTIPLE,
        UNKNOWN,
    ]


def test_race_ethnicity_group_rules() -> None:
    assert race_ethnicity_group(["asian"]) == "asian"
    assert race_ethnicity_group(["asian", "asian"]) == "asian"
    assert race_ethnicity_group(["asian", "white"]) == MULTIPLE
    assert race_ethnicity_group([]) == UNKNOWN
    with pytest.raises(InvalidInput):
        race_ethnicity_group(["martian"])


def test_unknown_group_is_never_the_reference() -> None:
    records = many(20, "started") + many(20, "started", language="spanish")
    records += many(20, "referred", language="english")
    dim = aggregate(records).dimensions["language"]
    assert [g.group for g in dim.groups] == ["english", "spanish", UNKNOWN]
    assert dim.reference_group["started"] == "spanish"


def test_every_dimension_is_reported() -> None:
    report = aggregate(many(12, poverty_class="B", rurality="rural"))
    assert set(report.dimensions) == set(DIMENSIONS)
    assert groups(report, "poverty_class")["B"].episodes == 12
    assert groups(report, "rurality")["rural"].episodes == 12
    data = report.to_dict()
    assert set(data) == {"episodes", "suppression", "dimensions"}
    stage = data["dimensions"]["poverty_class"]["groups"][0]["stages"]["referred"]
    assert stage == {"count": 12, "rate": 1.0, "disparity_ratio": 1.0}


def test_empty_input() -> None:
    report = aggregate([])
    assert report.episodes == 0
    assert report.dimensions["payer"].groups == ()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"screened": True}, "episodes[0].screened"),
        ({"referred": True, "started": True}, "episodes[0].started"),
        (
            {"referred": True, "screened": True, "started": True, "durable_remission_90d": True},
            "episodes[0].durable_remission_90d",
        ),
        ({"referred": "yes"}, "episodes[0].referred"),
        ({"payer": "aetna"}, "episodes[0].payer"),
        ({"rurality": "suburban"}, "episodes[0].rurality"),
        ({"race_ethnicity": ["martian"]}, "episodes[0].race_ethnicity"),
        ({"race_ethnicity": "white"}, "episodes[0].race_ethnicity"),
        ({"out_of_pocket": "-5"}, "episodes[0].out_of_pocket"),
        ({"language": ""}, "episodes[0].language"),
        ({"shoe_size": 9}, "episodes[0]"),
    ],
)
def test_parse_episode_refuses_bad_input(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_episode(data, 0)
    assert info.value.field == field


# Property: no released count is 1–10, and no column has exactly one hidden cell beside a
# shown total (so no hidden cell can be back-calculated).

record_st = st.builds(
    lambda payer, stage: rec(stage, payer=payer),
    st.sampled_from(["medicaid", "medicare", "commercial", "uninsured", None]),
    st.sampled_from([None, "referred", "screened", "started", "remission"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(record_st, max_size=120))
def test_released_tables_cannot_be_back_calculated(records: list[EpisodeRecord]) -> None:
    report = aggregate(records)
    for dim in report.dimensions.values():
        for col in ["episodes", *FUNNEL]:

            def cell(g: Any, col: str = col) -> Any:
                return g.episodes if col == "episodes" else g.stages[col].count

            cells = [cell(g) for g in dim.groups]
            total = cell(dim.total)
            hidden_marks = (SUPPRESSED_COUNT, SUPPRESSED_VALUE)
            for c in [*cells, total]:
                assert c in hidden_marks or not 1 <= c <= 10
            hidden = sum(c in hidden_marks for c in cells)
            if total not in hidden_marks:
                assert hidden != 1
                shown_sum = sum(c for c in cells if c not in hidden_marks)
                assert shown_sum <= total
                if hidden == 0:
                    assert shown_sum == total
        for g in dim.groups:
            for s in FUNNEL:
                if {g.stages[s].count, g.episodes} & {SUPPRESSED_COUNT, SUPPRESSED_VALUE}:
                    assert g.stages[s].rate == SUPPRESSED_VALUE
                    assert g.stages[s].disparity_ratio == SUPPRESSED_VALUE


@settings(max_examples=100, deadline=None)
@given(st.lists(record_st, max_size=80))
def test_shown_counts_are_true_and_markers_honest(records: list[EpisodeRecord]) -> None:
    report = aggregate(records)
    for g in report.dimensions["payer"].groups:
        members = [r for r in records if r.group("payer") == g.group]
        for s in FUNNEL:
            true = sum(r.reached(s) for r in members)
            shown = g.stages[s].count
            if shown == SUPPRESSED_COUNT:
                assert 1 <= true <= 10
            elif shown != SUPPRESSED_VALUE:
                assert shown == true
