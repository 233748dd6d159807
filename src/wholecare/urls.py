from django.urls import include, path

urlpatterns = [
    path("fhir/", include("wholecare.fhir.urls")),
    path("oauth/", include("wholecare.fhir.oauth_urls")),
    path("results/", include("wholecare.fhir.unfiled_urls")),
    path("talking-therapies/", include("wholecare.talking_therapies.urls")),
    path("", include("wholecare.web.urls")),
]

handler403 = "wholecare.web.views.forbidden"
handler404 = "wholecare.web.views.not_found"
handler500 = "wholecare.web.views.server_error"
