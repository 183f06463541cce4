from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "trellis.integration"
    label = "integration"

    def ready(self) -> None:
        from trellis.care.services import FIRST_DOSE_FACT_PROVIDERS
        from trellis.integration import (
            demo,  # noqa: F401  (registers the demo seeders)
            services,
        )
        from trellis.integration.web_hooks import register
        from trellis.web.nav import nav_item

        if services.first_dose_fact not in FIRST_DOSE_FACT_PROVIDERS:
            FIRST_DOSE_FACT_PROVIDERS.append(services.first_dose_fact)
        from trellis.care.services import BOARD_NOTE_PROVIDERS

        if services.transport_board_note not in BOARD_NOTE_PROVIDERS:
            BOARD_NOTE_PROVIDERS.append(services.transport_board_note)
        label: Any = _("Integration")  # lazy: translated per request
        nav_item(label, "integration:board", services.BOARD_ROLES, order=30)
        register()
