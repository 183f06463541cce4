"""Every response that shows patient-identifying data writes an audit row (issue 14, finding 2).

The rule is kept at its root, not page by page: a model declares which of its fields identify a
patient (:func:`identifying`); reading one of them while a request is being answered notes the
patient (a data descriptor on the field). When the response goes out,
:class:`PatientDataAuditMiddleware` writes one ``view`` row for each noted patient that the
request has not already audited (a service's own ``record(...)`` for that patient counts), with
the request's actor, path, IP and request id. A new page that renders a patient's name, phone or
e-mail is therefore audited without doing anything; a new model holding identifiers (a copy of a
phone number, a recipient address) opts in with one decorator.

Redirects, 403/404/405 and 5xx responses show nothing and write nothing (a redirect after a form
post is audited by the service that did the write). ``tests/audit/test_phi_walk.py`` walks every
URL as every demo role and fails when a response contains a demo patient's name, phone or e-mail
without an audit row for that patient.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.http import HttpRequest, HttpResponse

M = TypeVar("M", bound=type[models.Model])


@dataclass
class _Exposure:
    # patient id -> program id of every patient whose identifiers were read
    shown: dict[str, int | None] = field(default_factory=dict)
    # patients this request already wrote an audit row for
    audited: set[str] = field(default_factory=set)


_current: ContextVar[_Exposure | None] = ContextVar("trellis_patient_exposure", default=None)

# model label -> its identifying fields (the registry; see docs/architecture.md)
IDENTIFYING_FIELDS: dict[str, tuple[str, ...]] = {}


def note_shown(patient_id: Any, program_id: int | None) -> None:
    exposure = _current.get()
    if exposure is not None and patient_id is not None:
        exposure.shown.setdefault(str(patient_id), program_id)


def note_audited(patient_id: Any) -> None:
    exposure = _current.get()
    if exposure is not None and patient_id is not None:
        exposure.audited.add(str(patient_id))


class _IdentifyingAttribute(DeferredAttribute):
    """A field's attribute that notes its patient when read during a request.

    A data descriptor (it defines ``__set__``), so reads go through ``__get__`` even once the
    value sits in the instance's ``__dict__``.
    """

    def __init__(self, field: Any, patient_of: Callable[[Any], tuple[Any, int | None]]) -> None:
        super().__init__(field)
        self.patient_of = patient_of

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        # An unsaved row (a form being filled in) is not yet anyone's record.
        if value and _current.get() is not None and not instance._state.adding:
            patient_id, program_id = self.patient_of(instance)
            note_shown(patient_id, program_id)
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


def identifying(*names: str, patient: str = "patient_id") -> Callable[[M], M]:
    """Class decorator: ``names`` identify the patient given by attribute ``patient``.

    ``patient="pk"`` on the patient model itself; ``"patient_id"`` (the default) on a model with
    a ``patient`` foreign key. The model needs a ``program_id``.
    """

    def decorate(model: M) -> M:
        def patient_of(instance: Any) -> tuple[Any, int | None]:
            return getattr(instance, patient), getattr(instance, "program_id", None)

        for name in names:
            model_field = model._meta.get_field(name)
            assert isinstance(model_field, models.Field), name
            setattr(model, model_field.attname, _IdentifyingAttribute(model_field, patient_of))
        IDENTIFYING_FIELDS[model._meta.label_lower] = tuple(names)
        return model

    return decorate


# Responses that show nothing: a redirect, a refusal, an error page.
_SILENT = frozenset({304, 403, 404, 405})


class PatientDataAuditMiddleware:
    """Collect the patients whose identifiers a request read; audit them as the response leaves."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        exposure = _Exposure()
        token = _current.set(exposure)
        try:
            response = self.get_response(request)
            if getattr(response, "streaming", False):
                # Nothing streams patient data today; if something does, it must audit itself.
                return response
            status = response.status_code
            unaudited = {
                pid: program
                for pid, program in exposure.shown.items()
                if pid not in exposure.audited
            }
            if unaudited and 200 <= status < 500 and not 300 <= status < 400:
                if status not in _SILENT:
                    from trellis.audit.services import record_shown

                    record_shown(request, unaudited)
            return response
        finally:
            _current.reset(token)
