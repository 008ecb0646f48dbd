"""Workbooks through the web: a bank's filled template, refused files, and an officer's bulk import."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEntry
from reporting import excel
from reporting.definitions import MONITORING_2022
from reporting.models import Filing, FilingStatus, FilingVersion, ImportJob
from tests.factories import periods, sheet_values

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filled_template(client, institution, period, values: dict) -> bytes:
    url = reverse("reporting:template", args=[institution.pk, period.pk])
    book = openpyxl.load_workbook(io.BytesIO(client.get(url).content))
    sheet = book["监测表"]
    for fd in MONITORING_2022.fields:
        sheet[f"{fd.column}5"] = float(values[fd.code]) if "." in values[fd.code] else int(values[fd.code])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, institution, period, data: bytes, name="监测表.xlsx"):
    url = reverse("reporting:upload", args=[institution.pk, period.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type=XLSX)}, follow=True)


def test_template_round_trip_gives_the_same_values_back(client_for, master, march):
    client = client_for("filer_a")
    values = sheet_values(loan_balance="1234.5678", weighted_rate="4.85")
    page = upload(
        client, master["A"], march, filled_template(client, master["A"], march, values)
    ).content.decode()
    assert "已读取文件并保存第 1 版" in page
    version = FilingVersion.objects.get()
    assert {k: Decimal(v) for k, v in version.values.items()} == {k: Decimal(v) for k, v in values.items()}
    assert version.source == "excel" and len(version.upload_sha256) == 64


def test_findings_from_a_workbook_name_the_sheet_and_cell(client_for, master, march):
    client = client_for("filer_a")
    data = filled_template(client, master["A"], march, sheet_values(credit_loan_balance="150"))
    upload(client, master["A"], march, data)
    finding = FilingVersion.objects.get().findings[0]
    assert (finding["rule"], finding["location"]) == ("E201", "监测表!C5")


def test_another_institutions_template_is_refused_and_only_the_attempt_is_kept(
    client_for, master, march, users
):
    data = filled_template(client_for("filer_b"), master["B"], march, sheet_values())
    page = upload(client_for("filer_a"), master["A"], march, data).content.decode()
    assert "文件中的机构为“湖北银行”，与本次报送的机构“中国工商银行股份有限公司湖北省分行”不符" in page
    assert not FilingVersion.objects.exists()
    attempt = AuditEntry.objects.get(action="filing.upload_rejected")
    assert attempt.actor == users["filer_a"] and attempt.institution == master["A"]


def test_the_wrong_month_is_refused(client_for, master, users):
    ps = periods()
    client = client_for("filer_a")
    data = filled_template(client, master["A"], ps[(2022, 2)], sheet_values())
    page = upload(client, master["A"], ps[(2022, 3)], data).content.decode()
    assert "文件中的报送期为 2022年2月" in page
    assert not FilingVersion.objects.exists()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"%PDF-1.7\n1 0 obj<<>>endobj\n", "不是 Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ".xlsx"),
        (b"", "空"),
    ],
)
def test_files_that_are_not_our_workbook_get_a_chinese_message_never_a_500(
    client_for, master, march, payload, expected
):
    response = upload(client_for("filer_a"), master["A"], march, payload)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert not FilingVersion.objects.exists()
    assert AuditEntry.objects.filter(action="filing.upload_rejected").count() == 1


def test_bulk_import_job_stores_clean_rows_and_lists_bad_ones(client_for, master, march, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    rows = [
        {
            "institution_code": "ICBC",
            "institution_name": "工商银行",
            "year": 2022,
            "month": 3,
            "values": {k: Decimal(v) for k, v in sheet_values().items()},
        },
        {
            "institution_code": "HBB",
            "institution_name": "湖北银行",
            "year": 2022,
            "month": 3,
            "values": {k: Decimal(v) for k, v in sheet_values(credit_loan_balance="999").items()},
        },
        {
            "institution_code": "NOPE",
            "institution_name": "不存在",
            "year": 2022,
            "month": 3,
            "values": {k: Decimal(v) for k, v in sheet_values().items()},
        },
    ]
    data = excel.bulk_template(MONITORING_2022, rows)
    client = client_for("officer_branch")
    with django_on_commit():
        response = client.post(
            reverse("reporting:bulk_import"),
            {"file": SimpleUploadedFile("bulk.xlsx", data, content_type=XLSX)},
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reporting:job", args=[job.pk])
    assert job.status == "ready" and not FilingVersion.objects.exists()  # a preview first: nothing stored
    with django_on_commit():
        client.post(reverse("reporting:job_confirm", args=[job.pk]), {"approve": "on"})
    job.refresh_from_db()
    assert (job.status, job.total, job.processed, job.result["stored"]) == ("done", 3, 3, 1)
    messages = " ".join(r["message"] for r in job.result["rejected"])
    assert "NOPE" in messages and "批量导入!E" in messages  # the bad cell of HBB's row is named
    assert Filing.objects.get(institution=master["A"]).status == FilingStatus.APPROVED
    from indicators.models import RefreshRun

    assert RefreshRun.objects.filter(trigger="approval").count() == 1  # one refresh for the whole import
    status = client.get(reverse("reporting:job_status", args=[job.pk])).json()
    assert (status["percent"], status["stored"], status["rejected"]) == (100, 1, 2)


def django_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)
