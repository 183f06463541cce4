"""Discharge readiness (CLINICAL.md §5; REMS minimum observation, §4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.safety._common import (
    DRUGS,
    MOAAS_RANGE,
    SPO2_RANGE,
    blood_pressure,
    boolean,
    choice,
    describe,
    minutes_between,
    parse_datetime,
    reject_unknown_keys,
    same_awareness,
    whole_number,
)
from trellis.core.safety.thresholds import DEFAULT_THRESHOLDS, SafetyThresholds

#: Stable criterion names, in the order they are reported.
DISCHARGE_CRITERIA = (
    "minimum_observation",
    "moaas",
    "bp_below_alert",
    "bp_within_20_percent",
    "bp_at_40_min",
    "spo2",
    "sedation_resolved",
    "dissociation_resolved",
    "respiratory_depression_resolved",
    "open_adverse_events",
    "ride_confirmed",
)

_REQUIRED_KEYS = (
    "drug",
    "first_administration",
    "now",
    "moaas",
    "predose_bp",
    "last_bp",
    "spo2",
    "sedation_resolved",
    "dissociation_resolved",
    "respiratory_depression_resolved",
    "open_adverse_events",
    "ride_confirmed",
)


def _adverse_event_count(value: object) -> int:
    """``open_adverse_events``: a count (0–1000) or a boolean (true = at least one open).

    Both forms are accepted because a form checkbox gives a boolean and a query gives a count;
    ``true`` counts as 1. Negative or fractional counts and text are refused.
    """
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, int):
        raise InvalidInput(
            "open_adverse_events",
            f"must be a count (0 or more) or true/false, got {describe(value)}",
        )
    return whole_number(value, "open_adverse_events", 0, 1000)


@dataclass(frozen=True)
class DischargeInputs:
    """The values the discharge rule reads; all are required.

    ``bp_at_40_min`` is the blood pressure taken about 40 min after the first esketamine
    device (Spravato label, CLINICAL.md §4: BP before dosing, ~40 min after, and before
    discharge); ``None`` when not taken, which leaves an esketamine patient not ready.
    ``first_administration`` is the first esketamine device or the ketamine infusion start;
    ``infusion_end`` is required for ketamine (for IM, the injection time). Date-times are all
    naive or all with an offset. ``open_adverse_events`` is a count (a boolean is accepted and
    stored as 0/1).
    """

    drug: str
    first_administration: datetime
    now: datetime
    moaas: int
    predose_bp: tuple[int, int]
    last_bp: tuple[int, int]
    spo2: int
    sedation_resolved: bool
    dissociation_resolved: bool
    respiratory_depression_resolved: bool
    open_adverse_events: int
    ride_confirmed: bool
    infusion_end: datetime | None = None
    bp_at_40_min: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        choice(self.drug, "drug", DRUGS)
        for name in ("first_administration", "now"):
            if not isinstance(getattr(self, name), datetime):
                raise InvalidInput(
                    name, f"must be a date-time, got {describe(getattr(self, name))}"
                )
        if self.infusion_end is not None and not isinstance(self.infusion_end, datetime):
            raise InvalidInput(
                "infusion_end", f"must be a date-time, got {describe(self.infusion_end)}"
            )
        same_awareness(
            {
                "first_administration": self.first_administration,
                "infusion_end": self.infusion_end,
                "now": self.now,
            }
        )
        if self.drug == "ketamine" and self.infusion_end is None:
            raise InvalidInput(
                "infusion_end", "is required for ketamine (observation runs from it)"
            )
        if self.infusion_end is not None and self.infusion_end < self.first_administration:
            raise InvalidInput("infusion_end", "is before first_administration")
        if self.now < self.first_administration:
            raise InvalidInput("now", "is before first_administration")
        if self.infusion_end is not None and self.now < self.infusion_end:
            raise InvalidInput("now", "is before infusion_end")
        whole_number(self.moaas, "moaas", *MOAAS_RANGE)
        blood_pressure(self.predose_bp, "predose_bp")
        blood_pressure(self.last_bp, "last_bp")
        if self.bp_at_40_min is not None:
            blood_pressure(self.bp_at_40_min, "bp_at_40_min")
        whole_number(self.spo2, "spo2", *SPO2_RANGE)
        for name in (
            "sedation_resolved",
            "dissociation_resolved",
            "respiratory_depression_resolved",
            "ride_confirmed",
        ):
            boolean(getattr(self, name), name)
        whole_number(self.open_adverse_events, "open_adverse_events", 0, 1000)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], where: str = "input") -> DischargeInputs:
        """Build from JSON data (the ``trellis safety discharge --input`` file).

        Every key is required (``infusion_end`` only for ketamine) except ``bp_at_40_min``
        (esketamine: without it the patient is not ready, the unmet list names it); unknown
        keys are refused; date-times are ISO 8601; BPs are ``[systolic, diastolic]``.
        """
        if not isinstance(mapping, Mapping):
            raise InvalidInput(where, f"must be a JSON object, got {describe(mapping)}")
        reject_unknown_keys(mapping, (*_REQUIRED_KEYS, "infusion_end", "bp_at_40_min"), where)
        missing = [k for k in _REQUIRED_KEYS if k not in mapping]
        if missing:
            raise InvalidInput(missing[0], f"is required (missing: {', '.join(missing)})")
        drug = choice(mapping["drug"], "drug", DRUGS)
        infusion_raw = mapping.get("infusion_end")
        bp40_raw = mapping.get("bp_at_40_min")
        if drug == "ketamine" and infusion_raw is None:
            raise InvalidInput(
                "infusion_end", "is required for ketamine (observation runs from it)"
            )
        return cls(
            drug=drug,
            first_administration=parse_datetime(
                mapping["first_administration"], "first_administration"
            ),
            infusion_end=(
                None if infusion_raw is None else parse_datetime(infusion_raw, "infusion_end")
            ),
            now=parse_datetime(mapping["now"], "now"),
            moaas=whole_number(mapping["moaas"], "moaas", *MOAAS_RANGE),
            predose_bp=blood_pressure(mapping["predose_bp"], "predose_bp"),
            last_bp=blood_pressure(mapping["last_bp"], "last_bp"),
            bp_at_40_min=(None if bp40_raw is None else blood_pressure(bp40_raw, "bp_at_40_min")),
            spo2=whole_number(mapping["spo2"], "spo2", *SPO2_RANGE),
            sedation_resolved=boolean(mapping["sedation_resolved"], "sedation_resolved"),
            dissociation_resolved=boolean(
                mapping["dissociation_resolved"], "dissociation_resolved"
            ),
            respiratory_depression_resolved=boolean(
                mapping["respiratory_depression_resolved"], "respiratory_depression_resolved"
            ),
            open_adverse_events=_adverse_event_count(mapping["open_adverse_events"]),
            ride_confirmed=boolean(mapping["ride_confirmed"], "ride_confirmed"),
        )


@dataclass(frozen=True)
class Readiness:
    """``ready`` ⇔ no unmet criterion; ``details`` explains each unmet one."""

    unmet: tuple[str, ...]
    details: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return not self.unmet

    def to_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "unmet": list(self.unmet),
            "details": dict(zip(self.unmet, self.details, strict=True)),
        }


def discharge_readiness(
    inputs: DischargeInputs, thresholds: SafetyThresholds = DEFAULT_THRESHOLDS
) -> Readiness:
    """Ready / not ready for discharge, with every unmet criterion named.

    Source: CLINICAL.md §5 ★ (discharge criteria) and §4 (Spravato REMS: monitoring ≥ 120 min
    and until sedation, dissociation and respiratory depression resolve). Criteria, in order
    (stable names, see :data:`DISCHARGE_CRITERIA`):

    * ``minimum_observation``: esketamine ≥ 120 min from the first device; ketamine ≥ 60 min
      after ``infusion_end``.
    * ``moaas``: MOAA/S equals 5.
    * ``bp_below_alert``: last systolic < 180 **and** diastolic < 110 (the alert thresholds).
    * ``bp_within_20_percent``: |last − pre-dose| ≤ 0.2 × pre-dose, for systolic **and**
      diastolic separately (a fall counts as much as a rise); computed exactly.
    * ``bp_at_40_min`` (esketamine only): the blood pressure about 40 min after the first
      device was taken (Spravato label, CLINICAL.md §4: BP before, ~40 min after and before
      discharge). A high reading there raises the monitoring alert; here it must exist.
    * ``spo2``: ≥ 94 %.
    * ``sedation_resolved``, ``dissociation_resolved``, ``respiratory_depression_resolved``:
      clinician check is true (REMS: monitor until sedation, dissociation and respiratory
      depression resolve, CLINICAL.md §4-5; true also when it did not occur, as on the REMS
      Patient Monitoring Form).
    * ``open_adverse_events``: no adverse event left open (count 0).
    * ``ride_confirmed``: ride home confirmed.
    """
    t = thresholds
    i = inputs
    unmet: list[tuple[str, str]] = []
    if i.drug == "esketamine":
        observed = minutes_between(i.first_administration, i.now)
        needed, since = t.esketamine_min_observation_min, "first device"
    else:
        assert i.infusion_end is not None  # checked in DischargeInputs
        observed = minutes_between(i.infusion_end, i.now)
        needed, since = t.ketamine_min_observation_min, "infusion end"
    if observed < needed:
        unmet.append(
            # Whole minutes, counted down: "0.732902 min" helped nobody (issue 13).
            ("minimum_observation", f"{int(observed)} min since {since}; needs ≥ {needed} min")
        )
    if i.moaas != t.discharge_moaas:
        unmet.append(("moaas", f"MOAA/S {i.moaas}; needs {t.discharge_moaas}"))
    last_sys, last_dia = i.last_bp
    if last_sys >= t.alert_systolic or last_dia >= t.alert_diastolic:
        unmet.append(
            (
                "bp_below_alert",
                f"last BP {last_sys}/{last_dia}; "
                f"needs below {t.alert_systolic}/{t.alert_diastolic}",
            )
        )
    fraction = Fraction(str(t.discharge_bp_change_fraction))
    far = [
        f"{name} {last} vs {pre}"
        for name, last, pre in (
            ("systolic", last_sys, i.predose_bp[0]),
            ("diastolic", last_dia, i.predose_bp[1]),
        )
        if abs(last - pre) > fraction * pre
    ]
    if far:
        pct = float(fraction * 100)
        unmet.append(
            ("bp_within_20_percent", f"{'; '.join(far)} pre-dose: more than {pct:g} % apart")
        )
    if i.drug == "esketamine" and i.bp_at_40_min is None:
        unmet.append(("bp_at_40_min", "no blood pressure recorded at about 40 min after dosing"))
    if i.spo2 < t.discharge_spo2_min:
        unmet.append(("spo2", f"SpO2 {i.spo2}; needs ≥ {t.discharge_spo2_min}"))
    if not i.sedation_resolved:
        unmet.append(("sedation_resolved", "sedation not resolved (clinician check)"))
    if not i.dissociation_resolved:
        unmet.append(("dissociation_resolved", "dissociation not resolved (clinician check)"))
    if not i.respiratory_depression_resolved:
        unmet.append(
            (
                "respiratory_depression_resolved",
                "respiratory depression not resolved (clinician check)",
            )
        )
    if i.open_adverse_events:
        unmet.append(("open_adverse_events", f"{i.open_adverse_events} adverse event(s) open"))
    if not i.ride_confirmed:
        unmet.append(("ride_confirmed", "ride home not confirmed"))
    return Readiness(tuple(u[0] for u in unmet), tuple(u[1] for u in unmet))
