"""``trellis safety``: dosing safety rules from the command line (CLINICAL.md §4–5).

Sub-commands: ``predose`` (proceed/hold from pre-dose vitals), ``discharge`` (readiness from a
JSON file), ``dose`` (dose from a track's rule), ``monitor`` (alerts for one set of vitals) and
``rems-form`` (REMS Patient Monitoring Form data from a recorded session). All use the default
thresholds of CLINICAL.md §5.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from trellis.cli.common import add_format_argument, emit, read_json_file, sub
from trellis.core.errors import InvalidInput
from trellis.core.protocols import load_protocol
from trellis.core.rems import (
    CSV_COLUMNS,
    PatientMonitoringForm,
    SessionRecord,
    assemble_form,
    form_due_date,
    form_problems,
    form_to_csv_row,
    missing_fields,
)
from trellis.core.safety import (
    ESKETAMINE_TRD,
    KETAMINE_IV_STANDARD,
    DischargeInputs,
    DoseRule,
    Observation,
    compute_dose,
    discharge_readiness,
    dose_rule_from_protocol,
    monitoring_alerts,
    predose_decision,
)
from trellis.core.safety._common import (
    AGE_RANGE,
    DIASTOLIC_RANGE,
    HEART_RATE_RANGE,
    MOAAS_RANGE,
    SPO2_RANGE,
    SYSTOLIC_RANGE,
    WEIGHT_RANGE_KG,
    number_text,
    whole_number_text,
)


def register(subparsers: Any) -> None:
    group = sub(subparsers, "safety", "Dosing safety: pre-dose, dose, monitoring, discharge, REMS")
    commands = group.add_subparsers(dest="safety_command", metavar="SUBCOMMAND", required=True)

    p = sub(commands, "predose", "Pre-dose decision (proceed/hold) from vitals")
    p.add_argument("--systolic", required=True, help="systolic BP, mmHg")
    p.add_argument("--diastolic", required=True, help="diastolic BP, mmHg")
    p.add_argument("--heart-rate", help="heart rate, beats per minute")
    p.add_argument("--spo2", help="SpO2, per cent")
    add_format_argument(p)
    p.set_defaults(func=run_predose)

    p = sub(commands, "discharge", "Discharge readiness from a JSON file of recorded values")
    p.add_argument("--input", required=True, help="JSON file ('-' for stdin)")
    add_format_argument(p)
    p.set_defaults(func=run_discharge)

    p = sub(commands, "dose", "Dose from the track's rule, checked against its limits")
    p.add_argument(
        "--protocol", help="protocol track id (e.g. iv-trd, esketamine-trd): its dose rule"
    )
    p.add_argument(
        "--drug", help="without --protocol: esketamine (TRD label rule) or ketamine (0.5 mg/kg IV)"
    )
    p.add_argument("--weight", help="weight in kg (ketamine)")
    p.add_argument("--age", help="age in years (esketamine first dose: 28 mg at 65+)")
    p.add_argument("--dose-number", default="1", help="1 for the first dose (default 1)")
    p.add_argument("--requested-mg", help="requested dose in mg (checked against the limits)")
    p.add_argument("--max-mg", help="ketamine: the track's cap in mg")
    add_format_argument(p)
    p.set_defaults(func=run_dose)

    p = sub(commands, "monitor", "Alerts for one set of monitoring values")
    p.add_argument("--systolic")
    p.add_argument("--diastolic")
    p.add_argument("--heart-rate")
    p.add_argument("--spo2")
    p.add_argument("--moaas", help="MOAA/S sedation score 0-5")
    add_format_argument(p)
    p.set_defaults(func=run_monitor)

    p = sub(commands, "rems-form", "REMS Patient Monitoring Form data from a recorded session")
    p.add_argument("--input", required=True, help="session JSON file ('-' for stdin)")
    p.add_argument("--previous", help="previous form JSON (as printed by this command)")
    add_format_argument(p)
    p.set_defaults(func=run_rems_form)


def _optional_int(text: str | None, flag: str, bounds: tuple[int, int]) -> int | None:
    return None if text is None else whole_number_text(text, flag, *bounds)


def run_predose(args: argparse.Namespace) -> int:
    systolic = whole_number_text(args.systolic, "--systolic", *SYSTOLIC_RANGE)
    diastolic = whole_number_text(args.diastolic, "--diastolic", *DIASTOLIC_RANGE)
    heart_rate = _optional_int(args.heart_rate, "--heart-rate", HEART_RATE_RANGE)
    spo2 = _optional_int(args.spo2, "--spo2", SPO2_RANGE)
    if diastolic >= systolic:
        raise InvalidInput(
            "--diastolic", f"{diastolic} must be below systolic {systolic} (values swapped?)"
        )
    decision = predose_decision(systolic, diastolic, heart_rate, spo2)
    text = decision.decision.upper()
    if decision.reasons:
        text += ": " + "; ".join(decision.reasons) + " (prescriber override with reason needed)"
    emit(decision.to_dict(), args.format, text=text)
    return 0


def run_discharge(args: argparse.Namespace) -> int:
    data = read_json_file(args.input)
    readiness = discharge_readiness(DischargeInputs.from_mapping(data))
    if readiness.ready:
        text = "READY for discharge"
    else:
        lines = [f"NOT READY ({len(readiness.unmet)} unmet):"]
        lines += [f"  - {c}: {d}" for c, d in zip(readiness.unmet, readiness.details, strict=True)]
        text = "\n".join(lines)
    emit(readiness.to_dict(), args.format, text=text)
    return 0


def _rule(args: argparse.Namespace) -> DoseRule:
    if args.protocol is not None:
        if args.drug is not None:
            raise InvalidInput("--drug", "give either --protocol or --drug, not both")
        rule = dose_rule_from_protocol(load_protocol(args.protocol, "--protocol"))
    elif args.drug == "esketamine":
        rule = ESKETAMINE_TRD
    elif args.drug == "ketamine":
        rule = KETAMINE_IV_STANDARD
    elif args.drug is None:
        raise InvalidInput("--protocol", "give a protocol track id (or --drug)")
    else:
        raise InvalidInput("--drug", f'must be one of esketamine, ketamine, got "{args.drug}"')
    if args.max_mg is not None:
        if rule.drug != "ketamine":
            raise InvalidInput("--max-mg", "applies to ketamine only")
        cap = number_text(args.max_mg, "--max-mg", 1, 1000, "mg")
        rule = replace(rule, max_mg=cap)
    return rule


_FLAG = {
    "weight_kg": "--weight",
    "age": "--age",
    "dose_number": "--dose-number",
    "requested_mg": "--requested-mg",
}


def run_dose(args: argparse.Namespace) -> int:
    rule = _rule(args)
    weight = (
        None
        if args.weight is None
        else number_text(args.weight, "--weight", *WEIGHT_RANGE_KG, "kg")
    )
    age = _optional_int(args.age, "--age", AGE_RANGE)
    dose_number = whole_number_text(args.dose_number, "--dose-number", 1, 1000)
    requested = (
        None
        if args.requested_mg is None
        else number_text(args.requested_mg, "--requested-mg", 0, 1000, "mg")
    )
    try:
        plan = compute_dose(rule, weight, age, dose_number, requested)
    except InvalidInput as exc:  # name the command-line flag, not the core's argument
        raise InvalidInput(_FLAG.get(exc.field, exc.field), exc.detail) from exc
    text = f"{plan.drug} {plan.route} {plan.mg:g} mg: {plan.basis}"
    if plan.infusion_minutes:
        text += f"; infuse over {plan.infusion_minutes} min"
    emit(plan.to_dict(), args.format, text=text)
    return 0


def run_monitor(args: argparse.Namespace) -> int:
    observation = Observation(
        systolic=_optional_int(args.systolic, "--systolic", SYSTOLIC_RANGE),
        diastolic=_optional_int(args.diastolic, "--diastolic", DIASTOLIC_RANGE),
        heart_rate=_optional_int(args.heart_rate, "--heart-rate", HEART_RATE_RANGE),
        spo2=_optional_int(args.spo2, "--spo2", SPO2_RANGE),
        moaas=_optional_int(args.moaas, "--moaas", MOAAS_RANGE),
    )
    alerts = monitoring_alerts(observation)
    data = {"alerts": [a.to_dict() for a in alerts]}
    text = "no alerts" if not alerts else "ALERT: " + "; ".join(a.message for a in alerts)
    emit(data, args.format, text=text)
    return 0


def _form_from_json(data: Any) -> PatientMonitoringForm:
    """Read a previous form as printed by ``rems-form --format json`` (its ``form`` object)."""
    if not isinstance(data, dict):
        raise InvalidInput("--previous", "must be a JSON object")
    form = data.get("form", data)
    if not isinstance(form, dict):
        raise InvalidInput("--previous", "form must be a JSON object")
    carried = ("patient", "setting", "concomitant_")
    values: dict[str, Any] = {}
    for key, value in form.items():
        if not key.startswith(carried):
            continue
        if key.startswith("concomitant_"):
            if value not in ("Y", "N", ""):
                raise InvalidInput(f"--previous: {key}", f'must be "Y", "N" or "", got {value!r}')
            values[key] = None if value == "" else value == "Y"
        elif key in ("patient", "setting"):
            if not isinstance(value, str):
                raise InvalidInput(f"--previous: {key}", "must be text")
            values[key] = value or None
    return PatientMonitoringForm(**values)


def run_rems_form(args: argparse.Namespace) -> int:
    session = SessionRecord.from_mapping(read_json_file(args.input))
    previous = None
    if args.previous is not None:
        previous = _form_from_json(read_json_file(args.previous, "--previous"))
    form = assemble_form(session, previous)
    missing = missing_fields(form)
    problems = form_problems(form)
    due = form_due_date(form.session_date) if form.session_date else None
    data = {
        "form": form_to_csv_row(form),
        "missing": missing,
        "problems": problems,
        "prefilled": list(form.prefilled),
        "due_date": due.isoformat() if due else None,
        "can_sign": not missing,
    }
    row = data["form"]
    assert isinstance(row, dict)
    lines = [f"{c}: {row[c] or '—'}" for c in CSV_COLUMNS]
    lines.append(f"due: {data['due_date'] or 'unknown (no session date)'}")
    lines.append("missing: " + (", ".join(missing) if missing else "none (may sign)"))
    if problems:
        lines.append("problems: " + "; ".join(problems))
    emit(data, args.format, text="\n".join(lines))
    return 0
