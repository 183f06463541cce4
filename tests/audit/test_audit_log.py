"""The audit log: one event per view, append-only at the model and (PostgreSQL) the database."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from tests.support import Cast, sign_in

from trellis.audit.models import ACCOUNT_ACTIONS, AppendOnlyError, AuditEvent


@pytest.mark.django_db
def test_viewing_a_patient_creates_exactly_one_event(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    before = AuditEvent.objects.count()
    response = client.get(reverse("patients:chart", args=[cast.patient_a.pk]))
    assert response.status_code == 200
    events = list(AuditEvent.objects.all()[: AuditEvent.objects.count() - before])
    assert len(events) == 1
    event = events[0]
    assert event.action == "view"
    assert event.actor == cast.nurse_a
    assert event.role == "nurse"
    assert event.program == cast.program_a
    assert event.patient_id == cast.patient_a.pk
    assert event.object_type == "patients.patient"
    assert event.ip == "127.0.0.1"
    assert len(event.request_id) >= 8
    assert response["X-Request-ID"] == event.request_id


@pytest.mark.django_db
def test_denied_chart_access_is_audited(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_b)
    assert client.get(reverse("patients:chart", args=[cast.patient_a.pk])).status_code == 404
    event = AuditEvent.objects.first()
    assert event is not None
    assert event.action == "denied"
    assert event.actor == cast.coordinator_b
    assert event.object_id == str(cast.patient_a.pk)


@pytest.mark.django_db
def test_events_cannot_be_updated_or_deleted(cast: Cast) -> None:
    event = AuditEvent.objects.first()
    assert event is not None
    event.action = "delete"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="delete")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.action == "create"


@pytest.mark.django_db
def test_database_refuses_raw_update_and_delete(cast: Cast) -> None:
    # On SQLite (the default) as on PostgreSQL: triggers, not only the model (issue 14, #4).
    event = AuditEvent.objects.first()
    assert event is not None
    for sql in (
        "UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent._base_manager.filter(pk=event.pk).update(action="x")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent._base_manager.all()._raw_delete(connection.alias)
    assert AuditEvent.objects.filter(pk=event.pk, action="create").exists()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_postgres_refuses_truncate(cast: Cast) -> None:
    with connection.cursor() as cursor:
        # fire the pending foreign-key checks of the set-up first, or PostgreSQL refuses the
        # TRUNCATE for that reason instead of ours
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.exists()


@pytest.mark.django_db
def test_sign_in_and_failed_sign_in_are_recorded(client: Any, cast: Cast) -> None:
    client.post(reverse("accounts:login"), {"username": "ada", "password": "nope"})
    client.post(reverse("accounts:login"), {"username": "ada", "password": "correct horse battery"})
    actions = list(AuditEvent.objects.filter(actor_username="ada").values_list("action", flat=True))
    assert "sign_in_failed" in actions
    assert "sign_in" in actions
    failed = AuditEvent.objects.get(action="sign_in_failed")
    assert "nope" not in str(failed.detail)


@pytest.mark.django_db
def test_admin_filters_and_exports_csv(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    client.get(reverse("patients:chart", args=[cast.patient_a.pk]))
    sign_in(client, cast.admin_a)
    url = reverse("audit:log")
    page = client.get(url, {"action": "view", "actor": "nora"}).content.decode()
    assert "nora" in page
    response = client.get(url, {"action": "view", "actor": "nora", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows, "the export holds the filtered events"
    assert {row["actor"] for row in rows} == {"nora"}
    assert {row["action"] for row in rows} == {"view"}
    assert rows[0]["patient_id"] == str(cast.patient_a.pk)
    assert AuditEvent.objects.filter(action="export", actor=cast.admin_a).count() == 1


@pytest.mark.django_db
def test_admin_sees_only_own_programs_events(client: Any, cast: Cast) -> None:
    sign_in(client, cast.admin_a)
    response = client.get(reverse("audit:log"), {"export": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows
    # Account events (sign-ins) carry no program; every other row is program A's.
    assert {row["program"] for row in rows if row["action"] not in ACCOUNT_ACTIONS} == {"prog-a"}
    assert {row["actor"] for row in rows if row["action"] in ACCOUNT_ACTIONS} <= {
        "ada",
        "nora",
        "theo",
        "cole",
        "pete",
        "ann",
    }


@pytest.mark.django_db
def test_bad_filter_shows_error(client: Any, cast: Cast) -> None:
    sign_in(client, cast.admin_a)
    response = client.get(reverse("audit:log"), {"since": "2026-02-02", "until": "2026-01-01"})
    assert "must be on or after" in response.content.decode()
