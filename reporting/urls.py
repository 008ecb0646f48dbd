from django.urls import path

from . import views

app_name = "reporting"
sheet = "institutions/<int:institution_id>/periods/<int:period_id>/"
urlpatterns = [
    path("", views.filing_list, name="list"),
    path("matrix/", views.matrix, name="matrix"),
    path("matrix/approve/", views.bulk_approve, name="bulk_approve"),
    path("import/", views.bulk_import, name="bulk_import"),
    path("contacts.xlsx", views.contacts_export, name="contacts_export"),
    path("import/template.xlsx", views.bulk_template_download, name="bulk_template"),
    path("import/<int:job_id>/", views.job, name="job"),
    path("import/<int:job_id>/status/", views.job_status, name="job_status"),
    path("import/<int:job_id>/confirm/", views.job_confirm, name="job_confirm"),
    path("periods/<int:period_id>/urge/", views.urge, name="urge"),
    path("reminders/", views.reminders, name="reminders"),
    path("import/<int:job_id>/preview/", views.job_preview_again, name="job_preview_again"),
    path(sheet, views.sheet, name="sheet"),
    path(sheet + "template.xlsx", views.template_download, name="template"),
    path(sheet + "upload/", views.upload, name="upload"),
    path(sheet + "submit/", views.submit, name="submit"),
    path(sheet + "approve/", views.approve, name="approve"),
    path(sheet + "return/", views.return_view, name="return"),
    path(sheet + "reopen/", views.reopen, name="reopen"),
    path(sheet + "findings.xlsx", views.findings_download, name="findings"),
    path(sheet + "history/", views.history, name="history"),
    path(sheet + "document/", views.document_upload, name="document"),
    path(sheet + "document/<int:number>/", views.document_download, name="document_file"),
]
