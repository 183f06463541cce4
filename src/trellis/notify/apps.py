from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "trellis.notify"
    label = "notify"
