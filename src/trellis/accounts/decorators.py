"""The one door to every staff page: sign-in, second factor, program and role.

Each view wrapped here carries a ``trellis_access`` attribute; a test walks every URL pattern and
fails on a staff view without one, so a new page cannot forget its check.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role, needs_second_factor

View = TypeVar("View", bound=Callable[..., HttpResponse])


def staff_view(
    roles: Iterable[str] | None = CLINICAL_ROLES, *, patient_data: bool = False
) -> Callable[[View], View]:
    """Require a signed-in, second-factor-verified staff member with one of ``roles``.

    ``roles=None`` admits any signed-in staff member (e.g. the home page). For ``patient_data``
    views a missing role answers 404, never 403, so that a URL does not reveal that a patient
    exists in a program the user has no role in.
    """
    role_set = frozenset(roles) if roles is not None else None

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if needs_second_factor(user) and not user.is_verified():
                return redirect("accounts:otp")
            if role_set is not None:
                program = getattr(request, "program", None)
                if not has_any_role(user, program, role_set):
                    if patient_data:
                        raise Http404
                    raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.trellis_access = {  # type: ignore[attr-defined]
            "roles": role_set,
            "patient_data": patient_data,
        }
        return wrapped  # type: ignore[return-value]

    return decorate


def public_view(view: View) -> View:
    """Mark a view that needs no staff sign-in on purpose (login, health check, check-in link)."""
    view.trellis_access = {"public": True}  # type: ignore[attr-defined]
    return view
