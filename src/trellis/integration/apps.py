from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "trellis.integration"
    label = "integration"

    def ready(self) -> None:
        from trellis.care.services import FIRST_DOSE_FACT_PROVIDERS
        from trellis.integration import (
            demo,  # noqa: F401  (registers the demo seeders)
            services,
        )
        from trellis.integration.web_hooks import register

        if services.first_dose_fact not in FIRST_DOSE_FACT_PROVIDERS:
            FIRST_DOSE_FACT_PROVIDERS.append(services.first_dose_fact)
        register()
