from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "wholecare.web"
    verbose_name = "Web interface"
