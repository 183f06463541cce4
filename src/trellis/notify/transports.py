"""How a message leaves Trellis: SMTP e-mail, an SMS gateway's HTTP webhook, or the console.

Chosen by settings (``TRELLIS_EMAIL_TRANSPORT`` = smtp | console, ``TRELLIS_SMS_TRANSPORT`` =
webhook | console); the demo uses the console for both, so nothing real is ever sent from it.
"""

from __future__ import annotations

import json
import logging
import sys
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from trellis.notify.models import Channel, OutboxMessage

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The transport could not hand the message over; the outbox retries it."""


class Transport(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


class SmtpEmail:
    def send(self, message: OutboxMessage) -> None:
        try:
            connection = get_connection(fail_silently=False, timeout=15)
            sent = EmailMessage(
                subject=message.subject or "Trellis",
                body=message.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[message.to_address],
                connection=connection,
                headers={"X-Trellis-Message": str(message.pk)},
            ).send()
        except Exception as exc:  # smtplib/socket errors of every kind
            raise DeliveryError(f"SMTP: {exc}") from exc
        if sent != 1:
            raise DeliveryError("SMTP: the server did not accept the message")


class SmsWebhook:
    """POST ``{"to", "body", "message_id"}`` as JSON to the gateway; any 2xx is accepted."""

    def send(self, message: OutboxMessage) -> None:
        url = settings.SMS_WEBHOOK_URL
        if not url:
            raise DeliveryError("SMS: TRELLIS_SMS_WEBHOOK_URL is not set")
        data = json.dumps(
            {"to": message.to_address, "body": message.body, "message_id": str(message.pk)}
        ).encode("utf-8")
        request = urllib.request.Request(url, data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        if settings.SMS_WEBHOOK_TOKEN:
            request.add_header("Authorization", f"Bearer {settings.SMS_WEBHOOK_TOKEN}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"SMS gateway answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"SMS gateway unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"SMS gateway answered {status}")


class Console:
    def send(self, message: OutboxMessage) -> None:
        print(
            f"[trellis outbox] {message.channel} to {message.to_address}: "
            f"{message.subject + ' | ' if message.subject else ''}{message.body}",
            file=sys.stdout,
            flush=True,
        )


def transport_for(channel: str) -> Transport:
    if channel == Channel.EMAIL:
        return Console() if settings.EMAIL_TRANSPORT == "console" else SmtpEmail()
    if channel == Channel.SMS:
        return Console() if settings.SMS_TRANSPORT == "console" else SmsWebhook()
    return Console()
