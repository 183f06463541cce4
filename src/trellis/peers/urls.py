from django.urls import path

from trellis.peers import views

app_name = "peers"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("matching/", views.matching, name="matching"),
    path("<int:circle_id>/", views.circle, name="circle"),
    path(
        "<int:circle_id>/meetings/<int:meeting_id>/attendance/",
        views.attendance,
        name="attendance",
    ),
]
