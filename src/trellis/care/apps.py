from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "trellis.care"
    label = "care"

    def ready(self) -> None:
        from trellis.care import demo  # noqa: F401  (registers the demo seeders)
