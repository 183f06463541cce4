"""Dose calculation and the track's dose limits (CLINICAL.md §4).

* IV/IM racemic ketamine: ``mg_per_kg`` × weight (0.5 mg/kg over 40 min, Murrough 2013),
  rounded **half-up to 0.1 mg**, then capped at the track's ``max_mg``.
* Esketamine nasal spray (Spravato label): 28 mg devices, 56 mg = 2, 84 mg = 3, 5 min apart;
  TRD first dose 56 mg (28 mg at 65+); MDD with acute suicidal ideation 84 mg.

A dose outside the track's limits is refused with the reason (``InvalidInput`` naming
``requested_mg``); :func:`check_dose_limits` returns the reasons without raising.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.safety._common import (
    AGE_RANGE,
    DRUGS,
    WEIGHT_RANGE_KG,
    choice,
    describe,
    number,
    reject_unknown_keys,
    whole_number,
)
from trellis.core.safety.predose import ROUTES

#: Rounding step for computed mg/kg doses (a syringe pump is set to 0.1 mg).
DOSE_PRECISION_MG = Decimal("0.1")

#: Esketamine device content (Spravato label; CLINICAL.md §4).
ESKETAMINE_DEVICE_MG = 28


@dataclass(frozen=True)
class DoseRule:
    """A protocol track's dose rule and limits.

    Ketamine (``iv``/``im``): ``mg_per_kg`` is the prescribed rate, ``max_mg_per_kg`` the
    highest allowed rate (defaults to ``mg_per_kg``), ``max_mg`` the absolute cap (``None`` =
    no cap beyond mg/kg), ``infusion_minutes`` the infusion length (IV).
    Esketamine (``intranasal``): ``allowed_mg`` (under 65) and ``allowed_mg_65_plus``, the
    first dose ``first_dose_mg`` / ``first_dose_mg_65_plus``, devices of ``device_mg`` given
    ``device_interval_min`` apart, not under ``min_age``.
    """

    drug: str
    route: str
    mg_per_kg: float | None = None
    max_mg_per_kg: float | None = None
    max_mg: float | None = None
    infusion_minutes: int | None = None
    allowed_mg: tuple[int, ...] = ()
    allowed_mg_65_plus: tuple[int, ...] = ()
    first_dose_mg: int | None = None
    first_dose_mg_65_plus: int | None = None
    device_mg: int = ESKETAMINE_DEVICE_MG
    device_interval_min: int = 5
    min_age: int = 0

    def __post_init__(self) -> None:
        choice(self.drug, "dose_rule.drug", DRUGS)
        choice(self.route, "dose_rule.route", ROUTES)
        if self.drug == "ketamine":
            if self.route == "intranasal":
                raise InvalidInput("dose_rule.route", "racemic ketamine tracks are iv or im")
            if self.mg_per_kg is None:
                raise InvalidInput("dose_rule.mg_per_kg", "is required for ketamine")
            number(self.mg_per_kg, "dose_rule.mg_per_kg", 0.01, 5.0, "mg/kg")
            if self.max_mg_per_kg is not None:
                number(self.max_mg_per_kg, "dose_rule.max_mg_per_kg", 0.01, 5.0, "mg/kg")
                if self.max_mg_per_kg < self.mg_per_kg:
                    raise InvalidInput(
                        "dose_rule.max_mg_per_kg",
                        f"{self.max_mg_per_kg:g} is below mg_per_kg {self.mg_per_kg:g}",
                    )
            if self.max_mg is not None:
                number(self.max_mg, "dose_rule.max_mg", 1.0, 1000.0, "mg")
            if self.route == "iv" and self.infusion_minutes is None:
                raise InvalidInput("dose_rule.infusion_minutes", "is required for iv")
            if self.infusion_minutes is not None:
                whole_number(self.infusion_minutes, "dose_rule.infusion_minutes", 1, 600)
        else:
            if self.route != "intranasal":
                raise InvalidInput("dose_rule.route", "esketamine is intranasal")
            whole_number(self.device_mg, "dose_rule.device_mg", 1, 100)
            whole_number(self.device_interval_min, "dose_rule.device_interval_min", 0, 60)
            if not self.allowed_mg:
                raise InvalidInput("dose_rule.allowed_mg", "is required for esketamine")
            for name in ("allowed_mg", "allowed_mg_65_plus"):
                for mg in getattr(self, name):
                    whole_number(mg, f"dose_rule.{name}", 1, 1000)
                    if mg % self.device_mg:
                        raise InvalidInput(
                            f"dose_rule.{name}",
                            f"{mg} mg is not a multiple of the {self.device_mg} mg device",
                        )
            for name in ("first_dose_mg", "first_dose_mg_65_plus"):
                value = getattr(self, name)
                allowed = self.allowed_mg if name == "first_dose_mg" else self.allowed_for(65)
                if value is not None and value not in allowed:
                    raise InvalidInput(
                        f"dose_rule.{name}", f"{value} mg is not among the allowed doses {allowed}"
                    )
        whole_number(self.min_age, "dose_rule.min_age", *AGE_RANGE)

    def allowed_for(self, age: int | None) -> tuple[int, ...]:
        """Allowed esketamine doses for a patient of ``age`` (65+ list when the track has one)."""
        if age is not None and age >= 65 and self.allowed_mg_65_plus:
            return self.allowed_mg_65_plus
        return self.allowed_mg

    @property
    def cap_mg(self) -> float | None:
        """Highest dose in mg the track ever allows (``None`` = only the mg/kg limit)."""
        if self.drug == "esketamine":
            return float(max(self.allowed_mg + self.allowed_mg_65_plus))
        return self.max_mg

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], where: str = "dose_rule") -> DoseRule:
        """Build a track's dose rule from configuration, validating every key."""
        if not isinstance(mapping, Mapping):
            raise InvalidInput(where, f"must be a mapping, got {describe(mapping)}")
        known = tuple(f.name for f in fields(cls))
        reject_unknown_keys(mapping, known, where)
        data = dict(mapping)
        for key in ("drug", "route"):
            if key not in data:
                raise InvalidInput(f"{where}.{key}", "is required")
        for key in ("allowed_mg", "allowed_mg_65_plus"):
            if key in data:
                if not isinstance(data[key], list | tuple):
                    raise InvalidInput(
                        f"{where}.{key}", f"must be a list of mg, got {describe(data[key])}"
                    )
                data[key] = tuple(data[key])
        return cls(**data)


#: IV racemic ketamine, 0.5 mg/kg over 40 min (CLINICAL.md §4; Murrough 2013). No absolute cap
#: by default: a program sets ``max_mg`` for its track.
KETAMINE_IV_STANDARD = DoseRule(
    drug="ketamine", route="iv", mg_per_kg=0.5, max_mg_per_kg=0.5, infusion_minutes=40
)

#: Esketamine for TRD (Spravato label; CLINICAL.md §4): day 1 56 mg (28 mg at 65+), then 56 or
#: 84 mg (28, 56 or 84 mg at 65+); not under 18.
ESKETAMINE_TRD = DoseRule(
    drug="esketamine",
    route="intranasal",
    allowed_mg=(56, 84),
    allowed_mg_65_plus=(28, 56, 84),
    first_dose_mg=56,
    first_dose_mg_65_plus=28,
    min_age=18,
)

#: Esketamine for MDD with acute suicidal ideation: 84 mg twice weekly × 4 weeks (CLINICAL.md
#: §4); the label allows a reduction to 56 mg for tolerability.
ESKETAMINE_MDD_SI = DoseRule(
    drug="esketamine",
    route="intranasal",
    allowed_mg=(56, 84),
    first_dose_mg=84,
    min_age=18,
)


@dataclass(frozen=True)
class DosePlan:
    """A computed dose: mg, how it is given, and why."""

    drug: str
    route: str
    mg: float
    basis: str
    capped: bool = False
    devices: int | None = None
    device_offsets_min: tuple[int, ...] = ()
    device_times: tuple[datetime, ...] = ()
    infusion_minutes: int | None = None
    infusion_end: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "route": self.route,
            "mg": self.mg,
            "basis": self.basis,
            "capped": self.capped,
            "devices": self.devices,
            "device_offsets_min": list(self.device_offsets_min),
            "device_times": [t.isoformat() for t in self.device_times],
            "infusion_minutes": self.infusion_minutes,
            "infusion_end": self.infusion_end.isoformat() if self.infusion_end else None,
        }


def round_dose(mg: Decimal) -> float:
    """Round half-up to :data:`DOSE_PRECISION_MG` (0.1 mg): 36.25 → 36.3."""
    return float(mg.quantize(DOSE_PRECISION_MG, rounding=ROUND_HALF_UP))


def _validated_weight(weight_kg: float | None, required: bool) -> float | None:
    if weight_kg is None:
        if required:
            raise InvalidInput("weight_kg", "is required for mg/kg dosing")
        return None
    return number(weight_kg, "weight_kg", *WEIGHT_RANGE_KG, unit="kg")


def _validated_age(age: int | None) -> int | None:
    return None if age is None else whole_number(age, "age", *AGE_RANGE)


def check_dose_limits(
    rule: DoseRule,
    mg: float,
    weight_kg: float | None = None,
    age: int | None = None,
    dose_number: int | None = None,
) -> list[str]:
    """Reasons why ``mg`` is outside the track's limits (empty list = within them).

    Source: CLINICAL.md §4. Ketamine: above ``max_mg`` (cap) or above ``max_mg_per_kg`` ×
    weight (0.5 mg/kg, Murrough 2013) is refused; weight must be 30–300 kg. Esketamine
    (Spravato label): a multiple of the 28 mg device, at most the track maximum, among the
    allowed doses for the age (28 mg only at 65+ on TRD), the label first dose on dose 1, not
    under 18.
    """
    if isinstance(mg, bool) or not isinstance(mg, int | float) or not math.isfinite(mg):
        raise InvalidInput("requested_mg", f"must be a number of mg, got {describe(mg)}")
    age = _validated_age(age)
    if dose_number is not None:
        whole_number(dose_number, "dose_number", 1, 1000)
    reasons: list[str] = []
    if mg <= 0:
        return [f"{mg:g} mg: a dose must be above 0 mg"]
    if rule.min_age and age is not None and age < rule.min_age:
        reasons.append(f"{rule.drug} is not approved under {rule.min_age} (age {age})")
    if rule.drug == "ketamine":
        weight = _validated_weight(weight_kg, required=True)
        assert weight is not None
        assert rule.mg_per_kg is not None
        if Decimal(str(mg)) % DOSE_PRECISION_MG:
            reasons.append(f"{mg:g} mg: give the dose to {DOSE_PRECISION_MG} mg")
        if rule.max_mg is not None and mg > rule.max_mg:
            reasons.append(f"{mg:g} mg is above the track cap {rule.max_mg:g} mg")
        per_kg = rule.max_mg_per_kg if rule.max_mg_per_kg is not None else rule.mg_per_kg
        limit = round_dose(Decimal(str(per_kg)) * Decimal(str(weight)))
        if mg > limit:
            reasons.append(f"{mg:g} mg is above {per_kg:g} mg/kg × {weight:g} kg = {limit:g} mg")
        return reasons
    if mg != int(mg) or int(mg) % rule.device_mg:
        reasons.append(f"{mg:g} mg is not a multiple of the {rule.device_mg} mg device")
        return reasons
    cap = rule.cap_mg
    assert cap is not None
    if mg > cap:
        reasons.append(f"{mg:g} mg is above the track maximum {cap:g} mg")
        return reasons
    allowed = rule.allowed_for(age)
    if int(mg) not in allowed:
        if age is None and int(mg) in rule.allowed_mg_65_plus:
            reasons.append(f"{mg:g} mg is allowed only at 65+; age not given")
        else:
            listed = ", ".join(str(a) for a in allowed)
            reasons.append(f"{mg:g} mg is not an allowed dose on this track ({listed} mg)")
    if dose_number == 1:
        first = _first_dose(rule, age)
        if first is not None and int(mg) != first:
            reasons.append(f"the first dose on this track is {first} mg, not {mg:g} mg")
    return reasons


def _first_dose(rule: DoseRule, age: int | None) -> int | None:
    if age is not None and age >= 65 and rule.first_dose_mg_65_plus is not None:
        return rule.first_dose_mg_65_plus
    return rule.first_dose_mg


def compute_dose(
    rule: DoseRule,
    weight_kg: float | None = None,
    age: int | None = None,
    dose_number: int = 1,
    requested_mg: float | None = None,
    start: datetime | None = None,
) -> DosePlan:
    """Compute today's dose from the track's rule, checked against its limits.

    Source: CLINICAL.md §4. Ketamine: ``mg_per_kg`` × weight, rounded half-up to 0.1 mg,
    capped at ``max_mg`` (``capped`` true when the cap applied); IV over ``infusion_minutes``
    (40, Murrough 2013). Esketamine (Spravato label): dose 1 is the track's first dose (56 mg;
    28 mg at 65+, which needs ``age``); later doses need ``requested_mg`` (56 or 84), given as
    ``mg / 28`` devices ``device_interval_min`` (5) minutes apart. A ``requested_mg`` outside
    the limits raises ``InvalidInput("requested_mg", <reasons>)``. With ``start``, device times
    or the infusion end are filled in.
    """
    dose_number = whole_number(dose_number, "dose_number", 1, 1000)
    age = _validated_age(age)
    if rule.min_age and age is not None and age < rule.min_age:
        raise InvalidInput("age", f"{rule.drug} is not approved under {rule.min_age} (age {age})")
    if (
        rule.drug == "esketamine"
        and dose_number == 1
        and age is None
        and rule.first_dose_mg_65_plus is not None
    ):
        raise InvalidInput(
            "age",
            f"is required for the first esketamine dose ({rule.first_dose_mg_65_plus} mg at 65+)",
        )
    if requested_mg is not None:
        reasons = check_dose_limits(rule, requested_mg, weight_kg, age, dose_number)
        if reasons:
            raise InvalidInput("requested_mg", "; ".join(reasons))
    if rule.drug == "ketamine":
        weight = _validated_weight(weight_kg, required=True)
        assert weight is not None
        assert rule.mg_per_kg is not None
        computed = round_dose(Decimal(str(rule.mg_per_kg)) * Decimal(str(weight)))
        basis = f"{rule.mg_per_kg:g} mg/kg × {weight:g} kg = {computed:g} mg"
        capped = False
        mg = computed
        if requested_mg is not None:
            mg = float(requested_mg)
            basis = f"requested {mg:g} mg (rule: {basis})"
        elif rule.max_mg is not None and computed > rule.max_mg:
            mg, capped = float(rule.max_mg), True
            basis += f", capped at {rule.max_mg:g} mg"
        _double_check(rule, mg, weight, age, dose_number)
        end = None
        if start is not None and rule.infusion_minutes is not None:
            end = start + timedelta(minutes=rule.infusion_minutes)
        return DosePlan(
            rule.drug,
            rule.route,
            mg,
            basis,
            capped=capped,
            infusion_minutes=rule.infusion_minutes,
            infusion_end=end,
        )
    if weight_kg is not None:
        _validated_weight(weight_kg, required=False)
    if requested_mg is not None:
        mg_int = int(requested_mg)
        basis = f"requested {mg_int} mg"
    elif dose_number == 1:
        first = _first_dose(rule, age)
        if first is None:
            raise InvalidInput("requested_mg", "this track has no first dose: give requested_mg")
        mg_int = first
        basis = f"first dose {first} mg" + (" (65+)" if age is not None and age >= 65 else "")
    else:
        listed = ", ".join(str(a) for a in rule.allowed_for(age))
        raise InvalidInput(
            "requested_mg", f"is required after the first esketamine dose ({listed} mg)"
        )
    _double_check(rule, mg_int, weight_kg, age, dose_number)
    devices = mg_int // rule.device_mg
    offsets = tuple(i * rule.device_interval_min for i in range(devices))
    times = tuple(start + timedelta(minutes=o) for o in offsets) if start is not None else ()
    return DosePlan(
        rule.drug,
        rule.route,
        float(mg_int),
        basis + _devices_text(devices, rule),
        devices=devices,
        device_offsets_min=offsets,
        device_times=times,
    )


def _double_check(
    rule: DoseRule, mg: float, weight_kg: float | None, age: int | None, dose_number: int
) -> None:
    """Second, independent check of a computed dose against the track's limits (dosing issue:
    "double-checked against the track's limits"). Only an inconsistent rule can fail it."""
    reasons = check_dose_limits(rule, mg, weight_kg, age, dose_number)
    if reasons:
        raise InvalidInput(
            "dose_rule", "computed dose fails the track's limits: " + "; ".join(reasons)
        )


def _devices_text(devices: int, rule: DoseRule) -> str:
    if devices == 1:
        return f" = 1 device of {rule.device_mg} mg"
    return f" = {devices} devices of {rule.device_mg} mg, {rule.device_interval_min} min apart"


def check_device_time(
    rule: DoseRule, recorded: Sequence[datetime], at: datetime, planned_devices: int
) -> int:
    """Check the actual time of the next esketamine device against those already recorded and
    return its number (2, 3, …).

    Source: CLINICAL.md §4 (Spravato label: 56 mg = 2 devices, 84 mg = 3, given 5 min apart).
    The devices are recorded as given, not computed: each must come at least
    ``device_interval_min`` minutes after the previous one (a device given sooner is refused,
    the nurse waits), and no more than ``planned_devices`` are recorded. The first device is
    the dose start.
    """
    if rule.drug != "esketamine":
        raise InvalidInput("device", "only esketamine is given as separate devices")
    if not isinstance(at, datetime):
        raise InvalidInput("at", f"must be a date-time, got {describe(at)}")
    if not recorded:
        raise InvalidInput("device", "the first device is recorded when the dose starts")
    if len(recorded) >= planned_devices:
        raise InvalidInput(
            "device", f"all {planned_devices} devices of this dose are already recorded"
        )
    previous = recorded[-1]
    number = len(recorded) + 1
    gap = (at - previous).total_seconds() / 60
    if gap < rule.device_interval_min:
        raise InvalidInput(
            "at",
            f"device {number} at {at:%H:%M} is {max(gap, 0):.0f} min after device {number - 1} "
            f"at {previous:%H:%M}; devices are given {rule.device_interval_min} min apart",
        )
    return number


def short_infusion_minutes(
    rule: DoseRule, started: datetime, stopped: datetime | None
) -> int | None:
    """Whole minutes the infusion lasted when that is shorter than the track's infusion time.

    Source: CLINICAL.md §4: IV racemic ketamine is given over 40 min (Murrough 2013); a faster
    infusion gives the same dose at a higher rate, so the nurse and prescriber are warned. None
    when the rule has no infusion time (esketamine), the infusion has not ended, or it lasted
    at least ``rule.infusion_minutes``. Minutes are counted down (39 min 59 s lasted 39 min).
    """
    if rule.infusion_minutes is None or stopped is None:
        return None
    lasted = int((stopped - started).total_seconds() // 60)
    return lasted if lasted < rule.infusion_minutes else None
