from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "trellis.audit"
    label = "audit"

    def ready(self) -> None:
        from trellis.audit import signals  # noqa: F401  (connects the receivers)
