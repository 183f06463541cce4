"""Cost of a course: coverage first, then the sliding fee; checklist data (CLINICAL.md §8)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.cost import (
    DEFAULT_PRICES,
    DRUGS,
    ITEMS,
    PAYERS,
    SESSION_KINDS,
    Coverage,
    PlannedSession,
    course_cost,
    coverage_checklist,
    make_coverage,
    make_prices,
)
from trellis.core.errors import InvalidInput
from trellis.core.fees import assess_fee

D = Decimal
PREP = PlannedSession("preparation")
INTEG = PlannedSession("integration")
ASSESS = PlannedSession("assessment")
IV = PlannedSession("dose", "ketamine_iv")
ESK56 = PlannedSession("dose", "esketamine_56")
ESK84 = PlannedSession("dose", "esketamine_84")

# IV track (CLINICAL.md §4): 6 infusions, each followed by integration, with preparation and a
# baseline assessment.
IV_COURSE = [PREP, ASSESS] + [IV, INTEG] * 6
# Esketamine induction weeks 1–4, twice weekly (CLINICAL.md §4): day 1 56 mg, then 84 mg.
ESK_INDUCTION = [PREP, ESK56] + [ESK84] * 7


def _price(s: PlannedSession) -> Decimal:
    return DEFAULT_PRICES[s.item]


def _class(label: str) -> Any:
    # 2025 contiguous, household of 1: guideline $15,650 (FR Doc 2025-01377).
    incomes = {"A": "10000", "B": "18000", "C": "22000", "D": "26000", "E": "30000", "F": "40000"}
    fee = assess_fee(2025, "contiguous", 1, incomes[label])
    assert fee.fee_class == label
    return fee


def test_default_prices_within_clinical_ranges() -> None:
    assert D(400) <= DEFAULT_PRICES["ketamine_iv"] <= D(800)
    assert D(590) <= DEFAULT_PRICES["esketamine_56"] <= DEFAULT_PRICES["esketamine_84"] <= D(885)
    assert set(DEFAULT_PRICES) == set(ITEMS)


def test_iv_course_uninsured_no_discount_is_the_gross() -> None:
    cost = course_cost(IV_COURSE)
    expected = sum(_price(s) for s in IV_COURSE)
    assert expected == D(150) + 6 * D(500) + 6 * D(150)
    assert cost.gross == expected
    assert cost.patient_out_of_pocket == expected
    assert cost.covered == 0
    assert cost.discount == 0
    assert D(2400) <= 6 * DEFAULT_PRICES["ketamine_iv"] <= D(4800)  # CLINICAL §8 course range
    assert len(cost.lines) == len(IV_COURSE)


def test_iv_course_uninsured_class_b_pays_20_percent() -> None:
    cost = course_cost(IV_COURSE, fee=_class("B"))
    gross = sum(_price(s) for s in IV_COURSE)
    assert cost.patient_out_of_pocket == gross * D("0.20")
    assert cost.discount == gross * D("0.80")
    assert cost.fee_class == "B"


def test_iv_course_class_a_pays_nominal_fee_per_billable_visit() -> None:
    cost = course_cost(IV_COURSE, fee=_class("A"))
    billable = sum(1 for s in IV_COURSE if _price(s) > 0)
    assert billable == 13  # the free assessment is not a billable visit
    assert cost.patient_out_of_pocket == billable * D(20)
    assert cost.discount == cost.gross - billable * D(20)
    assert [li.patient for li in cost.lines if li.kind == "assessment"] == [D(0)]


def test_class_a_nominal_fee_never_exceeds_the_share() -> None:
    cheap = make_prices({"peer_circle": "12.50"})
    cost = course_cost([PlannedSession("peer_circle")], cheap, fee=_class("A"))
    assert cost.patient_out_of_pocket == D("12.50")


def test_class_f_pays_everything() -> None:
    cost = course_cost(IV_COURSE, fee=_class("F"))
    assert cost.patient_out_of_pocket == cost.gross
    assert cost.discount == 0


def test_esketamine_induction_with_medicaid_full_coverage() -> None:
    medicaid = make_coverage(
        "medicaid",
        percent_covered={"esketamine_56": 100, "esketamine_84": 100, "preparation": 100},
    )
    cost = course_cost(ESK_INDUCTION, coverage=medicaid, fee=_class("A"))
    assert cost.gross == D(150) + D(590) + 7 * D(885)
    assert cost.covered == cost.gross
    assert cost.patient_out_of_pocket == 0  # nothing left to charge, not even the nominal fee


def test_esketamine_induction_commercial_with_deductible_and_coinsurance() -> None:
    commercial = make_coverage(
        "commercial",
        percent_covered={"esketamine_56": 80, "esketamine_84": 80},
        deductible_remaining="1000",
        out_of_pocket_max_remaining="3000",
    )
    sessions = [ESK56, ESK56] + [ESK84] * 6
    cost = course_cost(sessions, coverage=commercial)
    # 1st: $590 all deductible; 2nd: $410 deductible + 20 % of $180 = $446; then 20 % of $885.
    expected_patient = [D(590), D(410) + D(36)] + [D(177)] * 6
    assert [li.patient for li in cost.lines] == expected_patient
    assert [li.deductible_applied for li in cost.lines][:3] == [D(590), D(410), D(0)]
    assert cost.patient_out_of_pocket == sum(expected_patient)
    assert cost.covered == cost.gross - sum(expected_patient)


def test_out_of_pocket_max_caps_covered_items() -> None:
    commercial = make_coverage(
        "commercial",
        percent_covered={"esketamine_56": 80, "esketamine_84": 80},
        deductible_remaining="1000",
        out_of_pocket_max_remaining="1500",
    )
    sessions = [ESK56, ESK56] + [ESK84] * 6
    cost = course_cost(sessions, coverage=commercial)
    # 590 + 446 + 177 + 177 = 1390; the next share is capped at the remaining 110; then 0.
    assert [li.patient for li in cost.lines] == [
        D(590),
        D(446),
        D(177),
        D(177),
        D(110),
        D(0),
        D(0),
        D(0),
    ]
    assert cost.patient_out_of_pocket == D(1500)


def test_uncovered_items_do_not_count_toward_the_out_of_pocket_max() -> None:
    cover = make_coverage(
        "commercial", percent_covered={"esketamine_84": 50}, out_of_pocket_max_remaining="100"
    )
    cost = course_cost([INTEG, ESK84, ESK84], coverage=cover)
    assert [li.patient for li in cost.lines] == [D(150), D(100), D(0)]


def test_copay_then_sliding_discount_on_the_share() -> None:
    cover = make_coverage("commercial", copay={"integration": "40"})
    cost = course_cost([INTEG, INTEG], coverage=cover, fee=_class("C"))
    # Share $40 per visit; class C takes 60 % off the share: $16 each.
    assert [li.patient for li in cost.lines] == [D(16), D(16)]
    assert cost.covered == 2 * (D(150) - D(40))
    assert cost.discount == 2 * D(24)


def test_cents_round_half_up() -> None:
    prices = make_prices({"integration": "0.05"})
    cost = course_cost([INTEG], prices, fee=_class("B"))  # 20 % of 5 cents = 1 cent
    assert cost.patient_out_of_pocket == D("0.01")
    prices = make_prices({"integration": "0.03"})
    cover = make_coverage("commercial", percent_covered={"integration": 50})
    # 50 % of 3 cents = 1.5 cents → the patient pays 2 cents (half up).
    assert course_cost([INTEG], prices, cover).patient_out_of_pocket == D("0.02")


def test_empty_plan_costs_nothing() -> None:
    cost = course_cost([])
    assert (cost.gross, cost.patient_out_of_pocket, cost.lines) == (0, 0, ())


def test_to_dict_has_exact_cents() -> None:
    data = course_cost([IV], fee=_class("B")).to_dict()
    assert data["gross"] == "500.00"
    assert data["patient_out_of_pocket"] == "100.00"
    assert data["lines"][0]["drug"] == "ketamine_iv"
    assert set(data) == {
        "payer",
        "fee_class",
        "gross",
        "covered",
        "discount",
        "patient_out_of_pocket",
        "lines",
    }


@pytest.mark.parametrize(
    ("session", "field"),
    [
        (PlannedSession("massage"), "sessions[1].kind"),
        (PlannedSession("dose"), "sessions[1].drug"),
        (PlannedSession("dose", "psilocybin"), "sessions[1].drug"),
        (PlannedSession("integration", "ketamine_iv"), "sessions[1].drug"),
    ],
)
def test_bad_sessions_refused(session: PlannedSession, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        course_cost([PREP, session])
    assert info.value.field == field


def test_missing_price_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        course_cost([IV], prices={"preparation": D(1)})
    assert info.value.field == "prices.ketamine_iv"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"payer": "aetna"}, "coverage.payer"),
        ({"payer": "commercial", "percent_covered": {"spa": 50}}, "coverage.percent_covered.spa"),
        (
            {"payer": "commercial", "percent_covered": {"integration": 101}},
            "coverage.percent_covered.integration",
        ),
        (
            {"payer": "commercial", "percent_covered": {"integration": 50.5}},
            "coverage.percent_covered.integration",
        ),
        ({"payer": "commercial", "copay": {"integration": "-1"}}, "coverage.copay.integration"),
        (
            {
                "payer": "commercial",
                "copay": {"integration": "10"},
                "percent_covered": {"integration": 50},
            },
            "coverage.copay.integration",
        ),
        ({"payer": "commercial", "deductible_remaining": "x"}, "coverage.deductible_remaining"),
        (
            {"payer": "commercial", "out_of_pocket_max_remaining": "-5"},
            "coverage.out_of_pocket_max_remaining",
        ),
        ({"payer": "uninsured", "percent_covered": {"integration": 50}}, "coverage.payer"),
    ],
)
def test_make_coverage_validates(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        make_coverage(**kwargs)
    assert info.value.field == field


def test_make_prices_validates() -> None:
    with pytest.raises(InvalidInput) as info:
        make_prices({"botox": 10})
    assert info.value.field == "prices.botox"
    with pytest.raises(InvalidInput) as info:
        make_prices({"integration": "-10"})
    assert info.value.field == "prices.integration"
    assert make_prices({"peer_circle": 20})["peer_circle"] == D(20)


# Properties: the order of application never makes the patient pay < 0 or > gross, and a
# richer discount never costs more.

session_st = st.sampled_from(
    [PlannedSession(k) for k in SESSION_KINDS if k != "dose"]
    + [PlannedSession("dose", d) for d in DRUGS]
)
money_st = st.integers(min_value=0, max_value=300_000).map(lambda c: D(c) / 100)
coverage_st = st.builds(
    lambda pct, cop, ded, oop: Coverage(
        "commercial",
        {k: v for k, v in pct.items() if k not in cop},
        cop,
        ded,
        oop,
    ),
    st.dictionaries(st.sampled_from(ITEMS), st.integers(0, 100)),
    st.dictionaries(st.sampled_from(ITEMS), money_st, max_size=3),
    money_st,
    st.none() | money_st,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(session_st, max_size=20), coverage_st, st.sampled_from("ABCDEF"))
def test_patient_share_bounded_and_lines_add_up(
    sessions: list[PlannedSession], coverage: Coverage, label: str
) -> None:
    fee = _class(label)
    cost = course_cost(sessions, coverage=coverage, fee=fee)
    for li in cost.lines:
        assert 0 <= li.patient <= li.gross
        assert li.covered >= 0
        assert li.discount >= 0
        assert li.covered + li.discount + li.patient == li.gross
    assert cost.gross == cost.covered + cost.discount + cost.patient_out_of_pocket
    no_fee = course_cost(sessions, coverage=coverage)
    assert cost.patient_out_of_pocket <= no_fee.patient_out_of_pocket
    if coverage.out_of_pocket_max_remaining is not None:
        covered_items = set(coverage.copay) | set(coverage.percent_covered)
        counted = sum(
            li.patient
            for li, s in zip(no_fee.lines, sessions, strict=True)
            if s.item in covered_items
        )
        assert counted <= coverage.out_of_pocket_max_remaining


@settings(max_examples=100, deadline=None)
@given(st.lists(session_st, max_size=15))
def test_higher_pay_class_never_pays_less(sessions: list[PlannedSession]) -> None:
    paid = [course_cost(sessions, fee=_class(c)).patient_out_of_pocket for c in "BCDEF"]
    assert paid == sorted(paid)


# Coverage checklist.


@pytest.mark.parametrize("payer", PAYERS)
def test_esketamine_checklist_always_requires_rems(payer: str) -> None:
    check = coverage_checklist(payer, "esketamine")
    status = {i.key: i.status for i in check.items}
    assert status["rems_patient_enrolment"] == "required"
    assert status["rems_certified_setting"] == "required"
    assert {"prior_authorization", "documented_trd", "concurrent_oral_antidepressant"} <= set(
        status
    )


@pytest.mark.parametrize(
    ("payer", "expected"),
    [
        ("commercial", "eligible"),
        ("medicaid", "not_eligible"),
        ("medicare", "not_eligible"),
        ("va_tricare", "not_eligible"),
    ],
)
def test_manufacturer_savings_only_for_commercial(payer: str, expected: str) -> None:
    status = {i.key: i.status for i in coverage_checklist(payer, "esketamine").items}
    assert status["manufacturer_savings"] == expected


@pytest.mark.parametrize(
    ("drug", "codes"),
    [
        ("esketamine_56", ("G2082",)),
        ("esketamine_84", ("G2083",)),
        ("esketamine", ("G2082", "G2083")),
        ("ketamine_iv", ()),
    ],
)
def test_medicare_codes(drug: str, codes: tuple[str, ...]) -> None:
    assert coverage_checklist("medicare", drug).billing_codes == codes
    assert coverage_checklist("commercial", drug).billing_codes == ()


def test_ketamine_iv_checklist_has_no_rems_and_flags_off_label() -> None:
    check = coverage_checklist("commercial", "ketamine_iv")
    status = {i.key: i for i in check.items}
    assert status["rems"].status == "not_applicable"
    assert "off-label" in status["coverage_check"].note
    assert check.to_dict()["items"][0]["key"] == "coverage_check"


def test_uninsured_needs_no_prior_authorization() -> None:
    status = {i.key: i.status for i in coverage_checklist("uninsured", "esketamine").items}
    assert status["prior_authorization"] == "not_applicable"


@pytest.mark.parametrize(
    ("payer", "drug", "field"), [("aetna", "esketamine", "payer"), ("medicare", "lsd", "drug")]
)
def test_checklist_refuses_unknowns(payer: str, drug: str, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        coverage_checklist(payer, drug)
    assert info.value.field == field


@pytest.mark.parametrize("price", [D(-1), 500, D("NaN")])
def test_unvalidated_price_lists_are_checked(price: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        course_cost([IV], prices={"ketamine_iv": price})
    assert info.value.field == "prices.ketamine_iv"
