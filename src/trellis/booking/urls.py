from django.urls import URLPattern, path

from trellis.booking import views

app_name = "booking"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("setup/", views.setup, name="setup"),
    path("setup/rota/<int:rota_id>/delete/", views.delete_rota, name="delete_rota"),
    path("plan/", views.plan, name="plan"),
    path("plans/<uuid:proposal_id>/", views.proposal, name="proposal"),
    path("plans/<uuid:proposal_id>/accept/", views.accept, name="accept"),
    path("appointments/<uuid:appointment_id>/cancel/", views.cancel, name="cancel"),
    path("patients/<uuid:patient_id>/availability/", views.availability, name="availability"),
    path(
        "c/<str:token>/availability/",
        views.patient_availability,
        name="patient_availability",
    ),
]
