"""Booking: staff rotas, clinic hours, proposed plans and the appointments made from them.

The scheduler itself is pure (:mod:`trellis.core.scheduling`); this app turns a program's rooms,
rotas, clinic hours and waiting courses into an instance, keeps each proposed plan with its
verifier result, and writes an accepted plan back as appointments.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program, Room
from trellis.accounts.scoping import ProgramScopedQuerySet as ScopedQuerySet
from trellis.care.models import CareActivity, Episode
from trellis.patients.models import Patient

WEEKDAY_CHOICES = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
ROTA_ROLES = [
    ("prescriber", _("Prescriber")),
    ("nurse", _("Nurse")),
    ("therapist", _("Integration therapist")),
    ("peer_facilitator", _("Peer facilitator")),
]


class BookingSettings(models.Model):
    """Per-program scheduling settings. ``nurse_ratio`` is a ★ program setting (CLINICAL.md)."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="+")
    nurse_ratio = models.PositiveSmallIntegerField(_("dosing patients per nurse"), default=2)
    slot_minutes = models.PositiveSmallIntegerField(default=30)
    # How long before an appointment its reminder goes out (a program setting; 1 h – 7 days).
    reminder_hours = models.PositiveSmallIntegerField(
        _("reminder before each appointment (hours)"), default=24
    )

    def __str__(self) -> str:
        return f"{self.program} · 1:{self.nurse_ratio}"


class ClinicHours(models.Model):
    """Opening hours of one weekday; a weekday without a row is closed."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAY_CHOICES)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["program", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["program", "weekday"], name="clinic_hours_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class ClosedDate(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("closed on"))
    reason = models.CharField(_("reason"), max_length=100, blank=True)

    class Meta:
        ordering = ["program", "date"]
        constraints = [
            models.UniqueConstraint(fields=["program", "date"], name="closed_date_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}"


class StaffRota(models.Model):
    """One availability window of one staff member in one role: weekly, or on one date."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("role"), max_length=20, choices=ROTA_ROLES)
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=WEEKDAY_CHOICES, null=True, blank=True
    )
    date = models.DateField(_("date (one shift)"), null=True, blank=True)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        ordering = ["program", "user", "role", "weekday", "date", "start"]

    def __str__(self) -> str:
        when = self.date.isoformat() if self.date else self.get_weekday_display()
        return f"{self.user} · {self.role} · {when} {self.start:%H:%M}–{self.end:%H:%M}"


class PatientAvailability(models.Model):
    """A weekly window when a patient can come; none on file means whenever the clinic is open."""

    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAY_CHOICES)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["patient", "weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class PlanProposal(models.Model):
    """A solved and verified plan, kept for a person to accept (or not)."""

    PATIENT_DATA = True

    class Kind(models.TextChoices):
        PLAN = "plan", _("plan")
        REPAIR = "repair", _("repair after a cancellation")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PLAN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    start_date = models.DateField()
    days = models.PositiveSmallIntegerField()
    instance = models.JSONField()
    plan = models.JSONField()
    # instance patient id -> {"episode": uuid, "sessions": {"dose#1": activity id | null, ...}}
    mapping = models.JSONField(default=dict)
    method = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    courses_complete = models.PositiveIntegerField(default=0)
    waiting = models.PositiveIntegerField(default=0)
    verification = models.JSONField(default=dict)
    cancelled_appointment = models.ForeignKey(
        "Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.start_date} +{self.days}d ({self.method}, {self.status})"


class Appointment(models.Model):
    """One booked session of a course: a preparation, a dose or an integration session."""

    PATIENT_DATA = True

    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        CANCELLED = "cancelled", _("cancelled")
        DONE = "done", _("done")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    care_activity = models.ForeignKey(
        CareActivity, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16)
    index = models.PositiveSmallIntegerField()
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.BOOKED, db_index=True
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    source_plan = models.ForeignKey(
        PlanProposal, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.index} {self.start:%Y-%m-%d %H:%M}"
