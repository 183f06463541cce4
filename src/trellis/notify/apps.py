from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "trellis.notify"
    label = "notify"

    def ready(self) -> None:
        from trellis.accounts.models import Role
        from trellis.notify import delivery, services
        from trellis.notify.jobs import periodic_job
        from trellis.web.nav import nav_item

        if delivery.enqueue_delivery not in services.AFTER_ENQUEUE:
            services.AFTER_ENQUEUE.append(delivery.enqueue_delivery)
        periodic_job("notify.deliver_due")(delivery.deliver_due)
        nav_item(_("Outbox"), "notify:outbox", [Role.ADMIN, Role.COORDINATOR], order=80)
