"""The audit log: append-only, one row per access to patient data and per sign-in.

The model refuses update and delete; the database refuses them too (SQLite and PostgreSQL
triggers, PostgreSQL TRUNCATE as well; ``audit.chain``), so not even a raw query can rewrite
history, and each row is hash-chained to the previous one, so an edit made around the database
(a file editor, a restored dump) is found by ``trellis audit verify``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.core.errors import Conflict


class Action(models.TextChoices):
    VIEW = "view", _("View")
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    SIGN_IN = "sign_in", _("Sign-in")
    SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
    SIGN_OUT = "sign_out", _("Sign-out")
    LOCKED_OUT = "locked_out", _("Locked out")
    DENIED = "denied", _("Access denied")
    NOTIFY = "notify", _("Notification")


# Events about an account rather than a program's data: stored without a program (a person may
# work in several) and shown to the admins of every program the account belongs to.
ACCOUNT_ACTIONS: frozenset[str] = frozenset(
    {Action.SIGN_IN, Action.SIGN_IN_FAILED, Action.SIGN_OUT, Action.LOCKED_OUT}
)


class AppendOnlyError(Conflict):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    # Kept as text too: the name attempted in a failed sign-in has no user row.
    actor_username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=200, blank=True)
    program = models.ForeignKey("accounts.Program", null=True, blank=True, on_delete=models.PROTECT)
    # Not a foreign key: the audit app sits below the patient app, and an audit row must
    # outlive any change to the patient tables.
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # The hash chain (audit.chain): the previous row's hash and this row's.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    row_hash = models.CharField(max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["program", "-at"], name="audit_program_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")
