"""Registered FHIR clients (SMART Backend Services), the assertion ids they used, the access
tokens issued to them and their Bulk Data export jobs.

A client belongs to one program: every token it gets is for that program only, and every query
the API makes is scoped by that program first (ARCHITECTURE.md rule 4).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet


class FhirClient(models.Model):
    """A system allowed to call the API for one program, with its public keys and scopes."""

    client_id = models.CharField(max_length=64, unique=True)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    # The client's public keys: a JWKS document, or a URL the JWKS is fetched from.
    jwks = models.JSONField(default=dict, blank=True)
    jwks_url = models.URLField(max_length=500, blank=True)
    scopes = models.CharField(max_length=1000)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def audit_name(self) -> str:
        """How the audit log names the client."""
        return f"fhir-client:{self.client_id}"


class UsedAssertion(models.Model):
    """A client assertion's ``jti``, kept until the assertion expires: never accepted twice."""

    client = models.ForeignKey(FhirClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="fhir_jti_once_per_client")
        ]

    def __str__(self) -> str:
        return f"jti {self.jti}"


class AccessToken(models.Model):
    """A bearer token (stored as its SHA-256 hash) for one client and its program."""

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(FhirClient, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    scopes = models.CharField(max_length=1000)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"token of {self.client_id} until {self.expires_at:%H:%M:%S}"


class BulkJob(models.Model):
    """A Bulk Data ``$export`` request: run by the worker, its NDJSON files kept per type."""

    PATIENT_DATA = True

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(FhirClient, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=8)  # system | patient | group
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=200, blank=True)
    transaction_time = models.DateTimeField()
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ProgramScopedQuerySet["BulkJob"].as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"


class BulkFile(models.Model):
    """One NDJSON output file of a job (one resource type)."""

    PATIENT_DATA = True

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="files")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    resource_type = models.CharField(max_length=64)
    count = models.PositiveIntegerField(default=0)
    content = models.TextField()

    objects = ProgramScopedQuerySet["BulkFile"].as_manager()

    class Meta:
        ordering = ["job", "resource_type"]

    def __str__(self) -> str:
        return f"{self.resource_type}.ndjson ({self.count})"
