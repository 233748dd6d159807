"""The SMART App Launch authorization endpoint: a web page, so outside /fhir/ (see oauth.py)."""

from django.urls import path

from wholecare.fhir import oauth

app_name = "oauth"

urlpatterns = [path("authorize", oauth.authorize, name="authorize")]
