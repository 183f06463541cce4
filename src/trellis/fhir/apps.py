from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "trellis.fhir"
    label = "fhir"
    verbose_name = "FHIR API"

    def ready(self) -> None:
        from trellis.fhir import demo  # noqa: F401  (registers the demo seeder)
