"""Plain words for the codes of outcomes, severity bands and C-SSRS risk (one place for them).

Staff pages never show a raw code ("noresponse", "moderately_severe"): each code has a short
label and, for outcome status, what it means (CLINICAL.md §3 definitions).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

#: status code -> (label, what it means). Codes from ``trellis.core.outcomes`` (CLINICAL.md §3).
OUTCOME_STATUS: dict[str, tuple[Any, Any]] = {
    "undetermined": (
        _("Not yet known"),
        _("There is no baseline score before the first dose, so change cannot be measured."),
    ),
    "no_response": (
        _("No response yet"),
        _(
            "The latest score after dosing has not improved enough from the baseline to count "
            "as a response, or there is no score after the first dose yet."
        ),
    ),
    "response": (
        _("Response"),
        _(
            "The latest score has improved enough from the baseline to count as a response "
            "(PHQ-9: half the baseline or less), but is not in the remission range."
        ),
    ),
    "remission": (
        _("Remission"),
        _("The latest score is in the remission range (PHQ-9: below 5)."),
    ),
    "relapse": (
        _("Relapse"),
        _(
            "After a response, symptoms came back on two visits 5–15 days apart, or a "
            "hospitalisation for worsening depression or a suicide attempt was recorded."
        ),
    ),
}

#: severity band tokens of the instrument files (``core/data/instruments``).
BANDS: dict[str, Any] = {
    "none": _("none"),
    "minimal": _("minimal"),
    "mild": _("mild"),
    "moderate": _("moderate"),
    "moderately_severe": _("moderately severe"),
    "severe": _("severe"),
    "very_severe": _("very severe"),
}

#: C-SSRS screener risk levels (``trellis.core.instruments.cssrs.cssrs_risk``).
CSSRS_RISK: dict[str, Any] = {
    "none": _("no risk identified"),
    "low": _("low risk"),
    "moderate": _("moderate risk"),
    "high": _("high risk"),
}


def _fallback(code: str) -> str:
    return code.replace("_", " ") if code else ""


def status_label(code: str) -> str:
    return str(OUTCOME_STATUS[code][0]) if code in OUTCOME_STATUS else _fallback(code)


def status_meaning(code: str) -> str:
    return str(OUTCOME_STATUS[code][1]) if code in OUTCOME_STATUS else ""


def band_label(code: str) -> str:
    return str(BANDS.get(code, _fallback(code)))


def risk_label(code: str) -> str:
    return str(CSSRS_RISK.get(code, _fallback(code)))


#: Timepoint codes of ``trellis.core.assessment_schedule`` ("pre_dose_2", "week_5"), in words.
_TIMEPOINT_NUMBERED: dict[str, Any] = {
    "pre_dose": _("before dose %(n)d"),
    "post_dose": _("after dose %(n)d"),
    "week": _("week %(n)d"),
    "month": _("month %(n)d"),
}
_TIMEPOINT_FIXED: dict[str, Any] = {
    "baseline": _("baseline"),
    "end_of_series": _("end of the dose series"),
}


def timepoint_label(code: str) -> str:
    """A timepoint in words: pre_dose_2 is "before dose 2", week_5 "week 5"."""
    if code in _TIMEPOINT_FIXED:
        return str(_TIMEPOINT_FIXED[code])
    stem, _sep, number = code.rpartition("_")
    if stem in _TIMEPOINT_NUMBERED and number.isdigit():
        return str(_TIMEPOINT_NUMBERED[stem]) % {"n": int(number)}
    return _fallback(code)
