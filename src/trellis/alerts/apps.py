from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "trellis.alerts"
    label = "alerts"
