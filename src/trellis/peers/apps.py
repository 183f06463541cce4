from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeersConfig(AppConfig):
    name = "trellis.peers"
    label = "peers"

    def ready(self) -> None:
        from trellis.checkin.services import CHECKIN_SECTIONS
        from trellis.patients.chart import CHART_PANELS
        from trellis.peers import (
            demo,  # noqa: F401  (registers the demo seeder)
            queues,  # noqa: F401  (registers the home-page work queue)
        )
        from trellis.peers.panels import chart_panel, checkin_section
        from trellis.peers.services import CIRCLE_ROLES, COORDINATOR_ROLES
        from trellis.web.nav import nav_item

        nav_item(_("Peer circles"), "peers:index", CIRCLE_ROLES, order=30)
        nav_item(_("Peer mentors"), "peers:mentors", COORDINATOR_ROLES, order=31)
        if chart_panel not in CHART_PANELS:
            CHART_PANELS.append(chart_panel)
        if checkin_section not in CHECKIN_SECTIONS:
            CHECKIN_SECTIONS.append(checkin_section)
