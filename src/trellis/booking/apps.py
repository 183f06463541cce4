from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "trellis.booking"
    label = "booking"

    def ready(self) -> None:
        from trellis.booking import (
            demo,  # noqa: F401  (registers the demo seeder)
            queues,  # noqa: F401  (registers the home-page work queues)
        )
        from trellis.booking.panels import chart_panel, checkin_section
        from trellis.booking.services import VIEWER_ROLES
        from trellis.checkin.services import CHECKIN_SECTIONS
        from trellis.patients.chart import CHART_PANELS
        from trellis.web.nav import nav_item

        nav_item(_("Booking"), "booking:index", VIEWER_ROLES, order=20)
        if chart_panel not in CHART_PANELS:
            CHART_PANELS.append(chart_panel)
        if checkin_section not in CHECKIN_SECTIONS:
            CHECKIN_SECTIONS.append(checkin_section)
