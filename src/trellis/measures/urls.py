from django.urls import path

from trellis.measures import views

app_name = "measures"

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.patient_measures, name="patient"),
    path("patients/<uuid:patient_id>/total/", views.enter_total, name="enter_total"),
    path("patients/<uuid:patient_id>/items/", views.enter_items, name="enter_items"),
    path("patients/<uuid:patient_id>/cssrs/", views.administer_cssrs, name="cssrs"),
    path("patients/<uuid:patient_id>/send-link/", views.send_link, name="send_link"),
    path(
        "c/<str:token>/<slug:instrument>/<slug:timepoint>/",
        views.questionnaire,
        name="questionnaire",
    ),
    path(
        "c/<str:token>/<slug:instrument>/<slug:timepoint>/thanks/",
        views.thanks,
        name="thanks",
    ),
]
