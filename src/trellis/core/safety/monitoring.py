"""Live monitoring: threshold alerts and the vitals schedule (CLINICAL.md §4, §5)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.safety._common import (
    CADSS_RANGE,
    DIASTOLIC_RANGE,
    DRUGS,
    HEART_RATE_RANGE,
    MOAAS_RANGE,
    SPO2_RANGE,
    SYSTOLIC_RANGE,
    choice,
    describe,
    parse_datetime,
    reject_unknown_keys,
    same_awareness,
    whole_number,
)
from trellis.core.safety.thresholds import DEFAULT_THRESHOLDS, SafetyThresholds

#: Clinician dissociation ratings (CADSS total optional alongside; CLINICAL.md §1: no bands).
DISSOCIATION_RATINGS = ("none", "mild", "moderate", "severe")


@dataclass(frozen=True)
class Observation:
    """One set of monitoring values; any may be ``None`` (not taken at this time).

    Dissociation (clinician rating or CADSS total) is recorded but raises no alert: CLINICAL.md
    §1 gives CADSS no bands, so it is judged by the clinician (it gates discharge instead).
    """

    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    moaas: int | None = None
    dissociation: str | None = None
    cadss_total: int | None = None

    def __post_init__(self) -> None:
        checks = (
            ("systolic", SYSTOLIC_RANGE),
            ("diastolic", DIASTOLIC_RANGE),
            ("heart_rate", HEART_RATE_RANGE),
            ("spo2", SPO2_RANGE),
            ("moaas", MOAAS_RANGE),
            ("cadss_total", CADSS_RANGE),
        )
        for name, (low, high) in checks:
            value = getattr(self, name)
            if value is not None:
                whole_number(value, name, low, high)
        if self.dissociation is not None:
            choice(self.dissociation, "dissociation", DISSOCIATION_RATINGS)
        if (
            self.systolic is not None
            and self.diastolic is not None
            and self.diastolic >= self.systolic
        ):
            raise InvalidInput(
                "diastolic",
                f"{self.diastolic} must be below systolic {self.systolic} (values swapped?)",
            )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], where: str = "observation") -> Observation:
        if not isinstance(mapping, Mapping):
            raise InvalidInput(where, f"must be a mapping, got {describe(mapping)}")
        known = tuple(cls.__dataclass_fields__)
        reject_unknown_keys(mapping, known, where)
        return cls(**dict(mapping))


@dataclass(frozen=True)
class Alert:
    """An out-of-range value: which parameter, its value, the threshold that fired, and why."""

    parameter: str
    value: int
    threshold: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameter": self.parameter,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
        }


def monitoring_alerts(
    observation: Observation, thresholds: SafetyThresholds = DEFAULT_THRESHOLDS
) -> list[Alert]:
    """Alerts for an observation during monitoring, one per threshold crossed.

    Source: CLINICAL.md §5 ★ "alert at SBP ≥ 180 or DBP ≥ 110, HR > 110 or < 50, SpO2 < 92 %,
    MOAA/S ≤ 3" (BP rise after ketamine peaks ~40 min: Yale cohort, Gen Hosp Psychiatry 2024;
    MOAA/S definitions, CLINICAL.md §1). Boundaries: SBP 179 no, 180 yes; HR 110 no, 111 yes;
    HR 50 no, 49 yes; SpO2 92 no, 91 yes; MOAA/S 4 no, 3 yes.
    """
    t = thresholds
    o = observation
    alerts: list[Alert] = []
    if o.systolic is not None and o.systolic >= t.alert_systolic:
        alerts.append(
            Alert(
                "systolic",
                o.systolic,
                t.alert_systolic,
                f"systolic {o.systolic} ≥ {t.alert_systolic}",
            )
        )
    if o.diastolic is not None and o.diastolic >= t.alert_diastolic:
        alerts.append(
            Alert(
                "diastolic",
                o.diastolic,
                t.alert_diastolic,
                f"diastolic {o.diastolic} ≥ {t.alert_diastolic}",
            )
        )
    if o.heart_rate is not None and o.heart_rate > t.alert_heart_rate_high:
        alerts.append(
            Alert(
                "heart_rate",
                o.heart_rate,
                t.alert_heart_rate_high,
                f"heart rate {o.heart_rate} > {t.alert_heart_rate_high}",
            )
        )
    if o.heart_rate is not None and o.heart_rate < t.alert_heart_rate_low:
        alerts.append(
            Alert(
                "heart_rate",
                o.heart_rate,
                t.alert_heart_rate_low,
                f"heart rate {o.heart_rate} < {t.alert_heart_rate_low}",
            )
        )
    if o.spo2 is not None and o.spo2 < t.alert_spo2_low:
        alerts.append(
            Alert("spo2", o.spo2, t.alert_spo2_low, f"SpO2 {o.spo2} < {t.alert_spo2_low}")
        )
    if o.moaas is not None and o.moaas <= t.alert_moaas_at_or_below:
        alerts.append(
            Alert(
                "moaas",
                o.moaas,
                t.alert_moaas_at_or_below,
                f"MOAA/S {o.moaas} ≤ {t.alert_moaas_at_or_below}",
            )
        )
    return alerts


@dataclass(frozen=True)
class VitalsDue:
    """When the next set of vitals is due, what it is for, and whether it is overdue."""

    due_at: datetime
    label: str
    overdue: bool

    def to_dict(self) -> dict[str, Any]:
        return {"due_at": self.due_at.isoformat(), "label": self.label, "overdue": self.overdue}


def vitals_due(
    drug: str,
    first_administration: datetime,
    infusion_end: datetime | None,
    now: datetime,
    recorded_times: Iterable[datetime],
    thresholds: SafetyThresholds = DEFAULT_THRESHOLDS,
) -> VitalsDue:
    """The next vitals due for a session, with a label and an ``overdue`` flag.

    Source: CLINICAL.md §4. Esketamine (Spravato label): BP before dosing, ~40 min after, and
    before discharge, plus ★ every 15 min by default between them. IV ketamine (Riva-Posse 2018,
    Emory): every 10 min during the infusion, every 15 min after.

    Rules (``first_administration`` is the first device or infusion start, planned or actual;
    ``recorded_times`` the times full vitals were taken):

    * ``pre-dose``: due at ``first_administration`` until a reading at or before it exists.
    * Afterwards intervals run from the later of ``first_administration`` and the last reading.
      Esketamine: the next of (last + 15 min, "every 15 min"), the ``40 min`` BP and the
      ``before discharge`` reading at the minimum observation (120 min); a fixed point counts as
      taken by a reading up to ``vitals_early_window_min`` (5) before it.
      IV/IM ketamine: last + 10 min while that is still within the infusion (or the end is not
      known yet) — "during infusion (every 10 min)" — else last + 15 min, "after infusion
      (every 15 min)".
    * ``overdue`` when ``now`` is more than ``vitals_overdue_grace_min`` (0) past ``due_at``.
    """
    choice(drug, "drug", DRUGS)
    times = [parse_datetime(t, "recorded_times") for t in recorded_times]
    same_awareness(
        {
            "first_administration": first_administration,
            "infusion_end": infusion_end,
            "now": now,
            **{f"recorded_times[{i}]": t for i, t in enumerate(times)},
        }
    )
    if infusion_end is not None and infusion_end < first_administration:
        raise InvalidInput("infusion_end", "is before first_administration")
    for i, t in enumerate(times):
        if t > now:
            raise InvalidInput(f"recorded_times[{i}]", f"{t.isoformat()} is after now")
    th = thresholds
    due, label = _next_due(drug, first_administration, infusion_end, sorted(times), th)
    grace = timedelta(minutes=th.vitals_overdue_grace_min)
    return VitalsDue(due, label, now > due + grace)


def _next_due(
    drug: str,
    start: datetime,
    infusion_end: datetime | None,
    times: list[datetime],
    th: SafetyThresholds,
) -> tuple[datetime, str]:
    if not any(t <= start for t in times):
        return start, "pre-dose"
    last = max(times[-1], start)
    minutes = timedelta(minutes=1)
    if drug == "esketamine":
        window = th.vitals_early_window_min * minutes
        every = th.esketamine_vitals_every_min
        # (time, tie-break, label): on a tie the named fixed point wins over the interval.
        candidates: list[tuple[datetime, int, str]] = [
            (last + every * minutes, 1, f"every {every} min")
        ]
        for offset, name in (
            (th.esketamine_bp_check_min, f"{th.esketamine_bp_check_min} min BP"),
            (th.esketamine_min_observation_min, "before discharge"),
        ):
            point = start + offset * minutes
            if not any(t >= point - window for t in times):
                candidates.append((point, 0, name))
        due, _, label = min(candidates)
        return due, label
    during = last + th.iv_vitals_during_every_min * minutes
    if infusion_end is None or during <= infusion_end:
        return during, f"during infusion (every {th.iv_vitals_during_every_min} min)"
    return (
        last + th.iv_vitals_after_every_min * minutes,
        f"after infusion (every {th.iv_vitals_after_every_min} min)",
    )
