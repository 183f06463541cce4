from django.urls import path

from trellis.network import views

app_name = "network"

urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("bundles/", views.bundles, name="bundles"),
    path("brief/", views.brief, name="brief"),
]
