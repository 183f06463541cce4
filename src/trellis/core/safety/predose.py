"""Pre-dose decision and checklist (CLINICAL.md §2, §4, §5).

``predose_decision`` turns the pre-dose vitals into ``proceed`` or ``hold``;
``predose_checklist`` lists every item of the nurse's pre-dose check that is still missing
(including an un-overridden hold); ``can_start_dose`` wraps it: the dose may start only when the
list is empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from trellis.core.errors import InvalidInput
from trellis.core.safety._common import (
    DIASTOLIC_RANGE,
    DRUGS,
    HEART_RATE_RANGE,
    SPO2_RANGE,
    SYSTOLIC_RANGE,
    WEIGHT_RANGE_KG,
    boolean,
    choice,
    describe,
    minutes_between,
    number,
    parse_datetime,
    reject_unknown_keys,
    same_awareness,
    whole_number,
)
from trellis.core.safety.thresholds import DEFAULT_THRESHOLDS, SafetyThresholds

DecisionValue = Literal["proceed", "hold"]

#: Concomitant-medicine classes reviewed before each dose (CLINICAL.md §4, REMS form).
MEDICINE_CLASSES = ("benzodiazepines", "other_sedatives", "stimulants", "maois", "opioids")

ROUTES = ("iv", "im", "intranasal")

#: C-SSRS screener risk levels (CLINICAL.md §2).
CSSRS_RISKS = ("none", "low", "moderate", "high")

#: Pregnancy status values a nurse may record.
PREGNANCY_STATUSES = ("not_pregnant", "pregnant", "not_applicable")


@dataclass(frozen=True)
class Decision:
    """``proceed`` or ``hold``, with one specific reason per threshold crossed."""

    decision: DecisionValue
    reasons: tuple[str, ...] = ()

    @property
    def hold(self) -> bool:
        return self.decision == "hold"

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "reasons": list(self.reasons)}


def predose_decision(
    systolic: int,
    diastolic: int,
    heart_rate: int | None = None,
    spo2: int | None = None,
    thresholds: SafetyThresholds = DEFAULT_THRESHOLDS,
) -> Decision:
    """Decide ``proceed`` or ``hold`` from the pre-dose vitals.

    Source: CLINICAL.md §5 ★ "Pre-dose BP > 140 systolic or > 90 diastolic → hold: dosing needs
    a prescriber's recorded override with reason" (Spravato label, warnings: assess BP before
    dosing and weigh the risk when baseline BP is elevated). The comparison is strict: exactly
    140/90 proceeds.

    Trellis decision (``thresholds.predose_hold_on_pulse_and_spo2``, default on): a heart rate
    or SpO2 that would raise a monitoring alert (CLINICAL.md §5: HR > 110 or < 50, SpO2 < 92 %)
    also holds, with its own reason. Reasons read like ``"systolic 141 > 140"``.
    """
    systolic = whole_number(systolic, "systolic", *SYSTOLIC_RANGE)
    diastolic = whole_number(diastolic, "diastolic", *DIASTOLIC_RANGE)
    if diastolic >= systolic:
        raise InvalidInput(
            "diastolic", f"{diastolic} must be below systolic {systolic} (values swapped?)"
        )
    if heart_rate is not None:
        heart_rate = whole_number(heart_rate, "heart_rate", *HEART_RATE_RANGE)
    if spo2 is not None:
        spo2 = whole_number(spo2, "spo2", *SPO2_RANGE)
    t = thresholds
    reasons: list[str] = []
    if systolic > t.predose_systolic_hold:
        reasons.append(f"systolic {systolic} > {t.predose_systolic_hold}")
    if diastolic > t.predose_diastolic_hold:
        reasons.append(f"diastolic {diastolic} > {t.predose_diastolic_hold}")
    if t.predose_hold_on_pulse_and_spo2:
        if heart_rate is not None and heart_rate > t.alert_heart_rate_high:
            reasons.append(f"heart rate {heart_rate} > {t.alert_heart_rate_high}")
        if heart_rate is not None and heart_rate < t.alert_heart_rate_low:
            reasons.append(f"heart rate {heart_rate} < {t.alert_heart_rate_low}")
        if spo2 is not None and spo2 < t.alert_spo2_low:
            reasons.append(f"SpO2 {spo2} < {t.alert_spo2_low}")
    return Decision("hold" if reasons else "proceed", tuple(reasons))


#: Spravato label (CLINICAL.md §4): no food 2 h, no liquids 30 min before dosing (legal floors).
ESKETAMINE_NO_FOOD_MIN = 120
ESKETAMINE_NO_LIQUIDS_MIN = 30


@dataclass(frozen=True)
class TrackRequirements:
    """What a protocol track asks of the pre-dose check.

    ``drug`` ``esketamine`` implies the fasting rule (CLINICAL.md §4: no food 2 h, no liquids
    30 min before, Spravato label); ``route`` ``iv``/``im`` implies a weight (mg/kg dosing);
    ``asks_pregnancy`` is set by the track; ``pregnancy_excludes`` says what a positive answer
    means: a hard exclusion (CLINICAL.md §5: IV/IM track, per program), or, when false, a
    prescriber review (recorded as ``PredoseRecord.pregnancy_review``) before dosing.
    """

    drug: str
    route: str
    asks_pregnancy: bool = False
    pregnancy_excludes: bool = True
    no_food_minutes: int = ESKETAMINE_NO_FOOD_MIN
    no_liquids_minutes: int = ESKETAMINE_NO_LIQUIDS_MIN

    def __post_init__(self) -> None:
        choice(self.drug, "track.drug", DRUGS)
        choice(self.route, "track.route", ROUTES)
        if self.drug == "esketamine" and self.route != "intranasal":
            raise InvalidInput("track.route", f"esketamine is given intranasal, got {self.route!r}")
        if self.drug == "ketamine" and self.route == "intranasal":
            raise InvalidInput("track.route", "racemic ketamine tracks are iv or im")
        boolean(self.asks_pregnancy, "track.asks_pregnancy")
        boolean(self.pregnancy_excludes, "track.pregnancy_excludes")
        whole_number(self.no_food_minutes, "track.no_food_minutes", 0, 24 * 60)
        whole_number(self.no_liquids_minutes, "track.no_liquids_minutes", 0, 24 * 60)
        if self.drug == "esketamine":
            # Law, not a setting (CLINICAL.md §4-5): the label's fasting times are floors.
            for name, floor, what in (
                ("no_food_minutes", ESKETAMINE_NO_FOOD_MIN, "no food for 2 hours"),
                ("no_liquids_minutes", ESKETAMINE_NO_LIQUIDS_MIN, "no liquids for 30 minutes"),
            ):
                value = getattr(self, name)
                if value < floor:
                    raise InvalidInput(
                        f"track.{name}",
                        f"{value} is below the legal floor of {floor} (Spravato label: {what} "
                        "before dosing); a track may raise it, never lower it",
                    )

    @property
    def needs_weight(self) -> bool:
        return self.route in ("iv", "im")

    @property
    def needs_fasting(self) -> bool:
        return self.drug == "esketamine"

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], where: str = "track") -> TrackRequirements:
        """Build from a protocol track's configuration, validating every key."""
        if not isinstance(mapping, Mapping):
            raise InvalidInput(where, f"must be a mapping, got {describe(mapping)}")
        known = (
            "drug",
            "route",
            "asks_pregnancy",
            "pregnancy_excludes",
            "no_food_minutes",
            "no_liquids_minutes",
        )
        reject_unknown_keys(mapping, known, where)
        for key in ("drug", "route"):
            if key not in mapping:
                raise InvalidInput(f"{where}.{key}", "is required")
        return cls(**dict(mapping))


@dataclass(frozen=True)
class PrescriberOverride:
    """A prescriber's recorded decision to dose despite a hold; ``reason`` must not be blank."""

    prescriber: str
    reason: str

    def __post_init__(self) -> None:
        for name in ("prescriber", "reason"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidInput(f"override.{name}", f"must be text, got {describe(value)}")

    @property
    def valid(self) -> bool:
        return bool(self.prescriber.strip()) and bool(self.reason.strip())


@dataclass(frozen=True)
class PredoseRecord:
    """What the nurse has recorded so far for today's pre-dose check (``None`` = not recorded).

    Times are date-times (all naive or all with an offset). ``concomitant_medicines`` holds the
    classes the patient currently takes (subset of :data:`MEDICINE_CLASSES`; empty = none), and
    counts only once ``concomitant_medicines_reviewed`` is true.
    """

    identity_confirmed: bool | None = None
    screening_changes_reviewed: bool | None = None
    pregnancy_status: str | None = None
    planned_start: datetime | None = None
    last_food: datetime | None = None
    last_liquids: datetime | None = None
    concomitant_medicines_reviewed: bool | None = None
    concomitant_medicines: frozenset[str] = field(default_factory=frozenset)
    phq9_item9: int | None = None
    cssrs_risk: str | None = None
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    weight_kg: float | None = None
    ride_home_confirmed: bool | None = None
    no_driving_advice_given: bool | None = None
    override: PrescriberOverride | None = None
    pregnancy_review: PrescriberOverride | None = None
    clinician_contact_by: str | None = None
    prescriber_sign_off: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "identity_confirmed",
            "screening_changes_reviewed",
            "concomitant_medicines_reviewed",
            "ride_home_confirmed",
            "no_driving_advice_given",
        ):
            value = getattr(self, name)
            if value is not None:
                boolean(value, name)
        if self.pregnancy_status is not None:
            choice(self.pregnancy_status, "pregnancy_status", PREGNANCY_STATUSES)
        for name in ("planned_start", "last_food", "last_liquids"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, datetime):
                raise InvalidInput(name, f"must be a date-time, got {describe(value)}")
        same_awareness(
            {
                "planned_start": self.planned_start,
                "last_food": self.last_food,
                "last_liquids": self.last_liquids,
            }
        )
        for med in self.concomitant_medicines:
            choice(med, "concomitant_medicines", MEDICINE_CLASSES)
        if self.phq9_item9 is not None:
            whole_number(self.phq9_item9, "phq9_item9", 0, 3)
        if self.cssrs_risk is not None:
            choice(self.cssrs_risk, "cssrs_risk", CSSRS_RISKS)
        if self.systolic is not None:
            whole_number(self.systolic, "systolic", *SYSTOLIC_RANGE)
        if self.diastolic is not None:
            whole_number(self.diastolic, "diastolic", *DIASTOLIC_RANGE)
        if self.heart_rate is not None:
            whole_number(self.heart_rate, "heart_rate", *HEART_RATE_RANGE)
        if self.spo2 is not None:
            whole_number(self.spo2, "spo2", *SPO2_RANGE)
        if self.weight_kg is not None:
            number(self.weight_kg, "weight_kg", *WEIGHT_RANGE_KG, unit="kg")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], where: str = "predose") -> PredoseRecord:
        """Build from JSON-like data: ISO date-time strings, lists for medicines and override."""
        if not isinstance(mapping, Mapping):
            raise InvalidInput(where, f"must be a mapping, got {describe(mapping)}")
        known = tuple(f for f in cls.__dataclass_fields__)
        reject_unknown_keys(mapping, known, where)
        data: dict[str, Any] = dict(mapping)
        for name in ("planned_start", "last_food", "last_liquids"):
            if data.get(name) is not None:
                data[name] = parse_datetime(data[name], name)
        meds = data.get("concomitant_medicines", [])
        if not isinstance(meds, list | tuple):
            raise InvalidInput("concomitant_medicines", f"must be a list, got {describe(meds)}")
        data["concomitant_medicines"] = medicines_from(meds)
        for name in ("override", "pregnancy_review"):
            ov = data.get(name)
            if ov is None:
                continue
            if not isinstance(ov, Mapping) or set(ov) != {"prescriber", "reason"}:
                raise InvalidInput(name, 'must be {"prescriber": ..., "reason": ...}')
            for key in ("prescriber", "reason"):
                if not isinstance(ov[key], str):
                    raise InvalidInput(f"{name}.{key}", f"must be text, got {describe(ov[key])}")
            data[name] = PrescriberOverride(ov["prescriber"], ov["reason"])
        for name in ("clinician_contact_by", "prescriber_sign_off"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise InvalidInput(name, f"must be text, got {describe(data[name])}")
        return cls(**data)


@dataclass(frozen=True)
class MissingItem:
    """One open item of the pre-dose check: a stable ``item`` code and a readable ``detail``."""

    item: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"item": self.item, "detail": self.detail}


#: Stable item codes, in checklist order.
CHECKLIST_ITEMS = (
    "identity",
    "screening_changes",
    "pregnancy_status",
    "planned_start",
    "food_timing",
    "liquids_timing",
    "concomitant_medicines",
    "phq9_item9",
    "cssrs",
    "clinician_contact",
    "blood_pressure",
    "heart_rate",
    "spo2",
    "weight",
    "ride_home",
    "no_driving_advice",
    "predose_hold",
    "prescriber_sign_off",
)


def predose_checklist(
    track: TrackRequirements,
    recorded: PredoseRecord,
    thresholds: SafetyThresholds = DEFAULT_THRESHOLDS,
) -> list[MissingItem]:
    """List every pre-dose item still missing, in :data:`CHECKLIST_ITEMS` order.

    Sources: the pre-dose check of the dosing issue, resting on CLINICAL.md §4 (esketamine: no
    food 2 h, no liquids 30 min before, Spravato label; no driving until the next day), §2
    (PHQ-9 item 9 ≥ 1 → same-day C-SSRS) and §5 (pre-dose BP hold needs a prescriber's override
    with a reason; pregnancy a hard exclusion on IV/IM tracks, a prescriber review elsewhere).

    * ``pregnancy_status`` only when the track asks; ``pregnant`` stays open on a track where it
      excludes, and until a prescriber's ``pregnancy_review`` (name and reason) on one where it
      needs review.
    * Fasting (esketamine only) is computed from ``last_food``/``last_liquids`` and
      ``planned_start``: at least ``track.no_food_minutes``/``no_liquids_minutes`` between them.
    * ``weight`` only on IV/IM tracks (mg/kg dosing).
    * ``cssrs`` and ``clinician_contact`` only when today's PHQ-9 item 9 is ≥ 1 (CLINICAL.md §2:
      "same-day C-SSRS and clinician contact"; the contact is recorded as the clinician's name).
    * ``predose_hold``: when :func:`predose_decision` holds, open until a prescriber override
      with a non-blank prescriber and reason is recorded.
    """
    missing: list[MissingItem] = []

    def need(item: str, detail: str) -> None:
        missing.append(MissingItem(item, detail))

    r = recorded
    if r.identity_confirmed is not True:
        need("identity", "patient identity not confirmed")
    if r.screening_changes_reviewed is not True:
        need("screening_changes", "screening changes since the last visit not reviewed")
    if track.asks_pregnancy:
        if r.pregnancy_status is None:
            need("pregnancy_status", "pregnancy status not recorded (this track asks)")
        elif r.pregnancy_status == "pregnant":
            if track.pregnancy_excludes:
                need(
                    "pregnancy_status",
                    "pregnant: a screening exclusion on this track",
                )
            elif not (r.pregnancy_review is not None and r.pregnancy_review.valid):
                need(
                    "pregnancy_status",
                    "pregnant: needs a prescriber review with a reason before dosing",
                )
    if track.needs_fasting:
        if r.planned_start is None:
            need("planned_start", "planned start time not recorded (needed for fasting times)")
        _fasting(
            missing, "food_timing", "food", r.last_food, r.planned_start, track.no_food_minutes
        )
        _fasting(
            missing,
            "liquids_timing",
            "liquids",
            r.last_liquids,
            r.planned_start,
            track.no_liquids_minutes,
        )
    if r.concomitant_medicines_reviewed is not True:
        need("concomitant_medicines", "concomitant medicines not reviewed")
    if r.phq9_item9 is None:
        need("phq9_item9", "today's PHQ-9 item 9 not recorded")
    elif r.phq9_item9 >= 1:
        if r.cssrs_risk is None:
            need(
                "cssrs",
                f"PHQ-9 item 9 is {r.phq9_item9}: same-day C-SSRS result needed",
            )
        if r.clinician_contact_by is None or not r.clinician_contact_by.strip():
            need(
                "clinician_contact",
                f"PHQ-9 item 9 is {r.phq9_item9}: clinician contact not recorded",
            )
    if r.systolic is None or r.diastolic is None:
        need("blood_pressure", "pre-dose blood pressure not recorded")
    if r.heart_rate is None:
        need("heart_rate", "pre-dose heart rate not recorded")
    if r.spo2 is None:
        need("spo2", "pre-dose SpO2 not recorded")
    if track.needs_weight and r.weight_kg is None:
        need("weight", "weight not recorded (needed for the mg/kg dose)")
    if r.ride_home_confirmed is not True:
        need("ride_home", "ride home not confirmed")
    if r.no_driving_advice_given is not True:
        need("no_driving_advice", "no-driving advice not given")
    if r.systolic is not None and r.diastolic is not None:
        decision = predose_decision(r.systolic, r.diastolic, r.heart_rate, r.spo2, thresholds)
        if decision.hold and not (r.override is not None and r.override.valid):
            need(
                "predose_hold",
                f"hold ({'; '.join(decision.reasons)}): needs a prescriber override with a reason",
            )
    if r.prescriber_sign_off is None or not r.prescriber_sign_off.strip():
        need("prescriber_sign_off", "prescriber has not signed off the pre-dose check")
    return missing


def _fasting(
    missing: list[MissingItem],
    item: str,
    what: str,
    last: datetime | None,
    planned_start: datetime | None,
    required_minutes: int,
) -> None:
    if last is None:
        missing.append(MissingItem(item, f"time of last {what} not recorded"))
        return
    if planned_start is None:
        return  # reported once as planned_start
    gap = minutes_between(last, planned_start)
    if gap < required_minutes:
        missing.append(
            MissingItem(
                item,
                f"last {what} {gap:g} min before the planned start; needs ≥ {required_minutes} min",
            )
        )


@dataclass(frozen=True)
class StartDecision:
    """Whether the dose may start: ``blocking`` empty ⇔ ``may_start``."""

    blocking: tuple[MissingItem, ...]

    @property
    def may_start(self) -> bool:
        return not self.blocking

    def to_dict(self) -> dict[str, Any]:
        return {"may_start": self.may_start, "blocking": [m.to_dict() for m in self.blocking]}


def can_start_dose(
    track: TrackRequirements,
    recorded: PredoseRecord,
    thresholds: SafetyThresholds = DEFAULT_THRESHOLDS,
) -> StartDecision:
    """The dose cannot start until the pre-dose list is empty (dosing issue; CLINICAL.md §5).

    Returns every blocking item from :func:`predose_checklist`.
    """
    return StartDecision(tuple(predose_checklist(track, recorded, thresholds)))


def medicines_from(values: Iterable[object]) -> frozenset[str]:
    """Validate a list of medicine classes (:data:`MEDICINE_CLASSES`) into a set."""
    return frozenset(choice(v, "concomitant_medicines", MEDICINE_CLASSES) for v in values)
