from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "wholecare.demo"
    verbose_name = "Synthetic demonstration area"
