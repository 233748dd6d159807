from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "wholecare.access"
    verbose_name = "Access control and audit"
