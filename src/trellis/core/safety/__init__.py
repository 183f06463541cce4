"""Dosing safety rules: pre-dose decision and checklist, dose calculation and limits, live
monitoring alerts and vitals schedule, discharge readiness (CLINICAL.md §4–5).

Pure functions of recorded values and a clock passed in; thresholds come from the program's
configuration (:class:`SafetyThresholds`, defaults in CLINICAL.md §5).
"""

from __future__ import annotations

from trellis.core.safety.discharge import (
    DISCHARGE_CRITERIA,
    DischargeInputs,
    Readiness,
    discharge_readiness,
)
from trellis.core.safety.dose import (
    DOSE_PRECISION_MG,
    ESKETAMINE_MDD_SI,
    ESKETAMINE_TRD,
    KETAMINE_IV_STANDARD,
    DosePlan,
    DoseRule,
    check_device_time,
    check_dose_limits,
    compute_dose,
    short_infusion_minutes,
)
from trellis.core.safety.monitoring import (
    Alert,
    Observation,
    VitalsDue,
    monitoring_alerts,
    vitals_due,
)
from trellis.core.safety.predose import (
    CHECKLIST_ITEMS,
    MEDICINE_CLASSES,
    Decision,
    MissingItem,
    PredoseRecord,
    PrescriberOverride,
    StartDecision,
    TrackRequirements,
    can_start_dose,
    predose_checklist,
    predose_decision,
)
from trellis.core.safety.thresholds import DEFAULT_THRESHOLDS, SafetyThresholds
from trellis.core.safety.tracks import dose_rule_from_protocol, track_requirements_from_protocol

__all__ = [
    "CHECKLIST_ITEMS",
    "DEFAULT_THRESHOLDS",
    "DISCHARGE_CRITERIA",
    "DOSE_PRECISION_MG",
    "ESKETAMINE_MDD_SI",
    "ESKETAMINE_TRD",
    "KETAMINE_IV_STANDARD",
    "MEDICINE_CLASSES",
    "Alert",
    "Decision",
    "DischargeInputs",
    "DosePlan",
    "DoseRule",
    "MissingItem",
    "Observation",
    "PredoseRecord",
    "PrescriberOverride",
    "Readiness",
    "SafetyThresholds",
    "StartDecision",
    "TrackRequirements",
    "VitalsDue",
    "can_start_dose",
    "check_device_time",
    "check_dose_limits",
    "compute_dose",
    "short_infusion_minutes",
    "discharge_readiness",
    "dose_rule_from_protocol",
    "monitoring_alerts",
    "predose_checklist",
    "predose_decision",
    "track_requirements_from_protocol",
    "vitals_due",
]
