from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "trellis.access"
    label = "access"

    def ready(self) -> None:
        from trellis.access import demo  # noqa: F401  (registers the demo seeder)
        from trellis.access.chart import access_panel
        from trellis.access.services import EQUITY_ROLES, SCHEDULE_ROLES
        from trellis.patients.chart import CHART_PANELS
        from trellis.web.nav import nav_item

        if access_panel not in CHART_PANELS:
            CHART_PANELS.append(access_panel)
        from trellis.access.services import prior_auth_board_note, prior_auth_board_notes
        from trellis.care.services import BOARD_NOTE_BATCH_PROVIDERS, BOARD_NOTE_PROVIDERS

        if prior_auth_board_note not in BOARD_NOTE_PROVIDERS:
            BOARD_NOTE_PROVIDERS.append(prior_auth_board_note)
        BOARD_NOTE_BATCH_PROVIDERS[prior_auth_board_note] = prior_auth_board_notes
        nav_item(_("Equity"), "access:equity", EQUITY_ROLES, order=70)
        nav_item(_("Sliding fees"), "access:schedule", SCHEDULE_ROLES, order=71)
        nav_item(_("Prices"), "access:prices", SCHEDULE_ROLES, order=72)
