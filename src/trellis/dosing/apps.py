from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "trellis.dosing"
    label = "dosing"
