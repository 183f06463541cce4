from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "trellis.messaging"
    label = "messaging"
    verbose_name = _("Messages")

    def ready(self) -> None:
        from trellis.accounts.models import CLINICAL_ROLES
        from trellis.messaging import demo, hooks  # noqa: F401  (demo seeder)
        from trellis.web.nav import nav_item

        nav_item(_("Messages"), "messaging:inbox", CLINICAL_ROLES, order=22)
        hooks.register()
