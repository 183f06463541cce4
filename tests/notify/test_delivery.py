"""The outbox: real SMTP on loopback, a local fake SMS gateway, back-off, never dropped silently."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.test import override_settings
from django.urls import reverse
from tests.support import Cast, sign_in

from trellis.alerts.models import Alert
from trellis.notify import delivery
from trellis.notify.models import OutboxMessage, Status
from trellis.notify.services import enqueue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Any] = []

    def handle_message(self, message: Any) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


class Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 202

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        body["auth"] = self.headers.get("Authorization")
        Gateway.received.append(body)
        self.send_response(Gateway.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sms_gateway() -> Iterator[str]:
    Gateway.received = []
    Gateway.status = 202
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/sms"
    finally:
        server.shutdown()


def queue(cast: Cast, channel: str, to: str, **kwargs: Any) -> OutboxMessage:
    return enqueue(
        program=cast.program_a,
        channel=channel,
        to_address=to,
        body="Your care team has a short check-in for you.",
        subject="Check-in",
        purpose="checkin_reminder",
        patient=cast.patient_a,
        **kwargs,
    )


@pytest.mark.django_db
def test_email_through_a_real_smtp_server(cast: Cast, smtp_server: tuple[int, Inbox]) -> None:
    port, inbox = smtp_server
    with override_settings(
        EMAIL_TRANSPORT="smtp",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
    ):
        message = queue(cast, "email", "robin@patient.example")
        delivery.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["To"] == "robin@patient.example"
    assert "short check-in" in inbox.messages[0].get_payload()


@pytest.mark.django_db
def test_sms_through_the_webhook(cast: Cast, sms_gateway: str) -> None:
    with override_settings(
        SMS_TRANSPORT="webhook", SMS_WEBHOOK_URL=sms_gateway, SMS_WEBHOOK_TOKEN="s3cret"
    ):
        message = queue(cast, "sms", "+15555550123")
        delivery.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert Gateway.received == [
        {
            "to": "+15555550123",
            "body": message.body,
            "message_id": str(message.pk),
            "auth": "Bearer s3cret",
        }
    ]


@pytest.mark.django_db
def test_failures_back_off_then_give_up_with_an_alert(cast: Cast, sms_gateway: str) -> None:
    Gateway.status = 503
    with override_settings(SMS_TRANSPORT="webhook", SMS_WEBHOOK_URL=sms_gateway):
        message = queue(cast, "sms", "+15555550123")
        now = message.next_attempt_at
        waits = []
        for _ in range(delivery.MAX_ATTEMPTS):
            delivery.deliver(message.pk, now)
            message.refresh_from_db()
            if message.status == Status.FAILED:
                waits.append(message.next_attempt_at - now)
                # Not retried before its time.
                delivery.deliver(message.pk, message.next_attempt_at - timedelta(seconds=1))
                assert OutboxMessage.objects.get(pk=message.pk).attempts == message.attempts
                now = message.next_attempt_at
    assert [w.total_seconds() / 60 for w in waits] == [1, 2, 4, 8, 16]
    assert message.status == Status.GAVE_UP
    assert "503" in message.last_error
    alert = Alert.objects.get(kind="delivery_failed")
    assert alert.patient == cast.patient_a
    assert alert.is_open


@pytest.mark.django_db
def test_unreachable_smtp_is_a_retry_not_a_crash(cast: Cast) -> None:
    with override_settings(
        EMAIL_TRANSPORT="smtp",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=free_port(),
    ):
        message = queue(cast, "email", "robin@patient.example")
        delivery.deliver(message.pk)
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.last_error.startswith("SMTP")


@pytest.mark.django_db
def test_dedupe_key_makes_one_message(cast: Cast) -> None:
    first = queue(cast, "console", "demo", dedupe_key="reminder:1")
    again = queue(cast, "console", "demo", dedupe_key="reminder:1")
    assert first.pk == again.pk


@pytest.mark.django_db
def test_failed_sends_are_visible_to_staff_and_can_be_retried(client: Any, cast: Cast) -> None:
    message = queue(cast, "sms", "+15555550123")
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.GAVE_UP, attempts=6, last_error="SMS gateway answered 503"
    )
    sign_in(client, cast.admin_a)
    page = client.get(reverse("notify:outbox")).content.decode()
    assert "SMS gateway answered 503" in page
    response = client.post(reverse("notify:retry", args=[message.pk]))
    assert response.status_code == 302
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.FAILED
    sign_in(client, cast.nurse_a)
    assert client.get(reverse("notify:outbox")).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_database_task_backend_and_worker_deliver(cast: Cast) -> None:
    from django_tasks_db.models import DBTaskResult

    from trellis.notify import worker

    db_backend = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with override_settings(TASKS=db_backend):  # django-tasks resets its backends on change
        message = queue(cast, "console", "demo-console")
        assert OutboxMessage.objects.get(pk=message.pk).status == Status.QUEUED
        assert DBTaskResult.objects.count() == 1
        worker.drain_tasks()
        assert OutboxMessage.objects.get(pk=message.pk).status == Status.SENT
