"""Safety thresholds: CLINICAL.md §5 defaults, overridable per program.

Every figure below is a ★ Trellis default from CLINICAL.md §5 ("Safety thresholds",
configurable; confirm with the medical director) or §4 (vitals schedule), with the original
source named beside it. A program's configuration overrides them through
:meth:`SafetyThresholds.from_mapping`, which validates every value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.safety._common import (
    DIASTOLIC_RANGE,
    HEART_RATE_RANGE,
    MOAAS_RANGE,
    SPO2_RANGE,
    SYSTOLIC_RANGE,
    describe,
    number,
    whole_number,
)


@dataclass(frozen=True)
class SafetyThresholds:
    """Thresholds for the pre-dose decision, live monitoring, discharge and the vitals schedule.

    Comparison direction is fixed by the name (documented per field); only the numbers change.

    Pre-dose (CLINICAL.md §5; esketamine label: weigh risk when baseline BP is elevated):
      * ``predose_systolic_hold`` 140: hold when systolic **>** 140 (exactly 140 proceeds).
      * ``predose_diastolic_hold`` 90: hold when diastolic **>** 90.
      * ``predose_hold_on_pulse_and_spo2`` True: a pre-dose heart rate or SpO2 that would raise a
        monitoring alert (below) also holds. Trellis decision: a patient who is tachycardic,
        bradycardic or desaturating before any drug is given should not start without the
        prescriber looking, for the same reason as the BP hold.

    Monitoring alerts (CLINICAL.md §5):
      * ``alert_systolic`` 180 (alert at **≥**), ``alert_diastolic`` 110 (**≥**);
      * ``alert_heart_rate_high`` 110 (alert at **>**), ``alert_heart_rate_low`` 50 (**<**);
      * ``alert_spo2_low`` 92 (alert at **<**, per cent);
      * ``alert_moaas_at_or_below`` 3 (MOAA/S **≤** 3 alerts).

    Discharge (CLINICAL.md §5; REMS minimum observation, CLINICAL.md §4):
      * ``discharge_spo2_min`` 94 (ready at **≥**); ``discharge_moaas`` 5 (must equal);
      * ``discharge_bp_change_fraction`` 0.2: last BP within 20 % of pre-dose;
      * ``esketamine_min_observation_min`` 120 from the first device (Spravato REMS);
      * ``ketamine_min_observation_min`` 60 after the infusion ends.

    Vitals schedule (CLINICAL.md §4: esketamine BP before, ~40 min, before discharge, Spravato
    label; IV every 10 min during, 15 min after, Riva-Posse 2018 Emory protocol):
      * ``esketamine_vitals_every_min`` 15 (★ Trellis default between the label's points);
      * ``esketamine_bp_check_min`` 40; ``iv_vitals_during_every_min`` 10;
        ``iv_vitals_after_every_min`` 15;
      * ``vitals_early_window_min`` 5: a reading this early still counts for a fixed point
        (e.g. a reading at 36 min covers the 40-minute BP);
      * ``vitals_overdue_grace_min`` 0: minutes after the due time before ``overdue`` is set.
    """

    predose_systolic_hold: int = 140
    predose_diastolic_hold: int = 90
    predose_hold_on_pulse_and_spo2: bool = True
    alert_systolic: int = 180
    alert_diastolic: int = 110
    alert_heart_rate_high: int = 110
    alert_heart_rate_low: int = 50
    alert_spo2_low: int = 92
    alert_moaas_at_or_below: int = 3
    discharge_spo2_min: int = 94
    discharge_moaas: int = 5
    discharge_bp_change_fraction: float = 0.2
    esketamine_min_observation_min: int = 120
    ketamine_min_observation_min: int = 60
    esketamine_vitals_every_min: int = 15
    esketamine_bp_check_min: int = 40
    iv_vitals_during_every_min: int = 10
    iv_vitals_after_every_min: int = 15
    vitals_early_window_min: int = 5
    vitals_overdue_grace_min: int = 0

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Any], where: str = "safety_thresholds"
    ) -> SafetyThresholds:
        """Build thresholds from a program's overrides; unset keys keep the §5 defaults.

        ``where`` prefixes the field in errors (e.g. ``program.yaml: safety_thresholds``), so a
        bad configuration names its file, the key and the problem. Unknown keys are refused
        (a typo must not silently fall back to the default), every value is range-checked, and
        the combination is checked for sense (e.g. the pre-dose hold must be below the alert).
        A value that would weaken a rule of the label or the REMS (:data:`LAW_FLOORS`) is refused
        naming the rule: those are floors a program may raise, never lower (CLINICAL.md §5).
        """
        if not isinstance(mapping, Mapping):
            raise InvalidInput(
                where, f"must be a mapping of threshold names to values, got {describe(mapping)}"
            )
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, raw in mapping.items():
            field = f"{where}.{key}"
            if key not in known:
                raise InvalidInput(field, f"unknown threshold (known: {', '.join(known)})")
            values[key] = _validate_one(key, raw, field)
            check_law_floor(key, values[key], field)
        result = replace(cls(), **values)
        result._check_consistency(where)
        return result

    def _check_consistency(self, where: str) -> None:
        pairs = (
            ("predose_systolic_hold", "alert_systolic"),
            ("predose_diastolic_hold", "alert_diastolic"),
            ("alert_heart_rate_low", "alert_heart_rate_high"),
            ("alert_spo2_low", "discharge_spo2_min"),
            ("alert_moaas_at_or_below", "discharge_moaas"),
            ("esketamine_bp_check_min", "esketamine_min_observation_min"),
        )
        for low_name, high_name in pairs:
            low, high = getattr(self, low_name), getattr(self, high_name)
            if not low < high:
                raise InvalidInput(
                    f"{where}.{low_name}", f"{low} must be below {high_name} ({high})"
                )

    def to_dict(self) -> dict[str, Any]:
        """The thresholds as a JSON-ready mapping."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Range of acceptable values for each setting (a configuration outside these is a mistake).
_RANGES: dict[str, tuple[int, int]] = {
    "predose_systolic_hold": SYSTOLIC_RANGE,
    "predose_diastolic_hold": DIASTOLIC_RANGE,
    "alert_systolic": SYSTOLIC_RANGE,
    "alert_diastolic": DIASTOLIC_RANGE,
    "alert_heart_rate_high": HEART_RATE_RANGE,
    "alert_heart_rate_low": HEART_RATE_RANGE,
    "alert_spo2_low": SPO2_RANGE,
    "alert_moaas_at_or_below": MOAAS_RANGE,
    "discharge_spo2_min": SPO2_RANGE,
    "discharge_moaas": MOAAS_RANGE,
    "esketamine_min_observation_min": (0, 24 * 60),
    "ketamine_min_observation_min": (0, 24 * 60),
    "esketamine_vitals_every_min": (1, 240),
    "esketamine_bp_check_min": (1, 240),
    "iv_vitals_during_every_min": (1, 240),
    "iv_vitals_after_every_min": (1, 240),
    "vitals_early_window_min": (0, 60),
    "vitals_overdue_grace_min": (0, 60),
}


@dataclass(frozen=True)
class LawFloor:
    """A setting bounded by law (the Spravato label or REMS), not a ★ Trellis default.

    ``minimum``/``maximum`` bound the value in the direction that keeps the legal rule; ``rule``
    names it (CLINICAL.md §4-5: "what is law is not a setting").
    """

    minimum: int | None
    maximum: int | None
    rule: str


#: The settings a program may tighten but never loosen (CLINICAL.md §4-5; each rule's text is
#: shown to people, so it names the label or the REMS, the sources CLINICAL.md §4 cites).
#: Every other threshold above is a ★ Trellis default (the medical director's choice),
#: reviewed for the same mistake: the BP hold and alert levels, SpO2, MOAA/S, the IV ketamine
#: observation (off-label, a clinic norm) and the vitals intervals between the label's fixed
#: points carry no legal floor.
LAW_FLOORS: dict[str, LawFloor] = {
    "esketamine_min_observation_min": LawFloor(
        120,
        None,
        "Spravato REMS: monitoring for at least 120 minutes after the first device",
    ),
    "esketamine_bp_check_min": LawFloor(
        40,
        40,
        "Spravato label: blood pressure about 40 minutes after dosing; "
        "add checks with esketamine_vitals_every_min instead of moving this one",
    ),
    "vitals_early_window_min": LawFloor(
        None,
        10,
        "Spravato label: blood pressure at about 40 minutes and before discharge; "
        "a reading more than 10 minutes early does not count for them",
    ),
}


def check_law_floor(key: str, value: Any, field: str) -> None:
    """Refuse ``value`` for setting ``key`` when it weakens a legal rule (:data:`LAW_FLOORS`)."""
    floor = LAW_FLOORS.get(key)
    if floor is None:
        return
    if floor.minimum is not None and value < floor.minimum:
        raise InvalidInput(
            field,
            f"{value} is below the legal floor of {floor.minimum} ({floor.rule}); "
            "a program may raise it, never lower it",
        )
    if floor.maximum is not None and value > floor.maximum:
        raise InvalidInput(
            field,
            f"{value} is above the legal limit of {floor.maximum} ({floor.rule}); "
            "a program may tighten it, never loosen it",
        )


def _validate_one(key: str, raw: object, field: str) -> Any:
    if key == "predose_hold_on_pulse_and_spo2":
        if not isinstance(raw, bool):
            raise InvalidInput(field, f"must be true or false, got {describe(raw)}")
        return raw
    if key == "discharge_bp_change_fraction":
        return number(raw, field, 0.01, 1.0)
    low, high = _RANGES[key]
    return whole_number(raw, field, low, high)


DEFAULT_THRESHOLDS = SafetyThresholds()
