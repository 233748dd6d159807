"""Results waiting to be filed: web pages, so outside /fhir/ (see unfiled_views.py)."""

from django.urls import path

from wholecare.fhir import unfiled_views

app_name = "results"

urlpatterns = [
    path("unfiled/", unfiled_views.waiting_list, name="waiting"),
    path("unfiled/<str:fhir_id>/file/", unfiled_views.file_result, name="file"),
]
