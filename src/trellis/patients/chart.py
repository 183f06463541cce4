"""Panels of the patient chart, contributed by each domain app.

An app adds a panel by appending a callable to ``CHART_PANELS`` in its ``AppConfig.ready``. The
callable gets the request and the (already access-checked) patient and returns a panel dict
``{"title", "template", "context"}`` or ``None``; it must read its own data through its own
services, which check roles and write the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from trellis.patients.models import Patient

Panel = dict[str, Any]
CHART_PANELS: list[Callable[[HttpRequest, Patient], Panel | None]] = []


def chart_panels(request: HttpRequest, patient: Patient) -> list[Panel]:
    panels = []
    for provider in CHART_PANELS:
        panel = provider(request, patient)
        if panel is not None:
            panels.append(panel)
    return panels
