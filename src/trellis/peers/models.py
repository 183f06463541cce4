"""Peer integration circles and peer mentors (issue 5; CLINICAL.md §7).

Matching, the connection index and mentor pairing are pure (:mod:`trellis.core.peers`); this app
keeps circles, memberships, meetings, attendance, facilitator notes and mentors.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from trellis.accounts.models import Program, Room
from trellis.accounts.scoping import ProgramScopedQuerySet as ScopedQuerySet
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

# CLINICAL.md §7 (Cheung et al. 2024): group agreements of a peer integration circle.
DEFAULT_AGREEMENT_LINES = [
    gettext_noop("What is shared in the circle stays in the circle (confidentiality)."),
    gettext_noop("We listen; we do not give advice."),
    gettext_noop("No one is pressured to share."),
    gettext_noop("No dosing or medication advice."),
]
DEFAULT_AGREEMENTS = "\n".join(DEFAULT_AGREEMENT_LINES)


class CircleQuerySet(models.QuerySet[Any]):
    """Circles of programs where the user coordinates, or that the user facilitates."""

    def visible_to(self, user: Any) -> Any:
        from trellis.accounts.services import clinical_programs

        return self.filter(
            models.Q(program__in=clinical_programs(user)) | models.Q(facilitator_id=user.pk)
        )


class Circle(models.Model):
    class Format(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        VIDEO = "video", _("Video")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(_("language"), max_length=16, default="en")
    focus_track = models.CharField(_("focus track"), max_length=64, blank=True)
    identity_focus = models.CharField(_("identity focus"), max_length=60, blank=True)
    format = models.CharField(_("format"), max_length=12, choices=Format.choices)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    video_link = models.URLField(_("video link"), blank=True)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAY_CHOICES)
    start_time = models.TimeField(_("start time"))
    length_minutes = models.PositiveSmallIntegerField(_("length (minutes)"), default=90)
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=10)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    agreements = models.TextField(_("group agreements"), default=DEFAULT_AGREEMENTS)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CircleQuerySet.as_manager()

    class Meta:
        ordering = ["program", "weekday", "start_time", "name"]

    def __str__(self) -> str:
        return self.name


class PeerPreferences(models.Model):
    """A patient's availability windows, identity opt-ins and mentor opt-in. Patient data."""

    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="+")
    # [{"weekday": 0, "start": "17:00", "end": "21:00"}, ...]
    availability = models.JSONField(default=list, blank=True)
    identity_opt_in = models.JSONField(default=list, blank=True)
    mentor_opt_in = models.BooleanField(_("would like to become a peer mentor"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"PeerPreferences {self.pk}"


class CircleMembership(models.Model):
    PATIENT_DATA = True

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        LEFT = "left", _("Left")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    circle = models.ForeignKey(Circle, on_delete=models.PROTECT, related_name="memberships")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["circle", "joined_on"]

    def __str__(self) -> str:
        return f"CircleMembership {self.pk}"


class Meeting(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="meetings")
    date = models.DateField(_("date"))

    class Meta:
        ordering = ["circle", "date"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "date"], name="peers_meeting_once_a_day")
        ]

    def __str__(self) -> str:
        return f"Meeting {self.pk}"


class Attendance(models.Model):
    PATIENT_DATA = True

    class Status(models.TextChoices):
        PRESENT = "present", _("Present")
        ABSENT = "absent", _("Absent")
        EXCUSED = "excused", _("Excused")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    membership = models.ForeignKey(
        CircleMembership, on_delete=models.PROTECT, related_name="attendance"
    )
    status = models.CharField(max_length=8, choices=Status.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "membership"], name="peers_attendance_once")
        ]

    def __str__(self) -> str:
        return f"Attendance {self.pk}"


class FacilitatorNote(models.Model):
    """A note about the group. Not patient data: it may name no member (checked on save)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    circle = models.ForeignKey(Circle, on_delete=models.CASCADE, related_name="notes")
    meeting = models.ForeignKey(
        Meeting, null=True, blank=True, on_delete=models.CASCADE, related_name="notes"
    )
    text = models.TextField(_("note about the group"))
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-written_at"]

    def __str__(self) -> str:
        return f"FacilitatorNote {self.pk}"


class MentorProfile(models.Model):
    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="+")
    opted_in = models.BooleanField(default=False)
    training_done_on = models.DateField(_("mentor training done on"), null=True, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"MentorProfile {self.pk}"


class MentorPairing(models.Model):
    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    mentor = models.ForeignKey(MentorProfile, on_delete=models.PROTECT, related_name="pairings")
    mentee = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"MentorPairing {self.pk}"


class MentorContact(models.Model):
    PATIENT_DATA = True

    class Mode(models.TextChoices):
        PHONE = "phone", _("Phone")
        VIDEO = "video", _("Video")
        IN_PERSON = "in_person", _("In person")
        MESSAGE = "message", _("Message")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    pairing = models.ForeignKey(MentorPairing, on_delete=models.PROTECT, related_name="contacts")
    date = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    minutes = models.PositiveSmallIntegerField(_("minutes"))
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"MentorContact {self.pk}"
