from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "trellis.integration"
    label = "integration"
