"""Where the integration record shows up elsewhere: the chart panel, the patient's check-in page
and the home page card (registered in ``IntegrationConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def register() -> None:
    pass


__all__: list[Any] = ["register", "HttpRequest"]
