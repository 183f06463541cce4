"""Alert texts in the reader's language.

Alerts are stored with the English text their app wrote when it raised them (an alert is a
record: its words never change afterwards). Staff pages show them through :func:`translate`,
which recognises the texts the apps write and renders them in the page's language; a text it
does not know is shown as stored.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

VITALS: dict[str, Any] = {
    "systolic": _("systolic"),
    "diastolic": _("diastolic"),
    "heart rate": _("heart rate"),
    "SpO2": "SpO2",
    "MOAA/S": "MOAA/S",
}
_VITAL = "|".join(re.escape(k) for k in VITALS)

#: (pattern of the stored English text, its message with the same named groups).
PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(
            r"^Integration gap: no integration session within the window after dose "
            r"(?P<n>\d+) \((?P<track>[^)]*)\)$"
        ),
        _("Integration gap: no integration session within the window after dose %(n)s (%(track)s)"),
    ),
    (
        re.compile(
            r"^The integration window after dose (?P<n>\d+) closed on (?P<when>[\d-]+ [\d:]+) "
            r"with no session inside it\. Contact the patient and book an integration session\.$"
        ),
        _(
            "The integration window after dose %(n)s closed on %(when)s with no session inside "
            "it. Contact the patient and book an integration session."
        ),
    ),
    (
        re.compile(r"^Suicide risk: C-SSRS screener (?P<risk>\w+)$"),
        _("Suicide risk: C-SSRS screener, %(risk)s"),
    ),
    (
        re.compile(r"^Suicide risk: (?P<inst>.+) item 9 = (?P<n>\d+)$"),
        _("Suicide risk: %(inst)s item 9 = %(n)s"),
    ),
    (
        re.compile(r"^Relapse warning on (?P<inst>.+) \((?P<d>[\d-]+)\)$"),
        _("Relapse warning on %(inst)s (%(d)s)"),
    ),
    (
        re.compile(r"^Risk found at an integration session: same-day clinician contact$"),
        _("Risk found at an integration session: same-day clinician contact"),
    ),
    (
        re.compile(r"^A (?P<channel>.+) message could not be delivered$"),
        _("A message (%(channel)s) could not be delivered"),
    ),
    (
        re.compile(rf"^(?P<vital>{_VITAL}) (?P<rest>\d+ [≥≤<>] \d+) \((?P<chair>[^)]*)\)$"),
        _("%(vital)s %(rest)s (%(chair)s)"),
    ),
    (re.compile(rf"^(?P<vital>{_VITAL}) (?P<rest>\d+ [≥≤<>] \d+)$"), "%(vital)s %(rest)s"),
]


def _value(key: str, value: str) -> str:
    if key == "vital":
        return str(VITALS.get(value, value))
    if key == "risk":
        from trellis.measures.labels import risk_label  # alerts does not depend on measures

        return risk_label(value)
    if key == "chair" and value == "no chair":
        return gettext("no chair")
    return value


def translate(text: str) -> str:
    """``text`` (an alert's stored title or detail) in the active language."""
    for pattern, message in PATTERNS:
        m = pattern.match(text or "")
        if m:
            return str(message) % {k: _value(k, v) for k, v in m.groupdict().items()}
    return text
