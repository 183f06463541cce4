"""``trellis fhir import BUNDLE.json --program SLUG``: a transaction or collection Bundle of
Patients with their Conditions and PHQ-9/GAD-7 total Observations (as Synthea writes them)
becomes registered patients and score history.

All or nothing: every resource is validated first (``fhir.resources``) and the import runs in
one transaction; an invalid resource or value raises InvalidInput naming the entry and field,
and nothing is stored. What is not imported is reported with the reason (other resource types,
other codes, a patient already registered — same name and date of birth — whose new scores are
still added). Conditions are reported, not stored: Trellis keeps a condition as the indication
of a course, which staff start with screening. Totals are history: no item answers come with
them, so no suicide-item check is possible (CLINICAL.md §2), and the report says so.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from pydantic import ValidationError

from trellis.core.errors import InvalidInput
from trellis.core.instruments import get_instrument
from trellis.fhir import resources as R
from trellis.patients.models import Language

AUDIT_ACTOR = "fhir-import"
IMPORTED_INSTRUMENTS = ("phq9", "gad7")
RACE_BY_CODE = {code: key for key, (code, _) in R.RACE_CODES.items()}
SEX_BY_GENDER = {"female": "female", "male": "male"}


def _total_codes() -> dict[str, str]:
    """LOINC total code → instrument, read from the instrument registry (one source)."""
    out = {}
    for inst_id in IMPORTED_INSTRUMENTS:
        total = get_instrument(inst_id).loinc.total
        if total is not None:
            out[total.code] = inst_id
    return out


def _patient_data(res: dict[str, Any], where: str) -> tuple[dict[str, Any] | None, str]:
    names = res.get("name") or []
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = (official.get("given") or [""])[0]
    family = official.get("family") or ""
    if not given or not family:
        return None, "no given and family name"
    if not res.get("birthDate"):
        return None, "no birthDate"
    try:
        born = dt.date.fromisoformat(res["birthDate"])
    except ValueError:
        return None, f"birthDate {res['birthDate']!r} is not a full date"
    if res.get("gender") not in (None, "male", "female", "other", "unknown"):
        raise InvalidInput(f"{where} Patient.gender", "must be male, female, other or unknown")
    data: dict[str, Any] = {
        "given_name": given[:100],
        "family_name": family[:100],
        "date_of_birth": born,
        "sex": SEX_BY_GENDER.get(res.get("gender", ""), ""),
    }
    for t in res.get("telecom") or []:
        if t.get("system") == "phone" and not data.get("phone"):
            data["phone"] = str(t.get("value", ""))[:20]
        if t.get("system") == "email" and not data.get("email"):
            data["email"] = str(t.get("value", ""))
    for a in res.get("address") or []:
        if a.get("postalCode"):
            data["zip_code"] = str(a["postalCode"])[:10]
            break
    languages = {c.value for c in Language}
    for c in res.get("communication") or []:
        for coding in (c.get("language") or {}).get("coding") or []:
            code = str(coding.get("code", "")).split("-")[0].lower()
            if code:
                data["preferred_language"] = code if code in languages else "other"
                break
        if "preferred_language" in data:
            break
    race: list[str] = []
    for ext in res.get("extension") or []:
        url = str(ext.get("url", ""))
        for sub in ext.get("extension") or []:
            omb = str((sub.get("valueCoding") or {}).get("code") or "")
            if sub.get("url") != "ombCategory" or not omb:
                continue
            if url.endswith("us-core-race") and omb in RACE_BY_CODE:
                race.append(RACE_BY_CODE[omb])
            if url.endswith("us-core-ethnicity") and omb == R.HISPANIC[0]:
                race.append("hispanic")
    data["race_ethnicity"] = list(dict.fromkeys(race))
    return data, ""


def _skip(skipped: list[dict[str, Any]], i: int, res: dict[str, Any], reason: str) -> None:
    skipped.append(
        {
            "entry": i,
            "resource": f"{res.get('resourceType', '?')}/{res.get('id', '')}".rstrip("/"),
            "reason": reason,
        }
    )


def import_bundle(program: Any, data: Any) -> dict[str, Any]:
    """Import the Bundle into ``program`` (module docstring); returns the report."""
    from trellis.measures.services import import_total
    from trellis.patients.services import find_same_patient, import_patient

    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise InvalidInput("BUNDLE.json", "must be a FHIR Bundle (resourceType Bundle)")
    if data.get("type") not in ("transaction", "collection", "batch", "searchset"):
        raise InvalidInput("Bundle.type", "must be transaction or collection")
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise InvalidInput("Bundle.entry", "must be a list")
    skipped: list[dict[str, Any]] = []
    totals = _total_codes()
    # Pass 1: validate every resource we read, and plan.
    patient_rows: list[tuple[int, dict[str, Any], list[str]]] = []
    observations: list[tuple[int, dict[str, Any], str]] = []
    conditions: list[tuple[int, dict[str, Any]]] = []
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise InvalidInput(f"entry[{i}].resource", "is missing or has no resourceType")
        rtype = res["resourceType"]
        if rtype not in ("Patient", "Condition", "Observation"):
            _skip(skipped, i, res, f"{rtype} is not imported (Patients, Conditions, scores only)")
            continue
        try:
            R.validated(res)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise InvalidInput(f"entry[{i}] {rtype}.{where}", err["msg"]) from None
        aliases = [str(entry.get("fullUrl", "")), f"Patient/{res.get('id', '')}"]
        if rtype == "Patient":
            patient_rows.append((i, res, [a for a in aliases if a and a != "Patient/"]))
        elif rtype == "Condition":
            conditions.append((i, res))
        else:
            codes = [
                c.get("code")
                for c in (res.get("code") or {}).get("coding") or []
                if c.get("system") == R.LOINC
            ]
            inst = next((totals[c] for c in codes if c in totals), None)
            if inst is None:
                _skip(skipped, i, res, "not a PHQ-9 (44261-6) or GAD-7 (70274-6) total")
            elif res.get("status") not in ("final", "amended", "corrected"):
                _skip(skipped, i, res, f"status {res.get('status')!r} is not final")
            else:
                observations.append((i, res, inst))
    report: dict[str, Any] = {
        "program": program.slug,
        "patients": 0,
        "existing_patients": 0,
        "observations": 0,
        "skipped": skipped,
        "notes": [],
    }
    with transaction.atomic():
        by_ref: dict[str, Any] = {}
        for i, res, aliases in patient_rows:
            pdata, reason = _patient_data(res, f"entry[{i}]")
            if pdata is None:
                _skip(skipped, i, res, reason)
                continue
            existing = find_same_patient(program, pdata)
            if existing is not None:
                _skip(skipped, i, res, "already registered (same name and date of birth)")
                report["existing_patients"] += 1
                patient = existing
            else:
                try:
                    patient = import_patient(program, pdata, audit_actor=AUDIT_ACTOR)
                except InvalidInput as exc:
                    raise InvalidInput(f"entry[{i}] Patient.{exc.field}", exc.detail) from None
                report["patients"] += 1
            for alias in aliases:
                by_ref[alias] = patient
        for i, res in conditions:
            ref = (res.get("subject") or {}).get("reference", "")
            if ref not in by_ref:
                _skip(skipped, i, res, f"subject {ref!r} is not a Patient of this Bundle")
            else:
                _skip(
                    skipped,
                    i,
                    res,
                    "conditions are not stored: a course's indication is set when staff start it",
                )
        for i, res, inst in observations:
            ref = (res.get("subject") or {}).get("reference", "")
            subject = by_ref.get(ref)
            if subject is None:
                _skip(skipped, i, res, f"subject {ref!r} is not an imported Patient")
                continue
            value = (res.get("valueQuantity") or {}).get("value")
            when = res.get("effectiveDateTime") or res.get("issued")
            if value is None or not when:
                _skip(skipped, i, res, "no valueQuantity or effectiveDateTime")
                continue
            try:
                taken = dt.datetime.fromisoformat(str(when).replace("Z", "+00:00"))
            except ValueError:
                raise InvalidInput(
                    f"entry[{i}] Observation.effectiveDateTime", "not a dateTime"
                ) from None
            if taken.tzinfo is None:
                raise InvalidInput(f"entry[{i}] Observation.effectiveDateTime", "needs a time zone")
            total = int(value) if float(value).is_integer() else value
            try:
                import_total(
                    subject,
                    inst,
                    total,
                    taken,
                    key=f"fhir-import:{subject.pk}:{inst}:{taken.isoformat()}",
                    audit_actor=AUDIT_ACTOR,
                )
            except InvalidInput as exc:
                raise InvalidInput(f"entry[{i}] Observation.valueQuantity", exc.detail) from None
            report["observations"] += 1
    if report["observations"]:
        report["notes"].append(
            "Imported totals carry no item answers: the PHQ-9 suicide item could not be checked."
        )
    return report
