from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FhirConfig(AppConfig):
    name = "trellis.fhir"
    label = "fhir"
    verbose_name = "FHIR API"

    def ready(self) -> None:
        from trellis.checkin.services import CHECKIN_SECTIONS
        from trellis.fhir import demo  # noqa: F401  (registers the demo seeder)
        from trellis.fhir.pages import chart_panel, checkin_section
        from trellis.patients.chart import CHART_PANELS
        from trellis.web.nav import nav_item

        if chart_panel not in CHART_PANELS:
            CHART_PANELS.append(chart_panel)
        if checkin_section not in CHECKIN_SECTIONS:
            CHECKIN_SECTIONS.append(checkin_section)
        nav_item(_("FHIR clients"), "fhir:clients", ["admin"], order=95)
