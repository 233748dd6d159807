from django.apps import AppConfig


class TalkingTherapiesConfig(AppConfig):
    name = "wholecare.talking_therapies"
    verbose_name = "NHS Talking Therapies (long-term conditions pathway)"
