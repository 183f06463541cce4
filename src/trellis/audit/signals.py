"""Sign-in, failed sign-in, lock-out and sign-out land in the audit log."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from trellis.audit.models import Action
from trellis.audit.services import record


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record(action=Action.SIGN_IN, request=request, actor=user, object_type="session")


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(action=Action.SIGN_OUT, request=request, actor=user, object_type="session")


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Never store the attempted password; the username is what an admin needs to see.
    username = str(credentials.get("username", ""))[:150]
    record(
        action=Action.SIGN_IN_FAILED,
        request=request,
        actor_username=username,
        object_type="session",
        detail={"username": username},
    )


@receiver(user_locked_out)
def on_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None = None, **kwargs: Any
) -> None:
    name = str(username or "")[:150]
    record(
        action=Action.LOCKED_OUT,
        request=request,
        actor_username=name,
        object_type="session",
        detail={"username": name},
    )
