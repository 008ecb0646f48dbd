"""/api/v1/ — every app's API routes, under one prefix."""

from django.urls import include, path

from institutions import api as institution_api

urlpatterns = [
    path("me/", institution_api.MeView.as_view(), name="api-me"),
    path("institutions/", institution_api.InstitutionList.as_view(), name="api-institutions"),
    path("", include("reporting.api_urls")),
    path("", include("evaluation.api_urls")),
    path("", include("indicators.api_urls")),
]
