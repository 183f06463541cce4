"""``POST /fhir/QuestionnaireResponse``: a PHQ-9 or GAD-7 answered elsewhere becomes the same
assessment a phone check-in makes (``measures.services.record_system_answers``): scored by
``trellis.core``, its Observation (the score) stored, a suicide-item answer raising the same
urgent alert (CLINICAL.md §2). Invalid input raises :class:`Unprocessable` naming the item, and
nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from pydantic import ValidationError

from trellis.core.errors import InvalidInput
from trellis.core.instruments import get_instrument
from trellis.fhir import resources as R
from trellis.fhir.services import Caller

WRITABLE = ("phq9", "gad7")


class Unprocessable(Exception):
    """422: ``expression`` is the FHIRPath of the offending element."""

    def __init__(self, expression: str, message: str) -> None:
        super().__init__(message)
        self.expression = expression
        self.message = message


def _instrument_of(canonical: str) -> str:
    tail = canonical.rstrip("/").rpartition("/")[2].split("|")[0]
    for inst_id in WRITABLE:
        inst = get_instrument(inst_id)
        panel = inst.loinc.panel.code if inst.loinc.panel else None
        if tail == inst_id or tail == panel:
            return inst_id
    raise Unprocessable(
        "QuestionnaireResponse.questionnaire",
        "questionnaire must be PHQ-9 or GAD-7 (Questionnaire/phq9 or Questionnaire/gad7), "
        f"got {canonical!r}",
    )


def _item_expr(link_id: str) -> str:
    return f"QuestionnaireResponse.item.where(linkId='{link_id}')"


def _answer_value(item: dict[str, Any], link_id: str) -> int:
    answers = item.get("answer") or []
    if len(answers) != 1:
        raise Unprocessable(_item_expr(link_id), f"item {link_id}: exactly one answer is required")
    ans = answers[0]
    if "valueInteger" in ans:
        value = ans["valueInteger"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise Unprocessable(_item_expr(link_id), f"item {link_id}: valueInteger must be 0-3")
        return int(value)
    if "valueCoding" in ans:
        code = str(ans["valueCoding"].get("code", ""))
        if code.isdigit():
            return int(code)
        raise Unprocessable(
            _item_expr(link_id),
            f"item {link_id}: valueCoding.code must be 0, 1, 2 or 3, got {code!r}",
        )
    raise Unprocessable(
        _item_expr(link_id), f"item {link_id}: answer with valueCoding or valueInteger"
    )


def parse_response(data: Any, caller: Caller) -> dict[str, Any]:
    """Check a QuestionnaireResponse and return instrument, patient id, answers, time, key."""
    if not isinstance(data, dict) or data.get("resourceType") != "QuestionnaireResponse":
        raise Unprocessable("QuestionnaireResponse", "the body must be a QuestionnaireResponse")
    try:
        R.validated({k: v for k, v in data.items() if k != "id"})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Unprocessable(f"QuestionnaireResponse.{where}", f"{where}: {first['msg']}") from None
    if data.get("status") not in ("completed", "amended"):
        raise Unprocessable("QuestionnaireResponse.status", "status must be completed")
    instrument = _instrument_of(str(data.get("questionnaire") or ""))
    subject = str((data.get("subject") or {}).get("reference") or "")
    if not subject.startswith("Patient/"):
        raise Unprocessable("QuestionnaireResponse.subject", "subject must reference a Patient")
    inst = get_instrument(instrument)
    known = {it.id for it in inst.items}
    answers: dict[str, int] = {}
    for item in data.get("item") or []:
        link_id = str(item.get("linkId", ""))
        if link_id not in known:
            raise Unprocessable(
                _item_expr(link_id), f"item {link_id!r} is not an item of {instrument}"
            )
        if link_id in answers:
            raise Unprocessable(_item_expr(link_id), f"item {link_id} is answered twice")
        answers[link_id] = _answer_value(item, link_id)
    taken_at = None
    if data.get("authored"):
        try:
            taken_at = dt.datetime.fromisoformat(str(data["authored"]).replace("Z", "+00:00"))
        except ValueError:
            raise Unprocessable(
                "QuestionnaireResponse.authored", "authored must be a dateTime"
            ) from None
        if taken_at.tzinfo is None:
            raise Unprocessable("QuestionnaireResponse.authored", "authored needs a time zone")
    ident = data.get("identifier") or {}
    key_part = f"{ident.get('system', '')}|{ident.get('value')}" if ident.get("value") else None
    return {
        "instrument": instrument,
        "patient_id": subject.removeprefix("Patient/"),
        "answers": answers,
        "taken_at": taken_at,
        "key_part": key_part,
    }


def create_response(caller: Caller, data: Any, request: HttpRequest | None) -> Any:
    """Store the response through the check-in service; returns the assessment."""
    import uuid

    from trellis.fhir.catalog import find_patient
    from trellis.measures.services import record_system_answers

    parsed = parse_response(data, caller)
    patient = find_patient(caller.program, parsed["patient_id"])
    if patient is None:
        raise Unprocessable(
            "QuestionnaireResponse.subject", "subject: no such Patient in this program"
        )
    key = f"fhir:{caller.client.client_id}:{parsed['key_part'] or uuid.uuid4()}"[:200]
    try:
        return record_system_answers(
            patient,
            parsed["instrument"],
            parsed["answers"],
            key=key,
            audit_actor=caller.audit_name,
            taken_at=parsed["taken_at"],
            request=request,
        )
    except InvalidInput as exc:
        field = exc.field
        expr = (
            _item_expr(field.removeprefix("item "))
            if field.startswith("item ")
            else f"QuestionnaireResponse.{'item' if field == 'answers' else field}"
        )
        raise Unprocessable(expr, exc.message) from None
