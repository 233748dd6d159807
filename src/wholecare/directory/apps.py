from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "wholecare.directory"
    verbose_name = "Organisations, services and staff"
