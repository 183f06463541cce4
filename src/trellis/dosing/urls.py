from django.urls import URLPattern

app_name = "dosing"

urlpatterns: list[URLPattern] = []
