from django.urls import path

from trellis.care import views

app_name = "care"

urlpatterns = [
    path("board/", views.board, name="board"),
    path("patients/<uuid:patient_id>/start/", views.start_course, name="start"),
    path("episodes/<uuid:episode_id>/", views.episode_page, name="episode"),
    path("episodes/<uuid:episode_id>/screening/", views.screening, name="screening"),
    path("episodes/<uuid:episode_id>/review/", views.approve_review, name="approve_review"),
    path(
        "episodes/<uuid:episode_id>/requirements/",
        views.document_requirement,
        name="document_requirement",
    ),
    path("episodes/<uuid:episode_id>/events/", views.record_event, name="record_event"),
    path("episodes/<uuid:episode_id>/withdraw/", views.withdraw, name="withdraw"),
    path("episodes/<uuid:episode_id>/boosters/", views.complete_booster, name="complete_booster"),
    path("protocols/", views.library, name="library"),
    path("protocols/<slug:protocol_id>/enabled/", views.toggle_protocol, name="toggle_protocol"),
    path("protocols/<slug:protocol_id>/copy/", views.copy_protocol, name="copy_protocol"),
    path("protocols/<slug:protocol_id>/edit/", views.edit_protocol, name="edit_protocol"),
]
