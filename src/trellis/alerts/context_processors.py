from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from trellis.alerts.services import banner_alerts


def alerts(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"urgent_alerts": []}
    return {"urgent_alerts": banner_alerts(user, getattr(request, "program", None))}
