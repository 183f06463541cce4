from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "trellis.network"
    label = "network"

    def ready(self) -> None:
        from trellis.network import demo  # noqa: F401  (registers the demo seeder)
        from trellis.network.services import NETWORK_ROLES
        from trellis.web.nav import nav_item

        nav_item(_("Network"), "network:index", NETWORK_ROLES, order=75)
