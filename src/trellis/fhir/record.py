"""The patient's whole record as a FHIR Bundle (HIPAA right of access) and its plain summary.

Staff download it from the chart (:func:`bundle_for_staff`: the chart's access check, a view
and an export audit row); the patient sees :func:`plain_summary` through their check-in link,
read from the same Bundle so the two never disagree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.fhir import catalog
from trellis.fhir import resources as R


def patient_resources(patient: Any, ctx: R.Ctx) -> list[dict[str, Any]]:
    """Every served resource about ``patient`` (the Patient first), validated."""
    out: list[dict[str, Any]] = []
    for spec in catalog.TYPES.values():
        if not spec.patient_compartment:
            continue
        for row in spec.rows(patient.program, patient.pk):
            out.extend(spec.build(row, ctx))
    out.append(R.organization(patient.program, ctx))
    return out


def patient_bundle(patient: Any, ctx: R.Ctx) -> dict[str, Any]:
    entries = [
        {"fullUrl": f"{ctx.base}/{r['resourceType']}/{r['id']}", "resource": r}
        for r in patient_resources(patient, ctx)
    ]
    return R.validated(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "meta": {"lastUpdated": R.instant(timezone.now())},
            "type": "collection",
            "timestamp": R.instant(timezone.now()),
            "entry": entries,
        }
    )


def bundle_for_staff(
    user: Any, patient_id: uuid.UUID, request: HttpRequest
) -> tuple[Any, dict[str, Any]]:
    """The chart's access check (404 for another program) and audit, then the Bundle."""
    from trellis.patients.services import get_patient

    patient = get_patient(user, patient_id, request=request)
    ctx = R.Ctx(base=request.build_absolute_uri("/fhir").rstrip("/"))
    bundle = patient_bundle(patient, ctx)
    record(
        action=Action.EXPORT,
        request=request,
        program=patient.program,
        patient_id=patient.pk,
        object_type="fhir.Bundle",
        object_id=bundle["id"],
        detail={"resources": len(bundle.get("entry", [])), "purpose": "right of access"},
    )
    return patient, bundle


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.get_current_timezone())


def plain_summary(link: Any, request: HttpRequest) -> dict[str, Any]:
    """What the patient sees: scores, treatment sessions and coming appointments (audited)."""
    patient = link.patient
    resources = patient_resources(patient, R.Ctx(base=""))
    record(
        action=Action.VIEW,
        request=request,
        actor_username=f"patient:{patient.pk}",
        program=patient.program,
        patient_id=patient.pk,
        object_type="fhir.summary",
        object_id=str(link.pk),
    )
    scores, doses, visits = [], [], []
    now = timezone.now()
    for r in resources:
        rtype = r["resourceType"]
        if rtype == "Observation" and r["category"][0]["coding"][0]["code"] == "survey":
            code = next(
                (c["code"] for c in r["code"]["coding"] if c["system"] == R.INSTRUMENT_SYSTEM), ""
            )
            value = r.get("valueQuantity", {}).get("value")
            if code and value is not None:
                scores.append(
                    {"instrument": code, "score": value, "at": _when(r["effectiveDateTime"])}
                )
        elif rtype == "MedicationAdministration":
            dose = r.get("dosage", {}).get("dose", {})
            doses.append(
                {
                    "drug": r["medicationCodeableConcept"]["text"],
                    "mg": dose.get("value"),
                    "at": _when(r.get("effectiveDateTime")),
                }
            )
        elif rtype == "Appointment" and r["status"] == "booked":
            start = _when(r.get("start"))
            if start and start >= now:
                visits.append({"kind": r["serviceType"][0]["coding"][0]["code"], "at": start})
    scores.sort(key=lambda s: s["at"] or now, reverse=True)
    doses.sort(key=lambda d: d["at"] or now, reverse=True)
    visits.sort(key=lambda v: v["at"])
    return {"patient": patient, "scores": scores[:20], "doses": doses[:20], "visits": visits[:10]}
