"""Trellis records → FHIR R4 resources (JSON dicts), each validated with ``fhir.resources``.

``fhir.resources`` defaults to FHIR R5; we build with its R4B package (FHIR 4.3), whose JSON for
the resources served here is R4 (4.0.1) compatible. Every resource leaves through
:func:`validated`, so a mapping that breaks the specification fails loudly in tests.

The mapping table (Trellis field → FHIR element) is in docs/fhir.md.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from trellis.core.instruments import Instrument, get_instrument

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"
CDC_RACE = "urn:oid:2.16.840.1.113883.6.238"
PATIENT_ID_SYSTEM = "urn:trellis:patient"
INSTRUMENT_SYSTEM = "urn:trellis:instrument"
ANSWER_SYSTEM = "urn:trellis:answer-value"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
TRACK_EXTENSION = "urn:trellis:fhir:extension:protocol-track"
BAND_EXTENSION = "urn:trellis:fhir:extension:score-band"

# FHIR resource ids: [A-Za-z0-9\-\.]{1,64}.
ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

# Questionnaires served: self-report instruments whose item text may be shipped (CLINICAL.md §1),
# read from the instrument registry.
QUESTIONNAIRES = ("phq9", "gad7", "pcl5")

# OMB race categories → CDC Race & Ethnicity codes (US Core race extension).
RACE_CODES = {
    "aian": ("1002-5", "American Indian or Alaska Native"),
    "asian": ("2028-9", "Asian"),
    "black": ("2054-5", "Black or African American"),
    "nhpi": ("2076-8", "Native Hawaiian or Other Pacific Islander"),
    "white": ("2106-3", "White"),
}
HISPANIC = ("2135-2", "Hispanic or Latino")
GENDER = {"female": "female", "male": "male", "intersex": "other", "prefer_not": "unknown"}
ROUTES = {
    "iv": ("47625008", "Intravenous route"),
    "im": ("78421000", "Intramuscular route"),
    "intranasal": ("46713006", "Nasal route"),
}


@dataclass(frozen=True)
class Ctx:
    """Where references point: the API's base URL (``…/fhir``)."""

    base: str


# Searching builds every candidate to test it against the parameters; only the page that is
# returned needs validating, so candidates are built with validation off (``drafts()``).
_DRAFT: contextvars.ContextVar[bool] = contextvars.ContextVar("fhir_draft", default=False)


@contextlib.contextmanager
def drafts() -> Iterator[None]:
    """Within this block :func:`validated` returns the draft dict unchecked (search candidates;
    what is returned to a client is built again outside it and validated)."""
    token = _DRAFT.set(True)
    try:
        yield
    finally:
        _DRAFT.reset(token)


def validated(data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data`` with the R4B model of its type and return its JSON form."""
    if _DRAFT.get():
        return data
    model = get_fhir_model_class(data["resourceType"])
    obj = model.model_validate(data)
    return dict(obj.model_dump(mode="json", exclude_none=True, by_alias=True))


def instant(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _meta(updated: dt.datetime | None) -> dict[str, Any]:
    return {"lastUpdated": instant(updated)} if updated else {}


def ref(resource_type: str, rid: Any) -> dict[str, str]:
    return {"reference": f"{resource_type}/{rid}"}


def program_id(program: Any) -> str:
    return program.slug if ID_RE.match(program.slug) else f"program-{program.pk}"


# --- Patient, Practitioner, Organization -----------------------------------------------------


def patient(p: Any, ctx: Ctx) -> dict[str, Any]:
    ext: list[dict[str, Any]] = []
    codes = list(p.race_ethnicity or [])
    races = [c for c in codes if c in RACE_CODES]
    if races or "prefer_not" in codes or "mena" in codes:
        sub: list[dict[str, Any]] = [
            {
                "url": "ombCategory",
                "valueCoding": {
                    "system": CDC_RACE,
                    "code": RACE_CODES[c][0],
                    "display": RACE_CODES[c][1],
                },
            }
            for c in races
        ]
        if "prefer_not" in codes and not races:
            sub.append(
                {
                    "url": "ombCategory",
                    "valueCoding": {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor",
                        "code": "ASKU",
                        "display": "Asked but no answer",
                    },
                }
            )
        sub.append({"url": "text", "valueString": p.race_ethnicity_labels or "Unknown"})
        ext.append({"url": f"{US_CORE}/us-core-race", "extension": sub})
    if "hispanic" in codes:
        ext.append(
            {
                "url": f"{US_CORE}/us-core-ethnicity",
                "extension": [
                    {
                        "url": "ombCategory",
                        "valueCoding": {
                            "system": CDC_RACE,
                            "code": HISPANIC[0],
                            "display": HISPANIC[1],
                        },
                    },
                    {"url": "text", "valueString": HISPANIC[1]},
                ],
            }
        )
    telecom = []
    if p.phone:
        telecom.append({"system": "phone", "value": p.phone, "use": "mobile"})
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    name: dict[str, Any] = {"use": "official", "family": p.family_name, "given": [p.given_name]}
    names = [name]
    if p.preferred_name:
        names.append({"use": "usual", "given": [p.preferred_name], "family": p.family_name})
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(p.pk),
        "meta": {
            **_meta(p.updated_at),
            "profile": [f"{US_CORE}/us-core-patient"],
            **(
                {
                    "tag": [
                        {
                            "system": "urn:trellis:tag",
                            "code": "synthetic",
                            "display": "Synthetic patient",
                        }
                    ]
                }
                if p.is_synthetic
                else {}
            ),
        },
        "extension": ext or None,
        "identifier": [{"system": PATIENT_ID_SYSTEM, "value": str(p.pk)}],
        "active": True,
        "name": names,
        "telecom": telecom or None,
        "gender": GENDER.get(p.sex, "unknown"),
        "birthDate": p.date_of_birth.isoformat(),
        "address": [{"postalCode": p.zip_code, "country": "US"}] if p.zip_code else None,
        "communication": (
            [
                {
                    "language": {
                        "coding": [{"system": "urn:ietf:bcp:47", "code": p.preferred_language}],
                        "text": p.get_preferred_language_display(),
                    },
                    "preferred": True,
                }
            ]
            if p.preferred_language != "other"
            else None
        ),
        "managingOrganization": ref("Organization", program_id(p.program)),
    }
    return validated({k: v for k, v in data.items() if v is not None})


def practitioner(user: Any, ctx: Ctx) -> dict[str, Any]:
    name: dict[str, Any] = {"text": user.get_full_name() or user.get_username()}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = [user.first_name]
    return validated(
        {
            "resourceType": "Practitioner",
            "id": str(user.pk),
            "identifier": [{"system": "urn:trellis:staff", "value": user.get_username()}],
            "active": user.is_active,
            "name": [name],
        }
    )


def organization(program: Any, ctx: Ctx) -> dict[str, Any]:
    return validated(
        {
            "resourceType": "Organization",
            "id": program_id(program),
            "meta": {
                **_meta(program.created_at),
                **(
                    {"tag": [{"system": "urn:trellis:tag", "code": "synthetic"}]}
                    if program.is_synthetic
                    else {}
                ),
            },
            "identifier": [{"system": "urn:trellis:program", "value": program.slug}],
            "active": True,
            "type": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                            "code": "prov",
                            "display": "Healthcare Provider",
                        }
                    ]
                }
            ],
            "name": program.name,
        }
    )


# --- Questionnaire, QuestionnaireResponse, score Observation ---------------------------------


def questionnaire_url(ctx: Ctx, instrument_id: str) -> str:
    return f"{ctx.base}/Questionnaire/{instrument_id}"


def _loinc(code: Any) -> list[dict[str, str]]:
    return [{"system": LOINC, "code": code.code}] if code is not None and not code.verify else []


def _answer_coding(item: Any, value: Any, lang: str = "en") -> dict[str, Any]:
    label = next(
        (o.label.get(lang) or o.label.get("en", "") for o in item.options if o.value == value), ""
    )
    return {"system": ANSWER_SYSTEM, "code": str(value), "display": label}


def questionnaire(inst: Instrument, ctx: Ctx) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for it in inst.items:
        items.append(
            {
                "linkId": it.id,
                "text": it.text.get("en") or it.label.get("en", it.id),
                "code": _loinc(inst.loinc.items.get(it.id)) or None,
                "type": "choice",
                "required": True,
                "answerOption": [
                    {
                        "valueCoding": _answer_coding(it, o.value),
                        "extension": [{"url": ORDINAL, "valueDecimal": o.value}]
                        if isinstance(o.value, int)
                        else None,
                    }
                    for o in it.options
                ],
            }
        )
    for item in items:
        if item["code"] is None:
            del item["code"]
        for opt in item["answerOption"]:
            if opt["extension"] is None:
                del opt["extension"]
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": inst.id,
        "url": questionnaire_url(ctx, inst.id),
        "version": inst.version,
        "name": re.sub(r"[^A-Za-z0-9]", "", inst.id.upper()),
        "title": inst.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": inst.preamble.get("en") or None,
        "copyright": inst.licence,
        "code": _loinc(inst.loinc.panel) or None,
        "item": items,
    }
    return validated({k: v for k, v in data.items() if v is not None})


def questionnaire_response_id(a: Any) -> str:
    return str(a.pk)


def questionnaire_response(a: Any, ctx: Ctx) -> dict[str, Any]:
    inst = get_instrument(a.instrument)
    items = []
    for it in inst.items:
        if it.id not in a.answers:
            continue
        items.append(
            {
                "linkId": it.id,
                "text": it.text.get("en") or it.label.get("en", it.id),
                "answer": [{"valueCoding": _answer_coding(it, a.answers[it.id])}],
            }
        )
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": questionnaire_response_id(a),
        "meta": _meta(a.created_at),
        "identifier": {"system": "urn:trellis:assessment", "value": str(a.pk)},
        "questionnaire": questionnaire_url(ctx, inst.id),
        "status": "completed",
        "subject": ref("Patient", a.patient_id),
        "authored": instant(a.taken_at),
        "item": items,
    }
    if a.source == "patient":
        data["source"] = ref("Patient", a.patient_id)
    return validated(data)


def score_observation_id(a: Any) -> str:
    return f"score-{a.pk}"


def score_observation(a: Any, ctx: Ctx) -> dict[str, Any]:
    inst = get_instrument(a.instrument)
    coding = _loinc(inst.loinc.total) + [
        {"system": INSTRUMENT_SYSTEM, "code": inst.id, "display": f"{inst.title} total"}
    ]
    data: dict[str, Any] = {
        "resourceType": "Observation",
        "id": score_observation_id(a),
        "meta": _meta(a.created_at),
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": {"coding": coding, "text": f"{inst.title} total score"},
        "subject": ref("Patient", a.patient_id),
        "effectiveDateTime": instant(a.taken_at),
        "issued": instant(a.created_at),
    }
    if a.total is not None:
        data["valueQuantity"] = {
            "value": a.total,
            "unit": "{score}",
            "system": UCUM,
            "code": "{score}",
        }
    else:
        data["valueCodeableConcept"] = {"text": a.risk or "unknown"}
    if a.band:
        data["interpretation"] = [
            {
                "coding": [{"system": "urn:trellis:score-band", "code": a.band}],
                "text": a.band.replace("_", " "),
            }
        ]
    if a.flags:
        data["note"] = [{"text": "Flags: " + ", ".join(a.flags)}]
    if a.answers and inst.scoring_method in ("sum", "domains"):
        data["derivedFrom"] = [ref("QuestionnaireResponse", questionnaire_response_id(a))]
    return validated(data)


# --- vital signs (dosing monitoring) ---------------------------------------------------------


def _vital(o: Any, kind: str, code: dict[str, Any], **value: Any) -> dict[str, Any]:
    return validated(
        {
            "resourceType": "Observation",
            "id": f"{kind}-{o.pk}",
            "meta": {
                **_meta(o.recorded_at),
                "profile": [f"http://hl7.org/fhir/StructureDefinition/{_PROFILES[kind]}"],
            },
            "status": "final",
            "category": [
                {
                    "coding": [
                        {"system": OBS_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}
                    ]
                }
            ],
            "code": code,
            "subject": ref("Patient", o.session.patient_id),
            "encounter": ref("Encounter", f"dose-{o.session_id}"),
            "effectiveDateTime": instant(o.at),
            **value,
        }
    )


_PROFILES = {"bp": "bp", "hr": "heartrate", "spo2": "oxygensat"}


def _qty(value: Any, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def vital_observations(o: Any, ctx: Ctx) -> list[dict[str, Any]]:
    """One dosing-monitoring row → its BP, heart-rate and SpO2 Observations (those measured)."""
    out = []
    if o.systolic is not None and o.diastolic is not None:
        out.append(
            _vital(
                o,
                "bp",
                {
                    "coding": [
                        {
                            "system": LOINC,
                            "code": "85354-9",
                            "display": "Blood pressure panel with all children optional",
                        }
                    ],
                    "text": "Blood pressure",
                },
                component=[
                    {
                        "code": {
                            "coding": [
                                {
                                    "system": LOINC,
                                    "code": "8480-6",
                                    "display": "Systolic blood pressure",
                                }
                            ]
                        },
                        "valueQuantity": _qty(o.systolic, "mmHg", "mm[Hg]"),
                    },
                    {
                        "code": {
                            "coding": [
                                {
                                    "system": LOINC,
                                    "code": "8462-4",
                                    "display": "Diastolic blood pressure",
                                }
                            ]
                        },
                        "valueQuantity": _qty(o.diastolic, "mmHg", "mm[Hg]"),
                    },
                ],
            )
        )
    if o.heart_rate is not None:
        out.append(
            _vital(
                o,
                "hr",
                {
                    "coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}],
                    "text": "Heart rate",
                },
                valueQuantity=_qty(o.heart_rate, "beats/minute", "/min"),
            )
        )
    if o.spo2 is not None:
        out.append(
            _vital(
                o,
                "spo2",
                {
                    "coding": [
                        {
                            "system": LOINC,
                            "code": "59408-5",
                            "display": "Oxygen saturation in Arterial blood by Pulse oximetry",
                        },
                        {
                            "system": LOINC,
                            "code": "2708-6",
                            "display": "Oxygen saturation in Arterial blood",
                        },
                    ],
                    "text": "SpO2",
                },
                valueQuantity=_qty(o.spo2, "%", "%"),
            )
        )
    return out


# --- courses: Condition, CarePlan ------------------------------------------------------------

ACTIVITY_STATUS = {
    "planned": "not-started",
    "scheduled": "scheduled",
    "done": "completed",
    "missed": "stopped",
    "cancelled": "cancelled",
}
ACTIVITY_KIND = {"dose": "MedicationRequest", "assessment": "Task"}


def condition(e: Any, protocol: Any, ctx: Ctx) -> dict[str, Any]:
    return validated(
        {
            "resourceType": "Condition",
            "id": str(e.pk),
            "meta": _meta(e.created_at),
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "confirmed",
                    }
                ]
            },
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                            "code": "problem-list-item",
                            "display": "Problem List Item",
                        }
                    ]
                }
            ],
            "code": {"text": protocol.condition},
            "subject": ref("Patient", e.patient_id),
            "recordedDate": e.referred_on.isoformat(),
            "note": [{"text": f"Indication of the course on track {protocol.id}"}],
        }
    )


def care_plan(e: Any, protocol: Any, activities: list[Any], ctx: Ctx) -> dict[str, Any]:
    status = {"completed": "completed", "withdrawn": "revoked"}.get(e.phase, "active")
    acts = []
    for a in activities:
        detail: dict[str, Any] = {
            "kind": ACTIVITY_KIND.get(a.kind, "Appointment"),
            "code": {
                "coding": [{"system": "urn:trellis:activity-kind", "code": a.kind}],
                "text": a.name,
            },
            "status": ACTIVITY_STATUS.get(a.status, "unknown"),
            "scheduledPeriod": {"start": a.earliest.isoformat(), "end": a.latest.isoformat()},
            "description": a.name,
        }
        acts.append({"detail": detail})
    return validated(
        {
            "resourceType": "CarePlan",
            "id": str(e.pk),
            "meta": _meta(e.created_at),
            "extension": [
                {"url": TRACK_EXTENSION, "valueString": f"{protocol.id}@{e.protocol_version}"}
            ],
            "status": status,
            "intent": "plan",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
                            "code": "assess-plan",
                        }
                    ]
                }
            ],
            "title": protocol.title,
            "description": f"Course on the {protocol.title} track, phase {e.phase}",
            "subject": ref("Patient", e.patient_id),
            "period": {"start": e.start_date.isoformat()},
            "addresses": [ref("Condition", e.pk)],
            "activity": acts or None,
        }
        if acts
        else {
            "resourceType": "CarePlan",
            "id": str(e.pk),
            "meta": _meta(e.created_at),
            "extension": [
                {"url": TRACK_EXTENSION, "valueString": f"{protocol.id}@{e.protocol_version}"}
            ],
            "status": status,
            "intent": "plan",
            "title": protocol.title,
            "subject": ref("Patient", e.patient_id),
            "period": {"start": e.start_date.isoformat()},
            "addresses": [ref("Condition", e.pk)],
        }
    )


# --- sessions: Encounter, MedicationAdministration, Appointment ------------------------------

AMB = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "code": "AMB",
    "display": "ambulatory",
}


def dosing_encounter(s: Any, ctx: Ctx) -> dict[str, Any]:
    finished = s.status in ("discharged", "signed")
    start = s.started_at or s.created_at
    period: dict[str, Any] = {"start": instant(start)}
    end = s.ready_at or s.stopped_at
    if finished and end and end >= start:
        period["end"] = instant(end)
    return validated(
        {
            "resourceType": "Encounter",
            "id": f"dose-{s.pk}",
            "meta": _meta(s.signed_at or s.created_at),
            "status": "finished" if finished else "in-progress",
            "class": AMB,
            "type": [
                {
                    "coding": [{"system": "urn:trellis:encounter-type", "code": "dosing"}],
                    "text": f"Dosing session {s.dose_index}",
                }
            ],
            "subject": ref("Patient", s.patient_id),
            "period": period,
        }
    )


def integration_encounter(n: Any, ctx: Ctx) -> dict[str, Any]:
    return validated(
        {
            "resourceType": "Encounter",
            "id": f"integration-{n.pk}",
            "meta": _meta(n.created_at),
            "status": "finished",
            "class": AMB,
            "type": [
                {
                    "coding": [{"system": "urn:trellis:encounter-type", "code": "integration"}],
                    "text": f"Integration session after dose {n.dose_index}",
                }
            ],
            "subject": ref("Patient", n.episode.patient_id),
            "period": {"start": instant(n.at)},
        }
    )


def medication_administration(s: Any, ctx: Ctx) -> dict[str, Any]:
    route = ROUTES.get(s.route)
    dosage: dict[str, Any] = {
        "route": {"coding": [{"system": SNOMED, "code": route[0], "display": route[1]}]}
        if route
        else {"text": s.route},
    }
    if s.dose_mg is not None:
        dosage["dose"] = {"value": float(s.dose_mg), "unit": "mg", "system": UCUM, "code": "mg"}
    finished = s.status in ("discharged", "signed", "monitoring", "ready")
    start = s.started_at or s.created_at
    return validated(
        {
            "resourceType": "MedicationAdministration",
            "id": f"dose-{s.pk}",
            "meta": _meta(s.signed_at or s.created_at),
            "status": "completed" if finished else "in-progress",
            "medicationCodeableConcept": {
                "coding": [{"system": "urn:trellis:drug", "code": s.drug}],
                "text": s.drug,
            },
            "subject": ref("Patient", s.patient_id),
            "context": ref("Encounter", f"dose-{s.pk}"),
            "effectiveDateTime": instant(start),
            "dosage": dosage,
        }
    )


APPOINTMENT_STATUS = {"booked": "booked", "cancelled": "cancelled", "done": "fulfilled"}


def appointment(a: Any, ctx: Ctx) -> dict[str, Any]:
    participants = [{"actor": ref("Patient", a.patient_id), "status": "accepted"}]
    if a.staff_id:
        participants.append({"actor": ref("Practitioner", a.staff_id), "status": "accepted"})
    data = {
        "resourceType": "Appointment",
        "id": str(a.pk),
        "meta": _meta(a.created_at),
        "status": APPOINTMENT_STATUS.get(a.status, "booked"),
        "serviceType": [
            {
                "coding": [{"system": "urn:trellis:activity-kind", "code": a.kind}],
                "text": a.kind.replace("_", " "),
            }
        ],
        "description": f"{a.kind.replace('_', ' ')} {a.index}",
        "start": instant(a.start),
        "end": instant(a.end),
        "participant": participants,
    }
    if a.status == "cancelled" and a.cancel_reason:
        data["cancelationReason"] = {"text": a.cancel_reason}
    return validated(data)


CONSENT_SCOPE = {"research_sharing": ("research", "Research")}


def consent(c: Any, ctx: Ctx) -> dict[str, Any]:
    scope = CONSENT_SCOPE.get(
        c.kind,
        ("treatment", "Treatment")
        if c.kind == "treatment"
        else ("patient-privacy", "Privacy Consent"),
    )
    return validated(
        {
            "resourceType": "Consent",
            "id": str(c.pk),
            "meta": _meta(c.recorded_at),
            "status": "active" if c.withdrawn_on is None else "inactive",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": scope[0],
                        "display": scope[1],
                    }
                ]
            },
            "category": [
                {
                    "coding": [{"system": "urn:trellis:consent-kind", "code": c.kind}],
                    "text": c.get_kind_display(),
                }
            ],
            "patient": ref("Patient", c.patient_id),
            "dateTime": instant(c.recorded_at),
            "policyRule": {"text": c.scope or c.get_kind_display()},
            "provision": {
                "period": {
                    "start": c.given_on.isoformat(),
                    **({"end": c.withdrawn_on.isoformat()} if c.withdrawn_on else {}),
                }
            },
        }
    )
