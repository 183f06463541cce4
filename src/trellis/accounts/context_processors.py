from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from trellis.accounts.models import CLINICAL_ROLES, Role
from trellis.accounts.services import programs_of, roles_in
from trellis.web.nav import items_for


def trellis(request: HttpRequest) -> dict[str, Any]:
    """Navigation context: current program, the user's roles there, demo flag."""
    program = getattr(request, "program", None)
    user = getattr(request, "user", None)
    roles = roles_in(user, program) if user is not None else frozenset()
    return {
        "demo_mode": settings.DEMO_MODE,
        "current_program": program,
        "my_programs": programs_of(user) if user is not None else [],
        "my_roles": sorted(roles),
        "can_see_patients": bool(roles & CLINICAL_ROLES),
        "is_program_admin": Role.ADMIN in roles,
        "is_analyst": Role.ANALYST in roles,
        "is_peer_facilitator": Role.PEER_FACILITATOR in roles,
        "nav_items": items_for(roles),
    }
