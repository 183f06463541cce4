from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "trellis.booking"
    label = "booking"
