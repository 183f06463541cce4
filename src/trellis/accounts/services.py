"""Who may do what, in which program. Every permission check in Trellis goes through here."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from trellis.accounts.models import (
    CLINICAL_ROLES,
    IDENTIFIER_ROLES,
    Membership,
    Program,
    Role,
    User,
)
from trellis.core.errors import InvalidInput, NotAllowed

AnyUser = AbstractBaseUser | AnonymousUser


def _is_staff_user(user: AnyUser) -> bool:
    return bool(user.is_authenticated) and user.is_active


def _uid(user: AnyUser) -> int:
    return int(user.pk)  # type: ignore[arg-type]  # only called for signed-in users


def roles_in(user: AnyUser, program: Program | None) -> frozenset[str]:
    """The roles ``user`` holds in ``program`` (empty for anonymous users or no program)."""
    if program is None or not _is_staff_user(user):
        return frozenset()
    cache: dict[int, frozenset[str]] = user.__dict__.setdefault("_trellis_roles", {})
    if program.pk not in cache:
        cache[program.pk] = frozenset(
            Membership.objects.filter(user_id=_uid(user), program=program).values_list(
                "role", flat=True
            )
        )
    return cache[program.pk]


def programs_of(user: AnyUser) -> QuerySet[Program]:
    """Every program in which ``user`` holds at least one role."""
    if not _is_staff_user(user):
        return Program.objects.none()
    return Program.objects.filter(memberships__user_id=_uid(user)).distinct()


def programs_with_roles(user: AnyUser, roles: Iterable[str]) -> QuerySet[Program]:
    """Programs where ``user`` holds any of ``roles``: the scope of every patient query."""
    if not _is_staff_user(user):
        return Program.objects.none()
    return Program.objects.filter(
        memberships__user_id=_uid(user), memberships__role__in=list(roles)
    ).distinct()


def clinical_programs(user: AnyUser) -> QuerySet[Program]:
    """Programs in which ``user`` may open patient charts."""
    return programs_with_roles(user, CLINICAL_ROLES)


def has_any_role(user: AnyUser, program: Program | None, roles: Iterable[str]) -> bool:
    return bool(roles_in(user, program) & set(roles))


def can_see_patients(user: AnyUser, program: Program | None) -> bool:
    return has_any_role(user, program, CLINICAL_ROLES)


def require_roles(user: AnyUser, program: Program | None, roles: Iterable[str]) -> None:
    """Raise :class:`NotAllowed` unless ``user`` holds one of ``roles`` in ``program``."""
    wanted = set(roles)
    if not has_any_role(user, program, wanted):
        names = ", ".join(sorted(wanted))
        raise NotAllowed(f"This needs one of these roles in the program: {names}.")


def needs_second_factor(user: AnyUser) -> bool:
    """TOTP is required outside demo mode for every role that sees any patient identifier.

    Decided from the role-rights table (``accounts.models.ROLE_SEES``): a peer facilitator sees
    circle members' names, so needs it too; an analyst sees only aggregates (issue 14, finding 1).
    """
    if not settings.REQUIRE_2FA or not _is_staff_user(user):
        return False
    return Membership.objects.filter(user_id=_uid(user), role__in=IDENTIFIER_ROLES).exists()


@transaction.atomic
def create_staff(
    *,
    username: str,
    password: str,
    program: Program,
    roles: Iterable[str],
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    languages: Iterable[str] = ("en",),
    if_exists: str = "add_roles",
) -> User:
    """Create a staff member with ``roles`` in ``program``.

    The password is checked by every validator in settings with the user in hand (so "too similar
    to your name or e-mail" works). For an existing username ``if_exists`` decides:
    ``"add_roles"`` (the demo's idempotent seeding) adds the roles and keeps the password,
    ``"reset_password"`` sets the new (validated) password and adds the roles, ``"fail"`` refuses
    (``trellis createstaff`` without ``--reset-password``; issue 14, finding 7).
    """
    role_list = list(roles)
    valid = {choice.value for choice in Role}
    for role in role_list:
        if role not in valid:
            raise InvalidInput(
                "role", f"unknown role {role!r}; choose from {', '.join(sorted(valid))}"
            )
    if not role_list:
        raise InvalidInput("role", "give at least one role")
    if not username.strip():
        raise InvalidInput("username", "must not be empty")
    if if_exists not in {"add_roles", "reset_password", "fail"}:
        raise ValueError(f"if_exists={if_exists!r}")
    user = User.objects.filter(username=username).first()
    if user is not None and if_exists == "fail":
        raise InvalidInput(
            "username",
            f"{username!r} already exists; give --reset-password to set a new password "
            "(and add the roles)",
        )
    if user is None:
        user = User(username=username, first_name=first_name, last_name=last_name, email=email)
        _check_password(password, user)
        user.set_password(password)
        user.save()
    elif if_exists == "reset_password":
        _check_password(password, user)
        user.set_password(password)
        user.save(update_fields=["password"])
    for role in role_list:
        Membership.objects.get_or_create(
            user=user, program=program, role=role, defaults={"languages": list(languages)}
        )
    return user


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput("password", " ".join(exc.messages)) from exc
