from django.urls import path

from trellis.access import views

app_name = "access"

urlpatterns = [
    path("patients/<uuid:patient_id>/fee/", views.fee, name="fee"),
    path("patients/<uuid:patient_id>/coverage/", views.coverage, name="coverage"),
    path("patients/<uuid:patient_id>/cost/", views.cost, name="cost"),
    path("patients/<uuid:patient_id>/cost/print/", views.cost_print, name="cost_print"),
    path("schedule/", views.schedule, name="schedule"),
    path("prices/", views.prices, name="prices"),
    path("equity/", views.equity, name="equity"),
    path("equity.csv", views.equity_csv, name="equity_csv"),
]
