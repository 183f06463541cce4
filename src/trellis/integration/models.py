"""The integration record: one thread per course, from intention to commitments.

Patient data: every row carries its program. Queries go through ``visible_to(user)`` inside this
app's services. Two kinds of rows have narrower visibility than the care team:

- :class:`ProcessNote` (psychotherapy process notes, kept apart from the shared record as the
  HIPAA Privacy Rule treats them, 45 CFR 164.501/164.508(a)(2)): only their author;
- :class:`JournalEntry`: only the patient until the patient shares an entry with the therapist.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet as ScopedQuerySet
from trellis.care.models import Episode
from trellis.patients.models import Patient


class SafetyPlan(models.Model):
    """A patient's written safety plan (Stanley-Brown sections); one current plan per patient."""

    PATIENT_DATA = True

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="safety_plan")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    warning_signs = models.JSONField(default=list, blank=True)
    coping_strategies = models.JSONField(default=list, blank=True)
    distraction = models.JSONField(default=list, blank=True)
    help_contacts = models.JSONField(default=list, blank=True)
    professionals = models.JSONField(default=list, blank=True)
    environment = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet["SafetyPlan"].as_manager()

    def __str__(self) -> str:
        return f"safety plan ({self.updated_at:%Y-%m-%d})" if self.updated_at else "safety plan"


class Preparation(models.Model):
    """Hopes, fears and supports recorded in preparation for one course."""

    PATIENT_DATA = True

    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    hopes = models.TextField(blank=True)
    fears = models.TextField(blank=True)
    supports = models.TextField(blank=True)
    language = models.CharField(max_length=8, default="en")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet["Preparation"].as_manager()

    def __str__(self) -> str:
        return f"preparation of {self.episode_id}"


class Intention(models.Model):
    """One intention in the patient's own words and language."""

    PATIENT_DATA = True

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=500)
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet["Intention"].as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text


class ExperienceNote(models.Model):
    """After a dose: what the monitoring nurse or therapist observed."""

    PATIENT_DATA = True

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    dose_index = models.PositiveSmallIntegerField()
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    objects = ScopedQuerySet["ExperienceNote"].as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"experience note, dose {self.dose_index}"


class PatientReflection(models.Model):
    """After a dose, through a check-in link: the patient's own words on what stood out."""

    PATIENT_DATA = True

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    dose_index = models.PositiveSmallIntegerField()
    text = models.TextField()
    language = models.CharField(max_length=8, default="en")
    at = models.DateTimeField()

    objects = ScopedQuerySet["PatientReflection"].as_manager()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "dose_index"], name="reflection_per_dose")
        ]

    def __str__(self) -> str:
        return f"patient reflection, dose {self.dose_index}"


class IntegrationNote(models.Model):
    """The structured note of one integration session (the shared integration summary)."""

    PATIENT_DATA = True

    class Risk(models.TextChoices):
        NONE = "none", _("No current risk identified")
        LOW = "low", _("Some risk: safety plan reviewed")
        URGENT = "urgent", _("Risk found: urgent follow-up needed")

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    dose_index = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    intentions = models.ManyToManyField(Intention, blank=True, related_name="notes")
    insights = models.TextField()
    barriers = models.TextField(blank=True)
    supports_needed = models.TextField(blank=True)
    risk = models.CharField(max_length=8, choices=Risk.choices)
    risk_detail = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["IntegrationNote"].as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"integration note after dose {self.dose_index}"


class Commitment(models.Model):
    """A concrete action for the coming days, reviewed at the next integration session."""

    PATIENT_DATA = True

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")
        DROPPED = "dropped", _("dropped")

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey(IntegrationNote, on_delete=models.PROTECT, related_name="commitments")
    text = models.CharField(max_length=300)
    review_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet["Commitment"].as_manager()

    class Meta:
        ordering = ["review_on", "id"]

    def __str__(self) -> str:
        return self.text


class CommitmentReview(models.Model):
    """One review of a commitment at a later integration session."""

    PATIENT_DATA = True

    class Outcome(models.TextChoices):
        DONE = "done", _("done")
        PARTLY = "partly", _("partly")
        NOT_YET = "not_yet", _("not yet")
        DROPPED = "dropped", _("dropped")

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="reviews")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey(IntegrationNote, on_delete=models.PROTECT, related_name="reviews")
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    reason = models.CharField(max_length=300, blank=True)

    objects = ScopedQuerySet["CommitmentReview"].as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"review: {self.outcome}"


class ProcessNoteQuerySet(models.QuerySet["ProcessNote"]):
    def visible_to(self, user: Any) -> ProcessNoteQuerySet:
        """Only the author's own notes, in programs where the author still holds a role."""
        from trellis.accounts.services import clinical_programs

        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(author_id=user.pk, program__in=clinical_programs(user))


class ProcessNote(models.Model):
    """Psychotherapy process notes: apart from the shared record, visible only to the author."""

    PATIENT_DATA = True

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProcessNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"process note {self.pk}"


class JournalEntry(models.Model):
    """The patient's journal: private unless the patient shares an entry with the therapist."""

    PATIENT_DATA = True

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    language = models.CharField(max_length=8, default="en")
    shared = models.BooleanField(default=False)
    shared_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    objects = ScopedQuerySet["ProcessNote"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"journal entry {self.pk}"


class HrsnScreening(models.Model):
    """A health-related social needs screening (at intake or after the dose series)."""

    PATIENT_DATA = True

    class Timing(models.TextChoices):
        INTAKE = "intake", _("At intake")
        AFTER_SERIES = "after_series", _("After the dose series")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    timing = models.CharField(max_length=16, choices=Timing.choices)
    answers = models.JSONField(default=dict)
    positive_domains = models.JSONField(default=list)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet["HrsnScreening"].as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"social needs screening ({self.timing})"


class CommunityResource(models.Model):
    """An entry of the program's own directory of community resources (not patient data)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=16)
    phone = models.CharField(max_length=32, blank=True)
    address = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["domain", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="resource_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Referral(models.Model):
    """A referral to a community resource for a positive domain, followed up until closed."""

    PATIENT_DATA = True

    class Status(models.TextChoices):
        REFERRED = "referred", _("referred")
        CONNECTED = "connected", _("connected: need met")
        UNREACHED = "unreached", _("not reached yet")
        CLOSED_UNMET = "closed_unmet", _("closed: need still unmet")

    screening = models.ForeignKey(HrsnScreening, on_delete=models.PROTECT, related_name="referrals")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(CommunityResource, on_delete=models.PROTECT, related_name="+")
    domain = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REFERRED)
    follow_up_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["CommunityResource"].as_manager()

    class Meta:
        ordering = ["follow_up_on", "id"]

    def __str__(self) -> str:
        return f"referral ({self.domain}, {self.status})"
