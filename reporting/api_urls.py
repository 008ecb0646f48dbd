from django.urls import path

from . import api

urlpatterns = [
    path("periods/", api.PeriodList.as_view(), name="api-periods"),
]
