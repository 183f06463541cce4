from django.urls import path

from trellis.integration import views

app_name = "integration"

urlpatterns = [
    path("", views.board, name="board"),
    path("resources/", views.resources, name="resources"),
    path("patients/<uuid:patient_id>/", views.thread, name="thread"),
    path("patients/<uuid:patient_id>/safety-plan/", views.safety_plan, name="safety_plan"),
    path(
        "patients/<uuid:patient_id>/safety-plan/print/",
        views.safety_plan_print,
        name="safety_plan_print",
    ),
    path("patients/<uuid:patient_id>/preparation/", views.preparation, name="preparation"),
    path("patients/<uuid:patient_id>/experience/", views.experience, name="experience"),
    path("patients/<uuid:patient_id>/notes/new/", views.new_note, name="new_note"),
    path("patients/<uuid:patient_id>/process-notes/", views.process_notes, name="process_notes"),
    path("process-notes/<int:note_id>/", views.process_note, name="process_note"),
    path("patients/<uuid:patient_id>/journal/", views.shared_journal, name="shared_journal"),
    path("patients/<uuid:patient_id>/social-needs/", views.social_needs, name="social_needs"),
    path(
        "patients/<uuid:patient_id>/social-needs/<int:screening_id>/refer/",
        views.refer,
        name="refer",
    ),
    path(
        "patients/<uuid:patient_id>/referrals/<int:referral_id>/",
        views.follow_up,
        name="follow_up",
    ),
    # The patient's own pages, through their check-in link.
    path("c/<str:token>/journal/", views.patient_journal, name="patient_journal"),
    path(
        "c/<str:token>/journal/<int:entry_id>/share/",
        views.patient_share,
        name="patient_share",
    ),
    path("c/<str:token>/safety-plan/", views.patient_safety_plan, name="patient_safety_plan"),
    path("c/<str:token>/reflection/", views.patient_reflection, name="patient_reflection"),
]
