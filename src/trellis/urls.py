"""URL map: staff UI at /, patient check-in at /c/<token>, APIs under /api/v1/ and /fhir/."""

from django.urls import include, path
from django.views.i18n import set_language

from trellis.accounts.decorators import public_view

urlpatterns = [
    path("", include("trellis.web.urls")),
    path("accounts/", include("trellis.accounts.urls")),
    path("patients/", include("trellis.patients.urls")),
    path("audit/", include("trellis.audit.urls")),
    path("care/", include("trellis.care.urls")),
    path("integration/", include("trellis.integration.urls")),
    path("dosing/", include("trellis.dosing.urls")),
    path("measures/", include("trellis.measures.urls")),
    path("peers/", include("trellis.peers.urls")),
    path("access/", include("trellis.access.urls")),
    path("booking/", include("trellis.booking.urls")),
    path("guides/", include("trellis.guides.urls")),
    path("reports/", include("trellis.reporting.urls")),
    path("network/", include("trellis.network.urls")),
    path("alerts/", include("trellis.alerts.urls")),
    path("notify/", include("trellis.notify.urls")),
    path("messages/", include("trellis.messaging.urls")),
    path("c/", include("trellis.checkin.urls")),
    path("fhir/", include("trellis.fhir.urls")),
    path("i18n/setlang/", public_view(set_language), name="set_language"),
]
