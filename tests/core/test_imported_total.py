"""Imported score history: range and band from the data file, no item flags (CLINICAL.md §1-2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.instruments import score_imported_total


@pytest.mark.parametrize(
    ("instrument", "total", "band"),
    [
        ("phq9", 0, "minimal"),
        ("phq9", 4, "minimal"),
        ("phq9", 5, "mild"),
        ("phq9", 19, "moderately_severe"),
        ("phq9", 20, "severe"),
        ("phq9", 27, "severe"),
        ("gad7", 14, "moderate"),
        ("gad7", 15, "severe"),
    ],
)
def test_bands_at_the_published_boundaries(instrument: str, total: int, band: str) -> None:
    result = score_imported_total(instrument, total)
    assert (result.total, result.band, result.flags) == (total, band, ())
    assert result.entered_as_total


@pytest.mark.parametrize(("instrument", "total"), [("phq9", 28), ("phq9", -1), ("gad7", 22)])
def test_out_of_range_is_refused(instrument: str, total: int) -> None:
    with pytest.raises(InvalidInput, match="total"):
        score_imported_total(instrument, total)


@given(st.integers(min_value=0, max_value=27))
def test_any_phq9_total_has_a_band_and_no_flag(total: int) -> None:
    result = score_imported_total("phq9", total)
    assert result.band
    assert result.flags == ()
