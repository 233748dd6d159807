from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "wholecare.fhir"
    verbose_name = "FHIR R4 (UK Core) API"
