"""URL map: staff UI at /, patient check-in at /c/<token>, APIs under /api/v1/ and /fhir/."""

from django.urls import include, path

urlpatterns = [
    path("", include("trellis.web.urls")),
]
