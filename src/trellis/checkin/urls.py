from django.urls import URLPattern

app_name = "checkin"

urlpatterns: list[URLPattern] = []
