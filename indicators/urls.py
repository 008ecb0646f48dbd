from django.urls import path

from . import views

app_name = "indicators"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("table/", views.table, name="table"),
    path("institutions/<int:institution_id>/", views.institution, name="institution"),
    path("explain/", views.explain, name="explain"),
    path("refresh/", views.refresh, name="refresh"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/<int:action_id>/follow-up/", views.follow_up, name="follow_up"),
    path("export/province.xlsx", views.export_province, name="export_province"),
    path("export/institutions.xlsx", views.export_institutions, name="export_institutions"),
]
