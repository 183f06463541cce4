from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuidesConfig(AppConfig):
    name = "trellis.guides"
    label = "guides"
    verbose_name = _("Preparation guides")

    def ready(self) -> None:
        from trellis.core.guides import list_guides

        # The packaged guides are validated at start-up: a broken file stops the app here,
        # naming file, field and problem, instead of failing a patient's page later.
        list_guides()
        from trellis.care.services import (
            FIRST_DOSE_FACT_BATCH_PROVIDERS,
            FIRST_DOSE_FACT_PROVIDERS,
        )
        from trellis.checkin.services import CHECKIN_SECTIONS
        from trellis.guides import (
            demo,  # noqa: F401  (registers the demo seeder)
            panels,
            services,
        )
        from trellis.integration.services import PREPARATION_PANELS
        from trellis.patients.chart import CHART_PANELS
        from trellis.web.nav import nav_item

        nav_item(_("Preparation guides"), "guides:library", services.LIBRARY_ROLES, order=62)
        registries: list[tuple[list[Any], Any]] = [
            (CHART_PANELS, panels.chart_panel),
            (CHECKIN_SECTIONS, panels.checkin_section),
            (PREPARATION_PANELS, panels.preparation_panel),
        ]
        for registry, hook in registries:
            if hook not in registry:
                registry.append(hook)
        if services.first_dose_fact not in FIRST_DOSE_FACT_PROVIDERS:
            FIRST_DOSE_FACT_PROVIDERS.append(services.first_dose_fact)
        FIRST_DOSE_FACT_BATCH_PROVIDERS[services.first_dose_fact] = (
            services.first_dose_facts_of_many
        )
