from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "trellis.checkin"
    label = "checkin"
