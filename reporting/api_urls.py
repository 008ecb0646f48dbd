"""Routes of the reporting API, mounted under /api/v1/ by portal.api_urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("periods/", api.PeriodList.as_view(), name="api-periods"),
    path("periods/<int:period_id>/definition/", api.PeriodDefinition.as_view(), name="api-period-definition"),
    path("filings/", api.FilingList.as_view(), name="api-filings"),
    path("filings/bulk-approve/", api.BulkApprove.as_view(), name="api-filings-bulk-approve"),
    path("filings/<int:pk>/", api.FilingDetail.as_view(), name="api-filing"),
    path("filings/<int:pk>/explanations/", api.Explanations.as_view(), name="api-filing-explanations"),
    path("filings/<int:pk>/submit/", api.Submit.as_view(), name="api-filing-submit"),
    path("filings/<int:pk>/approve/", api.Approve.as_view(), name="api-filing-approve"),
    path("filings/<int:pk>/return/", api.Return.as_view(), name="api-filing-return"),
    path("filings/<int:pk>/reopen/", api.Reopen.as_view(), name="api-filing-reopen"),
    path("filings/<int:pk>/versions/", api.VersionList.as_view(), name="api-filing-versions"),
    path("filings/<int:pk>/versions/<int:number>/", api.VersionDetail.as_view(), name="api-filing-version"),
    path("filings/<int:pk>/diff/", api.VersionDiff.as_view(), name="api-filing-diff"),
    path("filings/<int:pk>/transitions/", api.TransitionList.as_view(), name="api-filing-transitions"),
    path("filings/<int:pk>/findings.xlsx", api.FindingsReport.as_view(), name="api-filing-findings-report"),
    path("filings/<int:pk>/document/", api.DocumentFile.as_view(), name="api-filing-document"),
    path(
        "institutions/<int:institution_id>/periods/<int:period_id>/values/",
        api.SaveValues.as_view(),
        name="api-filing-values",
    ),
    path(
        "institutions/<int:institution_id>/periods/<int:period_id>/check/",
        api.CheckValues.as_view(),
        name="api-filing-check",
    ),
    path(
        "institutions/<int:institution_id>/periods/<int:period_id>/workbook/",
        api.UploadWorkbook.as_view(),
        name="api-filing-workbook",
    ),
    path(
        "institutions/<int:institution_id>/periods/<int:period_id>/template/",
        api.Template.as_view(),
        name="api-filing-template",
    ),
    path(
        "institutions/<int:institution_id>/periods/<int:period_id>/document/",
        api.UploadDocument.as_view(),
        name="api-filing-document-upload",
    ),
]
