"""The SMART App Launch pages: the authorization endpoint (with its consent page) and the apps a
member of staff has allowed. Web pages, so outside /fhir/ (see oauth.py)."""

from django.urls import path

from wholecare.fhir import oauth

app_name = "oauth"

urlpatterns = [
    path("authorize", oauth.authorize, name="authorize"),
    path("apps", oauth.apps, name="apps"),
]
