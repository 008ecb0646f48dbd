from django.urls import path

from . import bulletin_views, campaign_views, views

app_name = "indicators"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("table/", views.table, name="table"),
    path("institutions/<int:institution_id>/", views.institution, name="institution"),
    path("explain/", views.explain, name="explain"),
    # next year's campaign: its periods (reporting) and its province targets, set up by a PBoC admin
    path("campaign/", campaign_views.campaign, name="campaign"),
    path("refresh/", views.refresh, name="refresh"),
    path("refresh/<int:run_id>/", views.refresh_run, name="refresh_run"),
    path("refresh/<int:run_id>/status/", views.refresh_status, name="refresh_status"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/<int:action_id>/follow-up/", views.follow_up, name="follow_up"),
    path("export/province.xlsx", views.export_province, name="export_province"),
    path("export/institutions.xlsx", views.export_institutions, name="export_institutions"),
    # the month's 监测通报 (004 §(十九)(二十))
    path("bulletins/", bulletin_views.bulletins, name="bulletins"),
    path("bulletins/generate/", bulletin_views.bulletin_generate, name="bulletin_generate"),
    path("bulletins/<int:pk>/", bulletin_views.bulletin, name="bulletin"),
    path("bulletins/<int:pk>/status/", bulletin_views.bulletin_status, name="bulletin_status"),
    path("bulletins/<int:pk>/save/", bulletin_views.bulletin_save, name="bulletin_save"),
    path("bulletins/<int:pk>/publish/", bulletin_views.bulletin_publish, name="bulletin_publish"),
    path("bulletins/<int:pk>/bulletin.pdf", bulletin_views.bulletin_pdf, name="bulletin_pdf"),
    path("bulletins/<int:pk>/bulletin.docx", bulletin_views.bulletin_docx, name="bulletin_docx"),
    path("bulletins/<int:pk>/supervise/", bulletin_views.bulletin_supervise, name="bulletin_supervise"),
]
