from django.urls import path

from trellis.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("patients/<uuid:patient_id>/", views.thread, name="thread"),
    path("patients/<uuid:patient_id>/assign/", views.assign, name="assign"),
    # The patient's page, from their check-in link.
    path("c/<str:token>/", views.patient_messages, name="patient"),
]
