"""``trellis safety``: dosing safety rules from the command line (CLINICAL.md §4–5).

Sub-commands: ``predose`` (proceed/hold from pre-dose vitals), ``checklist`` (what still blocks
the dose), ``dose`` (dose from a track's rule), ``monitor`` (alerts for one set of vitals),
``vitals`` (when the next vitals are due), ``discharge`` (readiness from a JSON file),
``rems-form`` (REMS Patient Monitoring Form data from a recorded session) and ``rems-due``
(forms not yet submitted). Thresholds are CLINICAL.md §5 defaults unless ``--thresholds FILE``
gives a program's overrides.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import date
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
    forms_due,
    missing_fields,
)
from trellis.core.safety import (
    DEFAULT_THRESHOLDS,
    ESKETAMINE_TRD,
    KETAMINE_IV_STANDARD,
    DischargeInputs,
    DoseRule,
    Observation,
    PredoseRecord,
    SafetyThresholds,
    can_start_dose,
    compute_dose,
    discharge_readiness,
    dose_rule_from_protocol,
    monitoring_alerts,
    predose_decision,
    track_requirements_from_protocol,
    vitals_due,
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
    parse_datetime,
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
    _add_thresholds_argument(p)
    add_format_argument(p)
    p.set_defaults(func=run_predose)

    p = sub(commands, "discharge", "Discharge readiness from a JSON file of recorded values")
    p.add_argument("--input", required=True, help="JSON file ('-' for stdin)")
    _add_thresholds_argument(p)
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
    _add_thresholds_argument(p)
    add_format_argument(p)
    p.set_defaults(func=run_monitor)

    p = sub(commands, "checklist", "Pre-dose checklist: what still blocks the dose")
    p.add_argument("--protocol", required=True, help="protocol track id (e.g. esketamine-trd)")
    p.add_argument("--input", required=True, help="JSON file of what was recorded ('-' for stdin)")
    _add_thresholds_argument(p)
    add_format_argument(p)
    p.set_defaults(func=run_checklist)

    p = sub(commands, "vitals", "When the next vitals are due during a session")
    p.add_argument("--input", required=True, help="JSON file ('-' for stdin)")
    _add_thresholds_argument(p)
    add_format_argument(p)
    p.set_defaults(func=run_vitals)

    p = sub(commands, "rems-due", "REMS Patient Monitoring Forms not yet submitted, soonest first")
    p.add_argument("--input", required=True, help="JSON list of sessions ('-' for stdin)")
    p.add_argument("--today", required=True, help="today's date, YYYY-MM-DD")
    add_format_argument(p)
    p.set_defaults(func=run_rems_due)

    p = sub(commands, "rems-form", "REMS Patient Monitoring Form data from a recorded session")
    p.add_argument("--input", required=True, help="session JSON file ('-' for stdin)")
    p.add_argument("--previous", help="previous form JSON (as printed by this command)")
    add_format_argument(p)
    p.set_defaults(func=run_rems_form)


def _add_thresholds_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--thresholds",
        help="JSON file of the program's threshold overrides (default: CLINICAL.md §5)",
    )


def _thresholds(args: argparse.Namespace) -> SafetyThresholds:
    if args.thresholds is None:
        return DEFAULT_THRESHOLDS
    return SafetyThresholds.from_mapping(
        read_json_file(args.thresholds, "--thresholds"), where="--thresholds"
    )


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
    decision = predose_decision(systolic, diastolic, heart_rate, spo2, _thresholds(args))
    text = decision.decision.upper()
    if decision.reasons:
        text += ": " + "; ".join(decision.reasons) + " (prescriber override with reason needed)"
    emit(decision.to_dict(), args.format, text=text)
    return 0


def run_discharge(args: argparse.Namespace) -> int:
    data = read_json_file(args.input)
    thresholds = _thresholds(args)
    readiness = discharge_readiness(DischargeInputs.from_mapping(data), thresholds)
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
    alerts = monitoring_alerts(observation, _thresholds(args))
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


def run_checklist(args: argparse.Namespace) -> int:
    track = track_requirements_from_protocol(load_protocol(args.protocol, "--protocol"))
    record = PredoseRecord.from_mapping(read_json_file(args.input), where="input")
    decision = can_start_dose(track, record, _thresholds(args))
    if decision.may_start:
        text = "MAY START: every pre-dose item is done"
    else:
        lines = [f"BLOCKED ({len(decision.blocking)} open):"]
        lines += [f"  - {m.item}: {m.detail}" for m in decision.blocking]
        text = "\n".join(lines)
    emit(decision.to_dict(), args.format, text=text)
    return 0


_VITALS_KEYS = ("drug", "first_administration", "infusion_end", "now", "recorded_times")


def run_vitals(args: argparse.Namespace) -> int:
    data = read_json_file(args.input)
    if not isinstance(data, dict):
        raise InvalidInput("input", "must be a JSON object")
    for key in data:
        if key not in _VITALS_KEYS:
            raise InvalidInput(f"input.{key}", f"unknown key (known: {', '.join(_VITALS_KEYS)})")
    for key in ("drug", "first_administration", "now"):
        if key not in data:
            raise InvalidInput(key, "is required")
    times = data.get("recorded_times", [])
    if not isinstance(times, list):
        raise InvalidInput("recorded_times", "must be a list of ISO 8601 date-times")
    end_raw = data.get("infusion_end")
    due = vitals_due(
        data["drug"],
        parse_datetime(data["first_administration"], "first_administration"),
        None if end_raw is None else parse_datetime(end_raw, "infusion_end"),
        parse_datetime(data["now"], "now"),
        [parse_datetime(t, f"recorded_times[{i}]") for i, t in enumerate(times)],
        _thresholds(args),
    )
    text = f"next vitals: {due.label} at {due.due_at.isoformat()}"
    if due.overdue:
        text += " (OVERDUE)"
    emit(due.to_dict(), args.format, text=text)
    return 0


def _iso_date(value: object, field: str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    shown = f'"{value}"' if isinstance(value, str) else json.dumps(value)
    raise InvalidInput(field, f"must be a date YYYY-MM-DD, got {shown}")


def run_rems_due(args: argparse.Namespace) -> int:
    today = _iso_date(args.today, "--today")
    data = read_json_file(args.input)
    if not isinstance(data, list):
        raise InvalidInput("input", "must be a JSON list of sessions")
    forms: list[PatientMonitoringForm] = []
    known = ("session_id", "patient", "session_date", "submitted_on")
    for n, item in enumerate(data):
        where = f"input[{n}]"
        if not isinstance(item, dict):
            raise InvalidInput(where, "must be a JSON object")
        for key in item:
            if key not in known:
                raise InvalidInput(f"{where}.{key}", f"unknown key (known: {', '.join(known)})")
        if "session_date" not in item:
            raise InvalidInput(f"{where}.session_date", "is required")
        for key in ("session_id", "patient"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise InvalidInput(f"{where}.{key}", "must be text")
        submitted = item.get("submitted_on")
        forms.append(
            PatientMonitoringForm(
                session_id=item.get("session_id"),
                patient=item.get("patient"),
                session_date=_iso_date(item["session_date"], f"{where}.session_date"),
                submitted_on=(
                    None if submitted is None else _iso_date(submitted, f"{where}.submitted_on")
                ),
            )
        )
    due = forms_due(forms, today)
    if due:
        text = "\n".join(
            f"{d.due_date.isoformat()}  {d.session_id or '-'}  {d.patient or '-'}  "
            + (f"OVERDUE by {-d.days_left} day(s)" if d.overdue else f"{d.days_left} day(s) left")
            for d in due
        )
    else:
        text = "no REMS forms due"
    emit({"forms_due": [d.to_dict() for d in due]}, args.format, text=text)
    return 0
