from django.urls import path

from trellis.dosing import views

app_name = "dosing"

S = "sessions/<uuid:session_id>/"

urlpatterns = [
    path("board/", views.board, name="board"),
    path("start/<uuid:patient_id>/", views.start, name="start"),
    path("enrol/<uuid:patient_id>/", views.enrol, name="enrol"),
    path(S, views.session_detail, name="session"),
    path(S + "predose/", views.predose, name="predose"),
    path(S + "override/", views.override, name="override"),
    path(S + "pregnancy-review/", views.pregnancy_review, name="pregnancy_review"),
    path(S + "signoff/", views.signoff, name="signoff"),
    path(S + "dose/", views.dose, name="dose"),
    path(S + "end/", views.end, name="end"),
    path(S + "device/", views.device, name="device"),
    path(S + "observations/", views.observe, name="observe"),
    path(S + "adverse-events/", views.adverse_event, name="adverse_event"),
    path(S + "adverse-events/<uuid:event_id>/close/", views.close_event, name="close_event"),
    path(S + "checks/", views.checks, name="checks"),
    path(S + "discharge/", views.discharge, name="discharge"),
    path(S + "instructions/", views.instructions, name="instructions"),
    path(S + "sign/", views.sign, name="sign"),
    path(S + "amend/", views.amend, name="amend"),
    path(S + "rems/", views.rems_form, name="rems_form"),
    path(S + "rems.csv", views.rems_csv, name="rems_csv"),
    path(S + "rems.pdf", views.rems_pdf, name="rems_pdf"),
    path(S + "rems/submit/", views.rems_submit, name="rems_submit"),
    path("rems/", views.rems_due, name="rems_due"),
    path("settings/", views.settings_page, name="settings"),
]
