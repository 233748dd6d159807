from django.apps import AppConfig


class MedicinesConfig(AppConfig):
    name = "wholecare.medicines"
    verbose_name = "Medicines"
