from typing import cast

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DosingConfig(AppConfig):
    name = "trellis.dosing"
    label = "dosing"

    def ready(self) -> None:
        from trellis.accounts.models import Role
        from trellis.care.services import (
            FIRST_DOSE_FACT_BATCH_PROVIDERS,
            FIRST_DOSE_FACT_PROVIDERS,
        )
        from trellis.dosing import (
            demo,  # noqa: F401  (registers the demo seeders)
            panels,
            queues,  # noqa: F401  (registers the home-page work queues)
        )
        from trellis.dosing.services import (
            BOARD_ROLES,
            REMS_ROLES,
            rems_fact,
            rems_facts_of_many,
        )
        from trellis.patients.chart import CHART_PANELS
        from trellis.web.home import CARD_PROVIDERS
        from trellis.web.nav import nav_item

        if rems_fact not in FIRST_DOSE_FACT_PROVIDERS:
            FIRST_DOSE_FACT_PROVIDERS.append(rems_fact)
        FIRST_DOSE_FACT_BATCH_PROVIDERS[rems_fact] = rems_facts_of_many
        if panels.dosing_panel not in CHART_PANELS:
            CHART_PANELS.append(panels.dosing_panel)
        if panels.board_card not in CARD_PROVIDERS:
            CARD_PROVIDERS.append(panels.board_card)
        if panels.rems_overdue_card not in CARD_PROVIDERS:
            CARD_PROVIDERS.append(panels.rems_overdue_card)
        nav_item(cast(str, _("Dosing board")), "dosing:board", BOARD_ROLES, order=30)
        nav_item(cast(str, _("REMS forms")), "dosing:rems_due", REMS_ROLES, order=35)
        nav_item(cast(str, _("Dosing settings")), "dosing:settings", [Role.ADMIN], order=80)
