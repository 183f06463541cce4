from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "trellis.integration"
    label = "integration"

    def ready(self) -> None:
        from trellis.care.services import (
            BOARD_NOTE_BATCH_PROVIDERS,
            BOARD_NOTE_PROVIDERS,
            FIRST_DOSE_FACT_BATCH_PROVIDERS,
            FIRST_DOSE_FACT_PROVIDERS,
        )
        from trellis.integration import (
            demo,  # noqa: F401  (registers the demo seeders)
            services,
        )
        from trellis.integration.web_hooks import register
        from trellis.web.nav import nav_item

        if services.first_dose_fact not in FIRST_DOSE_FACT_PROVIDERS:
            FIRST_DOSE_FACT_PROVIDERS.append(services.first_dose_fact)
        batch = services.first_dose_facts_of_many
        FIRST_DOSE_FACT_BATCH_PROVIDERS[services.first_dose_fact] = batch
        if services.transport_board_note not in BOARD_NOTE_PROVIDERS:
            BOARD_NOTE_PROVIDERS.append(services.transport_board_note)
        BOARD_NOTE_BATCH_PROVIDERS[services.transport_board_note] = services.transport_board_notes
        label: Any = _("Integration")  # lazy: translated per request
        nav_item(label, "integration:board", services.BOARD_ROLES, order=30)
        register()
