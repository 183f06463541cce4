from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "trellis.care"
    label = "care"

    def ready(self) -> None:
        from trellis.accounts.models import CLINICAL_ROLES
        from trellis.care import (
            demo,  # noqa: F401  (registers the demo seeders)
            queues,  # noqa: F401  (registers the home-page work queues)
        )
        from trellis.care.panels import chart_panel, home_card
        from trellis.care.services import PROTOCOL_EDITOR_ROLES
        from trellis.patients.chart import CHART_PANELS
        from trellis.web.home import CARD_PROVIDERS
        from trellis.web.nav import nav_item

        nav_item(_("Pathway board"), "care:board", CLINICAL_ROLES, order=15)
        nav_item(_("Protocols"), "care:library", PROTOCOL_EDITOR_ROLES, order=80)
        if chart_panel not in CHART_PANELS:
            CHART_PANELS.append(chart_panel)
        if home_card not in CARD_PROVIDERS:
            CARD_PROVIDERS.append(home_card)

        from trellis.care.services import sync_all_gap_alerts
        from trellis.notify.jobs import periodic_job

        periodic_job("care.sync_gap_alerts")(sync_all_gap_alerts)
