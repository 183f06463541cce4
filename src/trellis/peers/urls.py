from django.urls import path

from trellis.peers import views

app_name = "peers"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("matching/", views.matching, name="matching"),
    path("mentors/", views.mentors, name="mentors"),
    path(
        "patients/<uuid:patient_id>/preferences/",
        views.preferences,
        name="preferences",
    ),
    path("<int:circle_id>/", views.circle, name="circle"),
    path("c/<str:token>/preferences/", views.patient_preferences, name="patient_preferences"),
    path("<int:circle_id>/leave/", views.leave, name="leave"),
    path(
        "<int:circle_id>/meetings/<int:meeting_id>/attendance/",
        views.attendance,
        name="attendance",
    ),
]
