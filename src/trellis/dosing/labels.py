"""The dosing rule texts (pre-dose list, hold reasons, discharge readiness) in the page's language.

``trellis.core.safety`` explains itself in English (the CLI and the API read those words); the
staff pages show them through :func:`translate` (the ``dosing_text`` filter): fixed texts are
catalogue entries, texts with numbers are recognised by their pattern. English stays as written.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from trellis.alerts.labels import VITALS

#: The fixed texts of the pre-dose check and discharge readiness, word for word.
FIXED: dict[str, Any] = {
    "patient identity not confirmed": _("patient identity not confirmed"),
    "screening changes since the last visit not reviewed": _(
        "screening changes since the last visit not reviewed"
    ),
    "pregnancy status not recorded (this track asks)": _(
        "pregnancy status not recorded (this track asks)"
    ),
    "pregnant: a screening exclusion on this track": _(
        "pregnant: a screening exclusion on this track"
    ),
    "pregnant: needs a prescriber review with a reason before dosing": _(
        "pregnant: needs a prescriber review with a reason before dosing"
    ),
    "planned start time not recorded (needed for fasting times)": _(
        "planned start time not recorded (needed for fasting times)"
    ),
    "concomitant medicines not reviewed": _("concomitant medicines not reviewed"),
    "today's PHQ-9 item 9 not recorded": _("today's PHQ-9 item 9 not recorded"),
    "pre-dose blood pressure not recorded": _("pre-dose blood pressure not recorded"),
    "pre-dose heart rate not recorded": _("pre-dose heart rate not recorded"),
    "pre-dose SpO2 not recorded": _("pre-dose SpO2 not recorded"),
    "weight not recorded (needed for the mg/kg dose)": _(
        "weight not recorded (needed for the mg/kg dose)"
    ),
    "ride home not confirmed": _("ride home not confirmed"),
    "no-driving advice not given": _("no-driving advice not given"),
    "prescriber has not signed off the pre-dose check": _(
        "prescriber has not signed off the pre-dose check"
    ),
    "sedation not resolved (clinician check)": _("sedation not resolved (clinician check)"),
    "dissociation not resolved (clinician check)": _("dissociation not resolved (clinician check)"),
    "the dose has not started": _("the dose has not started"),
    "no MOAA/S recorded": _("no MOAA/S recorded"),
    "no blood pressure recorded during monitoring": _(
        "no blood pressure recorded during monitoring"
    ),
    "no SpO2 recorded during monitoring": _("no SpO2 recorded during monitoring"),
    "the infusion has not ended": _("the infusion has not ended"),
}

WHAT: dict[str, Any] = {"food": _("food"), "liquids": _("liquids")}
SINCE: dict[str, Any] = {"first device": _("first device"), "infusion end": _("infusion end")}
_VITAL = "|".join(re.escape(k) for k in VITALS)

PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"^time of last (?P<what>food|liquids) not recorded$"),
        _("time of last %(what)s not recorded"),
    ),
    (
        re.compile(
            r"^last (?P<what>food|liquids) (?P<gap>-?[\d.]+) min before the planned start; "
            r"needs ≥ (?P<need>\d+) min$"
        ),
        _("last %(what)s %(gap)s min before the planned start; needs ≥ %(need)s min"),
    ),
    (
        re.compile(r"^PHQ-9 item 9 is (?P<n>\d+): same-day C-SSRS result needed$"),
        _("PHQ-9 item 9 is %(n)s: same-day C-SSRS result needed"),
    ),
    (
        re.compile(r"^PHQ-9 item 9 is (?P<n>\d+): clinician contact not recorded$"),
        _("PHQ-9 item 9 is %(n)s: clinician contact not recorded"),
    ),
    (
        re.compile(r"^hold \((?P<reasons>.*)\): needs a prescriber override with a reason$"),
        _("hold (%(reasons)s): needs a prescriber override with a reason"),
    ),
    (
        re.compile(
            r"^(?P<n>\d+) min since (?P<since>first device|infusion end); "
            r"needs ≥ (?P<need>\d+) min$"
        ),
        _("%(n)s min since %(since)s; needs ≥ %(need)s min"),
    ),
    (
        re.compile(r"^MOAA/S (?P<n>\d+); needs (?P<need>\d+)$"),
        _("MOAA/S %(n)s; needs %(need)s"),
    ),
    (
        re.compile(r"^last BP (?P<bp>\d+/\d+); needs below (?P<need>\d+/\d+)$"),
        _("last BP %(bp)s; needs below %(need)s"),
    ),
    (
        re.compile(r"^SpO2 (?P<n>\d+); needs ≥ (?P<need>\d+)$"),
        _("SpO2 %(n)s; needs ≥ %(need)s"),
    ),
    (
        re.compile(r"^(?P<n>\d+) adverse event\(s\) open$"),
        _("%(n)s adverse event(s) open"),
    ),
    (
        re.compile(
            r"^(?P<far>(systolic|diastolic) \d+ vs \d+(; diastolic \d+ vs \d+)?) "
            r"pre-dose: more than (?P<pct>[\d.]+) % apart$"
        ),
        _("%(far)s before the dose: more than %(pct)s %% apart"),
    ),
    (re.compile(rf"^(?P<vital>{_VITAL}) (?P<rest>\d+ [≥≤<>] \d+)$"), "%(vital)s %(rest)s"),
]


def _value(key: str, value: str) -> str:
    if key == "what":
        return str(WHAT[value])
    if key == "since":
        return str(SINCE[value])
    if key == "vital":
        return str(VITALS.get(value, value))
    if key == "far":
        return re.sub(
            r"(systolic|diastolic) (\d+) vs (\d+)",
            lambda m: f"{VITALS[m.group(1)]} {m.group(2)} / {m.group(3)}",
            value,
        )
    if key == "reasons":
        return "; ".join(translate(part) for part in value.split("; "))
    return value


def translate(text: str) -> str:
    """A dosing rule's English text in the active language (as written if not recognised)."""
    if (get_language() or "en").startswith("en"):
        return text  # the rules write English: shown as written
    if text in FIXED:
        return str(FIXED[text])
    for pattern, message in PATTERNS:
        m = pattern.match(text or "")
        if m:
            return str(message) % {k: _value(k, v) for k, v in m.groupdict().items()}
    return text
