"""Dosing sessions: pre-dose check, dose, live monitoring, discharge, signed records and REMS.

Every row here is patient data (program FK, ``visible_to``) except the program-level settings
and REMS certification. Queries go through :mod:`trellis.dosing.services` only.

Signed records are immutable (issue 7): once a session carries ``signed_at`` neither it nor
its observations, adverse events or discharge can be saved again; corrections are
:class:`Amendment` rows, appended and shown beside the original value.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program, Room
from trellis.accounts.scoping import ProgramScopedQuerySet as ScopedQuerySet
from trellis.core.errors import Conflict
from trellis.core.safety.monitoring import DISSOCIATION_RATINGS
from trellis.patients.models import Patient


class SignedRecordError(Conflict):
    pass


SIGNED_MESSAGE = "This session record is signed: it cannot be edited. Add an amendment instead."


class SessionQuerySet(ScopedQuerySet["DosingSession"]):
    def update(self, **kwargs: Any) -> int:
        if self.filter(signed_at__isnull=False).exists():
            raise SignedRecordError(SIGNED_MESSAGE)
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(signed_at__isnull=False).exists():
            raise SignedRecordError(SIGNED_MESSAGE)
        return super().delete()


class ChildQuerySet(ScopedQuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        if self.filter(session__signed_at__isnull=False).exists():
            raise SignedRecordError(SIGNED_MESSAGE)
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(session__signed_at__isnull=False).exists():
            raise SignedRecordError(SIGNED_MESSAGE)
        return super().delete()


class DosingSettings(models.Model):
    """A program's dosing configuration: safety-threshold overrides (CLINICAL.md §5 ★ defaults,
    validated with ``SafetyThresholds.from_mapping``)."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="+")
    thresholds = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"dosing settings of {self.program_id}"


class RemsCertification(models.Model):
    """The program's Spravato REMS certification as an outpatient healthcare setting
    (CLINICAL.md §4). The latest row certified on or before a day governs that day; its state
    (current, expired, suspended, revoked: ``trellis.core.rems.certification_status``) says
    whether esketamine may be booked or given. A renewal is a new row."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    setting_name = models.CharField(_("setting name"), max_length=200)
    authorised_representative = models.CharField(_("authorised representative"), max_length=200)
    certified_on = models.DateField(_("certified on"))
    certification_id = models.CharField(_("REMS setting id"), max_length=64, blank=True)
    revoked_on = models.DateField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=300, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    suspended_on = models.DateField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-certified_on", "-id"]

    def __str__(self) -> str:
        return f"{self.setting_name} ({self.certified_on})"


class RemsEnrolment(models.Model):
    """A patient's enrolment in the Spravato REMS, required before the first treatment."""

    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="+")
    rems_patient_id = models.CharField(_("REMS patient id"), max_length=64)
    enrolled_on = models.DateField(_("enrolled on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"REMS {self.rems_patient_id}"


class Status(models.TextChoices):
    CHECKING = "checking", _("pre-dose check")
    DOSING = "dosing", _("dosing")
    MONITORING = "monitoring", _("monitoring")
    READY = "ready", _("ready for discharge")
    DISCHARGED = "discharged", _("discharged")
    SIGNED = "signed", _("signed")


IN_CHAIR = (Status.CHECKING, Status.DOSING, Status.MONITORING, Status.READY)


class DosingSession(models.Model):
    """One dose of an episode: the pre-dose check, the dose, monitoring and discharge."""

    PATIENT_DATA = True

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("care.Episode", on_delete=models.PROTECT, related_name="+")
    dose_index = models.PositiveSmallIntegerField()
    chair = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.CHECKING, db_index=True
    )
    drug = models.CharField(max_length=12)
    route = models.CharField(max_length=12)
    # The nurse's pre-dose record (PredoseRecord fields as JSON; times ISO 8601).
    predose = models.JSONField(default=dict, blank=True)
    predose_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_reason = models.CharField(max_length=500, blank=True)
    override_at = models.DateTimeField(null=True, blank=True)
    signoff_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signoff_at = models.DateTimeField(null=True, blank=True)
    # The dose.
    lot_number = models.CharField(max_length=64, blank=True)
    dose_mg = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    dose_basis = models.CharField(max_length=300, blank=True)
    devices = models.PositiveSmallIntegerField(null=True, blank=True)
    device_times = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    dose_event_id = models.BigIntegerField(null=True, blank=True)
    monitoring_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # End-of-monitoring clinician checks (REMS form; discharge readiness).
    sedation = models.BooleanField(null=True, blank=True)
    sedation_resolved = models.BooleanField(null=True, blank=True)
    dissociation = models.BooleanField(null=True, blank=True)
    dissociation_resolved = models.BooleanField(null=True, blank=True)
    respiratory_depression = models.BooleanField(null=True, blank=True)
    respiratory_depression_resolved = models.BooleanField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "dose_index"], name="session_unique_dose")
        ]

    def __str__(self) -> str:
        return f"{self.drug} dose {self.dose_index}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            was_signed = (
                type(self)._default_manager.filter(pk=self.pk, signed_at__isnull=False).exists()
            )
            if was_signed:
                raise SignedRecordError(SIGNED_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.signed_at is not None:
            raise SignedRecordError(SIGNED_MESSAGE)
        return super().delete(*args, **kwargs)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def in_chair(self) -> bool:
        return self.status in IN_CHAIR


class _ChildRecord(models.Model):
    """A row that belongs to a session and freezes with it once the session is signed."""

    session: Any

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self._meta.model_name} of session {self.session_id}"  # type: ignore[attr-defined]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_signed()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._refuse_if_signed()
        return super().delete(*args, **kwargs)

    def _refuse_if_signed(self) -> None:
        if DosingSession._default_manager.filter(
            pk=self.session_id,  # type: ignore[attr-defined]
            signed_at__isnull=False,
        ).exists():
            raise SignedRecordError(SIGNED_MESSAGE)


class Observation(_ChildRecord):
    """One set of monitoring values (any may be empty) and the alerts it raised."""

    PATIENT_DATA = True

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField(null=True, blank=True)
    moaas = models.PositiveSmallIntegerField(null=True, blank=True)
    dissociation = models.CharField(
        max_length=10, blank=True, choices=[(r, r) for r in DISSOCIATION_RATINGS]
    )
    cadss_total = models.PositiveSmallIntegerField(null=True, blank=True)
    alerts = models.JSONField(default=list, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["at", "recorded_at"]

    @property
    def bp(self) -> str:
        if self.systolic is None or self.diastolic is None:
            return ""
        return f"{self.systolic}/{self.diastolic}"


class AdverseEvent(_ChildRecord):
    PATIENT_DATA = True

    class Severity(models.TextChoices):
        MILD = "mild", _("mild")
        MODERATE = "moderate", _("moderate")
        SEVERE = "severe", _("severe")
        SERIOUS = "serious", _("serious (life-threatening, hospitalisation)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    description = models.CharField(_("what happened"), max_length=300)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    action_taken = models.CharField(_("action taken"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["at"]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Discharge(_ChildRecord):
    """Who released the patient to whom, with which after-care instructions, in which language."""

    PATIENT_DATA = True

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    released_at = models.DateTimeField()
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_to = models.CharField(_("released to"), max_length=200)
    instructions_given = models.BooleanField(default=False)
    language = models.CharField(max_length=8)
    readiness = models.JSONField(default=dict, blank=True)

    objects = ChildQuerySet.as_manager()


class Amendment(models.Model):
    """A correction of a signed record: appended, never replacing the original. Append-only."""

    PATIENT_DATA = True

    session = models.ForeignKey(DosingSession, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    field = models.CharField(max_length=40)
    old_value = models.TextField(blank=True)
    new_value = models.TextField()
    reason = models.CharField(max_length=500)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"amendment of {self.field}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise SignedRecordError("Amendments are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise SignedRecordError("Amendments are append-only.")


class RemsForm(models.Model):
    """The REMS Patient Monitoring Form assembled from a session (CLINICAL.md §4)."""

    PATIENT_DATA = True

    session = models.OneToOneField(DosingSession, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict)
    missing = models.JSONField(default=list, blank=True)
    session_date = models.DateField()
    due_on = models.DateField(db_index=True)
    assembled_at = models.DateTimeField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["due_on"]

    def __str__(self) -> str:
        return f"REMS form {self.session_date}"
