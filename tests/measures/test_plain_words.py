"""Outcome status, bands and C-SSRS risk in plain words (issue 13 §4); no self-link."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import translation
from tests.measures.helpers import at, days_ago, dosed_episode
from tests.measures.test_staff import phq9
from tests.support import Cast, sign_in

from trellis.measures import labels

STATUSES = ("undetermined", "no_response", "response", "remission", "relapse")


@pytest.mark.parametrize("code", STATUSES)
def test_every_status_has_a_label_and_a_meaning_in_both_languages(code: str) -> None:
    seen = {}
    for lang in ("en", "es"):
        with translation.override(lang):
            assert "_" not in labels.status_label(code)
            assert len(labels.status_meaning(code)) > 20
            seen[lang] = labels.status_meaning(code)
    assert seen["en"] != seen["es"]  # translated


def test_bands_and_risk_read_as_words() -> None:
    assert labels.band_label("moderately_severe") == "moderately severe"
    assert labels.risk_label("high") == "high risk"


@pytest.mark.parametrize(
    ("code", "en", "es"),
    [
        ("baseline", "baseline", None),
        ("pre_dose_2", "before dose 2", "antes de la dosis 2"),
        ("post_dose_1", "after dose 1", "después de la dosis 1"),
        ("week_5", "week 5", "semana 5"),
        ("month_12", "month 12", "mes 12"),
        ("end_of_series", "end of the dose series", None),
    ],
)
def test_timepoints_read_as_words(code: str, en: str, es: str | None) -> None:
    """The check-in link page listed "PHQ-9 (pre_dose_2)" (issue 13 §4: no raw codes)."""
    with translation.override("en"):
        assert labels.timepoint_label(code) == en
    with translation.override("es"):
        label = labels.timepoint_label(code)
        assert "_" not in label
        if es is not None:
            assert label == es


@pytest.mark.django_db
def test_no_response_in_words_and_no_button_to_the_page_itself(
    client: Any, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = days_ago(40)
    dosed_episode(cast, monkeypatch, doses=2, start=start)
    phq9(cast.patient_a, 20, at(start + timedelta(3)), "baseline")
    phq9(cast.patient_a, 18, at(start + timedelta(10)), "week_1")
    sign_in(client, cast.nurse_a)
    url = f"/measures/patients/{cast.patient_a.pk}/"
    chart = client.get(f"/patients/{cast.patient_a.pk}/").content.decode()
    assert "No response yet" in chart
    assert "noresponse" not in chart
    assert "not improved enough from the baseline" in chart
    assert f'href="{url}"' in chart  # the chart panel links to the full page
    page = client.get(url).content.decode()
    assert "No response yet" in page
    assert f'href="{url}"' not in page  # the full page does not link to itself
    assert "Open measures page" not in page
