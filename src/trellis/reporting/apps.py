from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "trellis.reporting"
    label = "reporting"
    verbose_name = _("Health-centre reporting")

    def ready(self) -> None:
        from trellis.patients.chart import CHART_PANELS
        from trellis.reporting import demo  # noqa: F401  (registers the demo seeder)
        from trellis.reporting.panels import chart_panel
        from trellis.reporting.services import REPORT_ROLES
        from trellis.web.nav import nav_item

        nav_item(_("Quality reports"), "reporting:cms159", REPORT_ROLES, order=75)
        if chart_panel not in CHART_PANELS:
            CHART_PANELS.append(chart_panel)
