from django.apps import AppConfig


class RecordConfig(AppConfig):
    name = "wholecare.record"
    verbose_name = "Shared care record"
