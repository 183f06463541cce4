"""Episodes of care: one course per patient on one protocol track, its plan and its events.

The plan's activities come from :func:`trellis.core.pathway.plan`; the phase is derived from the
recorded events by :func:`trellis.core.pathway.phase_from_events` and cached on the episode.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet as ScopedQuerySet
from trellis.core.pathway import ACTIVITY_KINDS, EVENT_KINDS, PHASES
from trellis.patients.models import Patient


class Episode(models.Model):
    PATIENT_DATA = True

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    protocol_id = models.CharField(_("protocol track"), max_length=64)
    protocol_version = models.CharField(max_length=32)
    adaptations = models.JSONField(default=list, blank=True)
    referred_on = models.DateField(_("referred on"))
    start_date = models.DateField(_("pathway start"))
    phase = models.CharField(
        max_length=16, choices=[(p, p) for p in PHASES], default="referred", db_index=True
    )
    primary_therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-referred_on"]

    def __str__(self) -> str:
        return f"{self.protocol_id} ({self.referred_on})"

    @property
    def is_active(self) -> bool:
        return self.phase not in {"completed", "withdrawn"}


class EpisodeEvent(models.Model):
    """A recorded event (referral, screening, preparation, dose, integration, …). Append-only."""

    PATIENT_DATA = True

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="events")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=24, choices=[(k, k) for k in EVENT_KINDS])
    at = models.DateTimeField()
    index = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, blank=True)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind}{'' if self.index is None else f' {self.index}'} at {self.at:%Y-%m-%d}"


class CareActivity(models.Model):
    """One planned activity of an episode, with its window, status and who did it."""

    PATIENT_DATA = True

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        SCHEDULED = "scheduled", _("scheduled")
        DONE = "done", _("done")
        MISSED = "missed", _("missed")
        CANCELLED = "cancelled", _("cancelled")

    class Source(models.TextChoices):
        PLAN = "plan", _("protocol plan")
        BOOSTER = "booster", _("relapse-warning booster")
        MANUAL = "manual", _("added by staff")

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="activities")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=[(k, k) for k in ACTIVITY_KINDS])
    name = models.CharField(max_length=48)
    index = models.PositiveSmallIntegerField()
    earliest = models.DateField()
    target = models.DateField(db_index=True)
    latest = models.DateField()
    after = models.CharField(max_length=48, blank=True)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    instrument = models.CharField(max_length=16, blank=True)
    needs = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PLAN)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["target", "kind", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "name", "index", "source"], name="activity_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.target}"

    @property
    def key(self) -> str:
        return f"{self.name}:{self.index}"


class ScreeningRecord(models.Model):
    """The screening answers for an episode's track and the rule's outcome with its reasons."""

    PATIENT_DATA = True

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="screenings")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16)
    reasons = models.JSONField(default=list)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    review_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.CharField(max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"screening {self.outcome}"


class RequirementRecord(models.Model):
    """A pre-dose requirement documented in the chart (e.g. the mood stabiliser on the bipolar
    track, consent to touch on the trauma tracks). Safety plans, REMS enrolment and Part 2
    consent live in their own apps and records; this holds the rest."""

    PATIENT_DATA = True

    class Kind(models.TextChoices):
        MOOD_STABILISER = "mood_stabiliser_documented", _("Mood stabiliser documented")
        CONSENT_TO_TOUCH = "consent_to_touch_documented", _("Consent to touch documented")

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="requirements")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    detail = models.CharField(max_length=300)
    documented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    documented_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-documented_at"]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class ProgramProtocol(models.Model):
    """A program's protocol library entry: a packaged track switched on or off, or the
    program's adapted copy of a track (its YAML text, validated on save, with every revision
    kept in :class:`ProtocolRevision`). Tracks without a row are enabled (the default library).

    Not patient data: protocols are the program's configuration.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    protocol_id = models.CharField(_("track id"), max_length=64)
    based_on = models.CharField(_("copied from"), max_length=64, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    yaml_text = models.TextField(_("protocol (YAML)"), blank=True)
    version = models.CharField(max_length=32, blank=True)
    revision = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["protocol_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "protocol_id"], name="program_protocol_unique_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.protocol_id} ({self.program})"

    @property
    def is_copy(self) -> bool:
        return bool(self.yaml_text)


class ProtocolRevision(models.Model):
    """One saved version of an adapted copy: who saved which text when. Courses keep the
    version they started on, so a later edit never changes a running course's plan."""

    program_protocol = models.ForeignKey(
        ProgramProtocol, on_delete=models.CASCADE, related_name="revisions"
    )
    revision = models.PositiveIntegerField()
    version = models.CharField(max_length=32)
    yaml_text = models.TextField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    saved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["program_protocol", "revision"], name="protocol_revision_unique"
            ),
            models.UniqueConstraint(
                fields=["program_protocol", "version"], name="protocol_revision_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program_protocol.protocol_id} r{self.revision} ({self.version})"
