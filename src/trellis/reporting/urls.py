from django.urls import path

from trellis.reporting import views

app_name = "reporting"

urlpatterns = [
    path("cms159/", views.cms159, name="cms159"),
    path("cms159/<int:year>/patients.csv", views.cms159_csv, name="cms159_csv"),
    path("uds/", views.uds, name="uds"),
    path("uds/<int:year>.csv", views.uds_csv, name="uds_csv"),
    path("patients/<uuid:patient_id>/diagnoses/", views.add_diagnosis, name="add_diagnosis"),
    path("patients/<uuid:patient_id>/status/", views.add_status, name="add_status"),
]
