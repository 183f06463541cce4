from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "trellis.access"
    label = "access"
