"""Rules the ``access`` app needs beside :mod:`trellis.core.fees`, :mod:`~trellis.core.cost` and
:mod:`~trellis.core.equity`: which planned activities are billed, how an esketamine dose is
priced, and how one episode becomes a record of the equity funnel.

Pure: values in, values out (CLINICAL.md §3, §4, §8).

* **Billed sessions** (:func:`billed_sessions`): every activity of a plan is priced by its kind
  (``preparation``, ``dose``, ``integration`` including extra therapy sessions such as relapse
  prevention, ``peer_circle``, ``assessment``, ``follow_up`` check-ins), except the
  community-health-worker navigator contacts of the ``chw-navigator`` adaptation: navigation is
  an access support, not a clinical visit, so it is never billed to the patient (Trellis choice).
* **Dose items**: IV or IM racemic ketamine is the ``ketamine_iv`` item (CLINICAL.md §8: $400–800
  per infusion; IM is priced as a clinic ketamine session). An esketamine dose of 56 mg or less
  is ``esketamine_56`` and above 56 mg ``esketamine_84``, the split of the Medicare codes G2082
  (≤ 56 mg) / G2083 (> 56 mg) (CLINICAL.md §8); a 28 mg first dose (age 65+) is therefore an
  ``esketamine_56`` session.
* **Equity funnel** (:func:`episode_funnel`): referred (the episode exists) → screened (a
  screening was recorded) → started (dose 1 given) → completed the dose series (every planned
  induction dose given) with integration adherence ≥ 80 % (CLINICAL.md §3, §6) → response →
  remission → durable remission at 90 days. Outcomes the caller does not know are False; a
  stage is never true without the one it needs (the nesting of
  :data:`trellis.core.equity.FUNNEL`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from trellis.core.cost import PlannedSession
from trellis.core.errors import InvalidInput

__all__ = [
    "ADHERENCE_THRESHOLD_PERCENT",
    "NOT_BILLED_NAMES",
    "PATIENT_RACE_TO_OMB",
    "BilledCourse",
    "billed_sessions",
    "dose_item",
    "episode_funnel",
    "omb_categories",
]

#: Activity names never billed to the patient (see the module docstring).
NOT_BILLED_NAMES: frozenset[str] = frozenset({"chw-navigator-contact"})

#: CLINICAL.md §3/§6 and issue 6: the series counts as completed with ≥ 80 % integration.
ADHERENCE_THRESHOLD_PERCENT = 80.0

#: The patient record's race/ethnicity codes → OMB SPD 15 (2024) keys of
#: :data:`trellis.core.equity.OMB_CATEGORIES`; "prefer not to say" is no selection (unknown).
PATIENT_RACE_TO_OMB: Mapping[str, str | None] = {
    "aian": "american_indian_or_alaska_native",
    "asian": "asian",
    "black": "black_or_african_american",
    "hispanic": "hispanic_or_latino",
    "mena": "middle_eastern_or_north_african",
    "nhpi": "native_hawaiian_or_pacific_islander",
    "white": "white",
    "prefer_not": None,
}


def dose_item(drug: str, mg: int | None = None) -> str:
    """The priced item of one dose: ``ketamine_iv`` or ``esketamine_56``/``esketamine_84``.

    ``drug`` is a protocol's drug (``ketamine`` or ``esketamine``); an esketamine dose needs its
    milligrams (G2082 ≤ 56 mg, G2083 > 56 mg; CLINICAL.md §8).
    """
    if drug == "ketamine":
        return "ketamine_iv"
    if drug == "esketamine":
        if mg is None or isinstance(mg, bool) or not isinstance(mg, int) or mg <= 0:
            raise InvalidInput("esketamine_mg", f"an esketamine dose needs its mg, got {mg!r}")
        return "esketamine_56" if mg <= 56 else "esketamine_84"
    raise InvalidInput("drug", f"unknown drug {drug!r} (known: ketamine, esketamine)")


@dataclass(frozen=True)
class BilledCourse:
    """The sessions to price, in plan order, and how many activities were left unbilled."""

    sessions: tuple[PlannedSession, ...]
    not_billed: int


def billed_sessions(
    drug: str,
    activities: Iterable[tuple[str, str]],
    *,
    first_dose_mg: int | None = None,
    later_dose_mg: int | None = None,
) -> BilledCourse:
    """Planned ``(kind, name)`` activities (plan order) → the sessions to price.

    The first ``dose`` uses ``first_dose_mg`` and later ones ``later_dose_mg`` (esketamine only;
    ignored for ketamine). Navigator contacts are not billed (module docstring).
    """
    sessions: list[PlannedSession] = []
    skipped = 0
    doses = 0
    for kind, name in activities:
        if name in NOT_BILLED_NAMES:
            skipped += 1
            continue
        if kind == "dose":
            doses += 1
            mg = first_dose_mg if doses == 1 else later_dose_mg
            sessions.append(PlannedSession("dose", dose_item(drug, mg)))
        else:
            sessions.append(PlannedSession(kind))
    return BilledCourse(tuple(sessions), skipped)


def omb_categories(codes: Sequence[str]) -> tuple[str, ...]:
    """The patient record's race/ethnicity codes as OMB keys (unknown codes raise)."""
    out = []
    for code in codes:
        if code not in PATIENT_RACE_TO_OMB:
            raise InvalidInput("race_ethnicity", f"unknown code {code!r}")
        key = PATIENT_RACE_TO_OMB[code]
        if key is not None:
            out.append(key)
    return tuple(sorted(set(out)))


def episode_funnel(
    *,
    screened: bool,
    doses_given: int,
    doses_planned: int,
    adherence_percent: float | None,
    outcomes: Mapping[str, bool | None] | None = None,
) -> dict[str, bool]:
    """One episode's funnel flags (module docstring); unknown outcomes are False.

    ``doses_planned`` is the track's induction series; ``adherence_percent`` the integration
    adherence of the doses given (None: nothing due yet, which cannot complete a series).
    ``outcomes`` may carry ``response``, ``remission`` and ``durable_remission_90d``.
    """
    if doses_given < 0 or doses_planned < 1:
        raise InvalidInput("doses", "doses_given must be ≥ 0 and doses_planned ≥ 1")
    out = outcomes or {}
    started = doses_given >= 1
    completed = (
        started
        and doses_given >= doses_planned
        and adherence_percent is not None
        and adherence_percent >= ADHERENCE_THRESHOLD_PERCENT
    )
    response = started and bool(out.get("response"))
    remission = started and bool(out.get("remission"))
    durable = remission and bool(out.get("durable_remission_90d"))
    return {
        "referred": True,
        # Dosing without a recorded screening still passed screening (the funnel is nested).
        "screened": screened or started,
        "started": started,
        "completed_series_with_80pct_integration": completed,
        "response": response,
        "remission": remission,
        "durable_remission_90d": durable,
    }
