"""Scoring: band boundaries (CLINICAL.md §1), flags (§1, §2), validation, properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.instruments import get_instrument, score, score_total


def answers_with_total(n_items: int, item_max: int, total: int, last: int = 0) -> list[int]:
    """Spread ``total`` over the first items (greedy), keeping the last item at ``last``."""
    values = [0] * n_items
    values[-1] = last
    remaining = total - last
    for i in range(n_items - 1):
        take = min(item_max, remaining)
        values[i] = take
        remaining -= take
    assert remaining == 0
    return values


PHQ9_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately_severe"),
    (19, "moderately_severe"),
    (20, "severe"),
    (27, "severe"),
]


@pytest.mark.parametrize(("total", "band"), PHQ9_BANDS)
def test_phq9_band_boundaries(total: int, band: str) -> None:
    result = score("phq9", answers_with_total(9, 3, total, last=min(3, total) if total > 24 else 0))
    assert result.total == total
    assert result.band == band


GAD7_BANDS = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "severe"),
    (21, "severe"),
]


@pytest.mark.parametrize(("total", "band"), GAD7_BANDS)
def test_gad7_band_boundaries(total: int, band: str) -> None:
    result = score("gad7", answers_with_total(7, 3, total, last=max(0, total - 18)))
    assert result.total == total
    assert result.band == band
    assert result.flags == ()


def test_phq9_item9_flag_at_total_1() -> None:
    """CLINICAL §2: item 9 >= 1 flags suicidal ideation whatever the total (here total 1)."""
    result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert result.total == 1
    assert result.band == "minimal"
    assert result.flags == ("suicidal_ideation",)


def test_phq9_high_total_without_item9_has_no_flag() -> None:
    result = score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert result.total == 24
    assert result.flags == ()


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_any_positive_value_flags(item9: int) -> None:
    assert "suicidal_ideation" in score("phq9", [0] * 8 + [item9]).flags


def test_phq9_accepts_mapping_by_item_id() -> None:
    answers = {str(i): 1 for i in range(1, 10)}
    assert score("phq9", answers).total == 9


# PCL-5: probable PTSD at 33 (CLINICAL §1), DSM-5 pattern edge cases.
def test_pcl5_probable_ptsd_32_vs_33() -> None:
    # Items 1-8 at 4 = 32; no E item is endorsed, so only the cut-off can differ.
    at_32 = [4] * 8 + [0] * 12
    at_33 = [*at_32[:8], 1, *at_32[9:]]
    r32, r33 = score("pcl5", at_32), score("pcl5", at_33)
    assert (r32.total, r33.total) == (32, 33)
    assert "probable_ptsd" not in r32.flags
    assert "probable_ptsd" in r33.flags


MINIMAL_PATTERN = {"1": 2, "6": 2, "8": 2, "9": 2, "15": 2, "16": 2}


def pcl5_from(endorsed: dict[str, int]) -> list[int]:
    return [endorsed.get(str(i), 0) for i in range(1, 21)]


def test_pcl5_minimal_dsm5_pattern() -> None:
    result = score("pcl5", pcl5_from(MINIMAL_PATTERN))
    assert "dsm5_pattern" in result.flags
    assert result.total == 12
    assert "probable_ptsd" not in result.flags
    assert dict(result.subtotals) == {"B": 2, "C": 2, "D": 4, "E": 4}


@pytest.mark.parametrize("drop", sorted(MINIMAL_PATTERN))
def test_pcl5_pattern_fails_when_any_needed_item_drops_to_1(drop: str) -> None:
    """An item rated 1 is not endorsed (endorsed = item >= 2)."""
    answers = dict(MINIMAL_PATTERN)
    answers[drop] = 1
    assert "dsm5_pattern" not in score("pcl5", pcl5_from(answers)).flags


def test_pcl5_pattern_needs_two_d_and_two_e() -> None:
    # Plenty of B and C, one D, many 1s: high total but no pattern.
    answers = {"1": 4, "2": 4, "3": 4, "4": 4, "5": 4, "6": 4, "7": 4, "8": 4, "15": 4, "16": 4}
    result = score("pcl5", pcl5_from(answers))
    assert result.total == 40
    assert "probable_ptsd" in result.flags
    assert "dsm5_pattern" not in result.flags


def test_pcl5_cluster_subtotals_add_up() -> None:
    answers = list(range(20))
    answers = [v % 5 for v in answers]
    result = score("pcl5", answers)
    assert result.subtotals["B"] == sum(answers[0:5])
    assert result.subtotals["C"] == sum(answers[5:7])
    assert result.subtotals["D"] == sum(answers[7:14])
    assert result.subtotals["E"] == sum(answers[14:20])
    assert sum(result.subtotals.values()) == result.total


# QIDS-SR16 domain scoring (Rush 2003; CamCOPS).
def test_qids_domains_take_maxima() -> None:
    answers = [1, 3, 0, 2, 1, 0, 2, 3, 0, 1, 1, 0, 2, 1, 1, 2]
    result = score("qids-sr16", answers)
    expected = 3 + 1 + 3 + 1 + 1 + 0 + 2 + 1 + 2  # sleep max, 5, weight max, 10-14, psychomotor
    assert result.total == expected
    assert result.subtotals["sleep"] == 3
    assert result.subtotals["appetite_weight"] == 3
    assert result.subtotals["psychomotor"] == 2


def test_qids_max_is_27() -> None:
    assert score("qids-sr16", [3] * 16).total == 27


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "none"),
        (5, "none"),
        (6, "mild"),
        (10, "mild"),
        (11, "moderate"),
        (15, "moderate"),
        (16, "severe"),
        (20, "severe"),
        (21, "very_severe"),
        (27, "very_severe"),
    ],
)
def test_qids_band_boundaries(total: int, band: str) -> None:
    # Build a domain-score vector, then place each domain score on the domain's first item.
    domain_first_items = [0, 4, 5, 9, 10, 11, 12, 13, 14]
    answers = [0] * 16
    remaining = total
    for idx in domain_first_items:
        take = min(3, remaining)
        answers[idx] = take
        remaining -= take
    result = score("qids-sr16", answers)
    assert result.total == total
    assert result.band == band


# Validation
@pytest.mark.parametrize(
    ("answers", "field", "fragment"),
    [
        ([0, 0, 5, 0, 0, 0, 0, 0, 0], "item 3", "must be an integer from 0 to 3, got 5"),
        ([0, 0, 0, 0, 0, 0, 0, 0, -1], "item 9", "from 0 to 3, got -1"),
        ([0] * 8, "answers", "needs exactly 9 answers"),
        ([0] * 10, "answers", "got 10"),
        ([0, "1", 0, 0, 0, 0, 0, 0, 0], "item 2", "got '1'"),
        ([True, 0, 0, 0, 0, 0, 0, 0, 0], "item 1", "must be an integer"),
    ],
)
def test_phq9_invalid_answers(answers: list[object], field: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        score("phq9", answers)  # type: ignore[arg-type]
    assert exc.value.field == field
    assert fragment in exc.value.detail


def test_pcl5_item_range_is_0_to_4() -> None:
    with pytest.raises(InvalidInput, match=r"item 20: must be an integer from 0 to 4, got 5"):
        score("pcl5", [0] * 19 + [5])


def test_mapping_missing_and_unknown_items() -> None:
    with pytest.raises(InvalidInput, match="missing"):
        score("gad7", {"1": 0})
    with pytest.raises(InvalidInput, match="unknown item '8'"):
        score("gad7", {str(i): 0 for i in range(1, 9)})


def test_unknown_instrument() -> None:
    with pytest.raises(InvalidInput) as exc:
        score("phq10", [0])
    assert exc.value.field == "instrument"
    assert "phq9" in exc.value.detail


# Clinician totals
@pytest.mark.parametrize(
    ("instrument", "hi"), [("madrs", 60), ("ybocs", 40), ("moaas", 5), ("cadss", 92)]
)
def test_score_total_range(instrument: str, hi: int) -> None:
    assert score_total(instrument, 0).total == 0
    assert score_total(instrument, hi).total == hi
    assert score_total(instrument, hi).entered_as_total
    for bad in (-1, hi + 1):
        with pytest.raises(InvalidInput, match=rf"from 0 to {hi}, got {bad}"):
            score_total(instrument, bad)


def test_score_total_refuses_item_scored_instruments() -> None:
    """A PHQ-9 total would hide item 9 (CLINICAL §2)."""
    with pytest.raises(InvalidInput, match="item answers"):
        score_total("phq9", 10)


def test_totals_only_instruments_refuse_item_answers() -> None:
    with pytest.raises(InvalidInput, match="enter the total"):
        score("madrs", [0] * 10)


def test_madrs_documented_thresholds() -> None:
    assert dict(get_instrument("madrs").thresholds) == {"remission_max": 12, "relapse_min": 22}


# Properties
ITEM_SCORED = ["phq9", "gad7", "pcl5", "qids-sr16"]


@st.composite
def instrument_answers(draw: st.DrawFn) -> tuple[str, list[int]]:
    inst = get_instrument(draw(st.sampled_from(ITEM_SCORED)))
    values = [draw(st.integers(it.min_value, it.max_value)) for it in inst.items]
    return inst.id, values


@settings(max_examples=200, deadline=None)
@given(instrument_answers())
def test_total_always_within_range(case: tuple[str, list[int]]) -> None:
    inst_id, values = case
    inst = get_instrument(inst_id)
    result = score(inst_id, values)
    assert result.total is not None
    assert inst.range_min is not None
    assert inst.range_max is not None
    assert inst.range_min <= result.total <= inst.range_max
    if inst.bands:
        assert result.band in inst.band_tokens


@settings(max_examples=200, deadline=None)
@given(instrument_answers(), st.data())
def test_raising_one_item_never_lowers_band_or_total(
    case: tuple[str, list[int]], data: st.DataObject
) -> None:
    inst_id, values = case
    inst = get_instrument(inst_id)
    raisable = [i for i, it in enumerate(inst.items) if values[i] < it.max_value]
    if not raisable:
        return
    i = data.draw(st.sampled_from(raisable))
    raised = list(values)
    raised[i] += 1
    before, after = score(inst_id, values), score(inst_id, raised)
    assert before.total is not None
    assert after.total is not None
    assert after.total >= before.total
    assert after.total - before.total <= 1
    if inst.bands:
        tokens = inst.band_tokens
        assert before.band is not None
        assert after.band is not None
        rank_before, rank_after = tokens.index(before.band), tokens.index(after.band)
        assert rank_before <= rank_after <= rank_before + 1
    # Flags raised by higher answers never disappear.
    assert set(before.flags) <= set(after.flags)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 27))
def test_phq9_band_matches_published_cutoffs(total: int) -> None:
    values = answers_with_total(9, 3, total, last=max(0, total - 24))
    expected = next(
        band
        for lo, hi, band in [
            (0, 4, "minimal"),
            (5, 9, "mild"),
            (10, 14, "moderate"),
            (15, 19, "moderately_severe"),
            (20, 27, "severe"),
        ]
        if lo <= total <= hi
    )
    assert score("phq9", values).band == expected


@pytest.mark.parametrize("item12", [0, 1, 2, 3])
def test_qids_item_12_flags_suicidal_ideation_whatever_the_total(item12: int) -> None:
    """CLINICAL.md §2: QIDS-SR16 item 12 (thoughts of death or suicide) >= 1 raises the same
    ``suicidal_ideation`` flag as PHQ-9 item 9, whatever the total (here the total is item 12)."""
    answers = [0] * 16
    answers[11] = item12
    result = score("qids-sr16", answers)
    assert result.total == item12
    assert ("suicidal_ideation" in result.flags) is (item12 >= 1)


def test_qids_cites_the_published_source() -> None:
    """The scorer document once cited does not exist; the published source is Rush 2003."""
    from trellis.core.instruments import get_instrument

    source = get_instrument("qids-sr16").source
    assert "Biol Psychiatry 2003;54:573" in source
    from importlib import resources

    text = resources.files("trellis.core").joinpath("data", "instruments", "qids-sr16.yaml")
    assert "CamCOPS" not in text.read_text("utf-8")


@pytest.mark.parametrize(("total", "flagged"), [(0, False), (5, False), (6, True), (20, True)])
def test_asrm_flags_possible_mania_at_6(total: int, flagged: bool) -> None:
    """CLINICAL.md §1 (Altman 1997): ASRM 5 x 0-4, totals only; ``possible_mania`` at >= 6."""
    result = score_total("asrm", total)
    assert result.total == total
    assert result.entered_as_total
    assert ("possible_mania" in result.flags) is flagged


@pytest.mark.parametrize("total", [-1, 21])
def test_asrm_total_out_of_range(total: int) -> None:
    with pytest.raises(InvalidInput, match="0 to 20"):
        score_total("asrm", total)


def test_asrm_items_are_not_taken() -> None:
    with pytest.raises(InvalidInput, match="licence"):
        score("asrm", [1, 1, 1, 1, 1])
