from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "trellis.alerts"
    label = "alerts"

    def ready(self) -> None:
        from trellis.accounts.models import CLINICAL_ROLES
        from trellis.web.nav import nav_item

        nav_item(_("Alerts"), "alerts:list", CLINICAL_ROLES, order=20)
        from trellis.alerts import queues  # noqa: F401  (registers the home-page work queue)
        from trellis.alerts.services import escalate_overdue
        from trellis.notify.jobs import periodic_job

        periodic_job("alerts.escalate_overdue")(escalate_overdue)
