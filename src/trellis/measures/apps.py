from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "trellis.measures"
    label = "measures"

    def ready(self) -> None:
        from trellis.checkin.services import CHECKIN_SECTIONS
        from trellis.measures import (
            demo,  # noqa: F401  (registers the demo seeder)
            services,  # noqa: F401  (registers the reminder job)
        )
        from trellis.measures.panels import checkin_section, measures_panel
        from trellis.patients.chart import CHART_PANELS

        if measures_panel not in CHART_PANELS:
            CHART_PANELS.append(measures_panel)
        if checkin_section not in CHECKIN_SECTIONS:
            CHECKIN_SECTIONS.append(checkin_section)
        from trellis.access.services import OUTCOME_PROVIDERS

        if services.equity_outcomes not in OUTCOME_PROVIDERS:
            OUTCOME_PROVIDERS.append(services.equity_outcomes)
