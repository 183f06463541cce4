"""Secure two-way messages between a patient (through the check-in link) and the care team.

One conversation per patient and program (:class:`Thread`), answered by the program's shared
inbox: any clinical staff member may answer; a thread may be assigned to one of them. Read state
is per message: a patient's message is read when a staff member opens the thread, a staff reply
when the patient opens their messages page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet
from trellis.patients.models import Patient

#: The longest message either side may send (a screen of text on a phone).
MAX_LENGTH = 2000


class Thread(models.Model):
    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    created_at = models.DateTimeField()
    last_message_at = models.DateTimeField()

    objects = ProgramScopedQuerySet["Thread"].as_manager()

    class Meta:
        ordering = ["-last_message_at"]
        constraints = [
            models.UniqueConstraint(fields=["program", "patient"], name="thread_one_per_patient")
        ]

    def __str__(self) -> str:
        return f"messages of patient {self.patient_id}"


class Message(models.Model):
    PATIENT_DATA = True

    class Sender(models.TextChoices):
        PATIENT = "patient", _("Patient")
        STAFF = "staff", _("Care team")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    sender = models.CharField(max_length=8, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField()
    # Read by the other side: for a patient's message, the first staff member who opened it.
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Suicide-risk phrases found in a patient's message (trellis.core.risk_text); an urgent alert
    # was raised for it.
    risk_phrases = models.JSONField(default=list, blank=True)

    objects = ProgramScopedQuerySet["Message"].as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["thread", "sender", "read_at"])]

    def __str__(self) -> str:
        return f"{self.sender} message {self.pk}"
