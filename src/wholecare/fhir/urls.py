from django.urls import path, re_path

from wholecare.fhir import oauth, views

app_name = "fhir"

TYPE = r"(?P<type_name>[A-Z][A-Za-z]+)"
ID = r"(?P<fhir_id>[A-Za-z0-9\-\.]{1,64})"

urlpatterns = [
    path("", views.base, name="base"),
    path("metadata", views.metadata, name="metadata"),
    path(
        ".well-known/smart-configuration",
        oauth.smart_configuration,
        name="smart-configuration",
    ),
    path("token", oauth.token, name="token"),
    path("revoke", oauth.revoke, name="revoke"),
    path("$export", views.export_system, name="export"),
    path("Patient/$export", views.export_patients, name="export-patients"),
    re_path(
        r"^Group/(?P<group_id>[A-Za-z0-9\-\.]{1,64})/\$export$",
        views.export_group,
        name="export-group",
    ),
    re_path(
        r"^\$export-status/(?P<job_id>[0-9a-f\-]{1,36})$", views.export_status, name="export-status"
    ),
    re_path(
        r"^\$export-file/(?P<job_id>[0-9a-f\-]{1,36})/(?P<name>[A-Za-z]+)\.ndjson$",
        views.export_file,
        name="export-file",
    ),
    re_path(rf"^{TYPE}$", views.type_level, name="type"),
    re_path(rf"^{TYPE}/\$(?P<operation>[a-z][a-z\-]*)$", views.type_operation, name="operation"),
    re_path(rf"^{TYPE}/_search$", views.search_post, name="search"),
    re_path(rf"^{TYPE}/_history$", views.history_type, name="history-type"),
    re_path(rf"^{TYPE}/{ID}$", views.instance_level, name="instance"),
    re_path(rf"^{TYPE}/{ID}/_history$", views.history_instance, name="history-instance"),
    re_path(rf"^{TYPE}/{ID}/_history/(?P<version>[^/]+)$", views.vread, name="vread"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
