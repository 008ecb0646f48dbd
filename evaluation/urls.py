from django.urls import path

from . import views

app_name = "evaluation"
one = "<int:pk>/"
inst = one + "institutions/<int:institution_id>/"
urlpatterns = [
    path("", views.evaluation_list, name="list"),
    path("new/", views.create, name="create"),
    path(one, views.detail, name="detail"),
    path(one + "scheme/", views.scheme, name="scheme"),
    path(one + "fetch/", views.fetch, name="fetch"),
    path(one + "publish/", views.publish, name="publish"),
    path(one + "what-if/", views.what_if, name="what_if"),
    path(one + "what-if/new/", views.copy, name="copy"),
    path(one + "what-if/discard/", views.discard, name="discard"),
    path(one + "evidence/", views.evidence, name="evidence"),
    path(one + "evidence/<int:evidence_id>/", views.evidence_file, name="evidence_file"),
    path(one + "results.xlsx", views.results_xlsx, name="results_xlsx"),
    path(one + "results.pdf", views.results_pdf, name="results_pdf"),
    path(one + "cards/", views.cards, name="cards"),
    path(one + "jobs/<int:job_id>/", views.job, name="job"),
    path(one + "jobs/<int:job_id>/status/", views.job_status, name="job_status"),
    path(one + "jobs/<int:job_id>/download/", views.job_download, name="job_download"),
    path(inst, views.institution, name="institution"),
    path(inst + "items/<int:item_id>/score/", views.score, name="score"),
    path(inst + "override/", views.override, name="override"),
    path(inst + "card.pdf", views.card_pdf, name="card"),
]
