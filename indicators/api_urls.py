"""Routes of the indicators API, mounted under /api/v1/ by portal.api_urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("indicators/", api.IndicatorList.as_view(), name="api-indicators"),
    path("indicators/values/", api.ValueList.as_view(), name="api-indicator-values"),
]
