"""Routes of the evaluation API, mounted under /api/v1/ by portal.api_urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("evaluations/", api.EvaluationList.as_view(), name="api-evaluations"),
    path("evaluations/<int:pk>/results/", api.EvaluationResults.as_view(), name="api-evaluation-results"),
    path(
        "evaluations/<int:pk>/institutions/<int:institution_id>/scores/<slug:item_code>/",
        api.Score.as_view(),
        name="api-evaluation-score",
    ),
]
