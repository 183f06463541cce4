from django.urls import path, re_path

from trellis.fhir import pages, views

app_name = "fhir"

urlpatterns = [
    path("chart/<uuid:patient_id>/record/", pages.download_record, name="download_record"),
    path("c/<str:token>/record/", pages.summary, name="summary"),
    path("clients/", pages.clients, name="clients"),
    path("metadata", views.metadata, name="metadata"),
    path(".well-known/smart-configuration", views.smart_configuration, name="smart_configuration"),
    path("token", views.token, name="token"),
    path("$export", views.export_system, name="export"),
    path("Patient/$export", views.export_patients, name="export_patients"),
    path("Group/<str:group_id>/$export", views.export_group, name="export_group"),
    path("bulk-status/<str:job_id>", views.export_status, name="export_status"),
    path("bulk-files/<str:job_id>/<str:file_id>", views.export_file, name="export_file"),
    re_path(r"^(?P<rtype>[A-Z][A-Za-z]+)$", views.type_endpoint, name="type"),
    re_path(
        r"^(?P<rtype>[A-Z][A-Za-z]+)/(?P<rid>[A-Za-z0-9\-.]{1,64})$",
        views.instance,
        name="instance",
    ),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
