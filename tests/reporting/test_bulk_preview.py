"""The officer's bulk import leaves banks' own work alone: a preview first, nothing stored until confirmed;
a bank's draft or returned sheet is replaced only by an explicit choice with a reason (audited, the bank is
told); nothing is approved on a bank's behalf unless the officer says so; a stale preview is refused."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from audit.models import AuditEntry
from institutions.models import Institution
from reporting import excel, services
from reporting.definitions import MONITORING_2022
from reporting.models import Filing, FilingStatus, FilingVersion, ImportJob, VersionSource
from tests.factories import FilingFactory, periods, sheet_values

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def month(users, master, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return periods()[(2022, 3)]


def save(institution, period, user, **values):
    return services.save_version(
        institution=institution,
        period=period,
        actor=user,
        raw=sheet_values(**values),
        source=VersionSource.WEB,
    )


@pytest.fixture
def banks(users, master, month):
    """ICBC has nothing yet; 湖北银行 a draft (rate 12.35); 兴业银行 a returned sheet; 招商银行 approved."""
    cib, cmb = Institution.objects.get(code="CIB"), Institution.objects.get(code="CMB")
    users["filer_b"].email = "filer@hbb.example"
    users["filer_b"].save()
    save(master["B"], month, users["filer_b"], weighted_rate="12.35")
    reviewer = {"officer": users["officer_branch"], "period": month}
    FilingFactory(institution=cib, status="returned", reason="利率有误", **reviewer)
    FilingFactory(institution=cmb, status="approved", **reviewer)
    return {"ICBC": master["A"], "HBB": master["B"], "CIB": cib, "CMB": cmb}


def workbook(rows: list[tuple[str, dict]]) -> bytes:
    return excel.bulk_template(
        MONITORING_2022,
        [
            {
                "institution_code": code,
                "institution_name": code,
                "year": 2022,
                "month": 3,
                "values": {k: Decimal(v) for k, v in sheet_values(**values).items()},
            }
            for code, values in rows
        ],
    )


ROWS = [
    ("ICBC", {}),
    ("HBB", {"weighted_rate": "4.6"}),
    ("CIB", {"weighted_rate": "4.6"}),
    ("CMB", {}),
    ("CCB", {"credit_loan_balance": "999"}),  # E201: not imported
]


def start(client_for, data: bytes) -> ImportJob:
    with TestCase.captureOnCommitCallbacks(execute=True):
        client_for("officer_branch").post(
            reverse("reporting:bulk_import"),
            {"file": SimpleUploadedFile("汇总.xlsx", data, content_type=XLSX)},
        )
    return ImportJob.objects.get()


def confirm(client_for, job, **form):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for("officer_branch").post(reverse("reporting:job_confirm", args=[job.pk]), form)
    job.refresh_from_db()
    return response


def test_the_preview_says_what_each_row_would_do_and_stores_nothing(client_for, banks, month):
    versions = FilingVersion.objects.count()
    job = start(client_for, workbook(ROWS))

    assert job.status == ImportJob.Status.READY and FilingVersion.objects.count() == versions
    categories = {line["code"]: line["category"] for line in job.result["preview"]}
    assert categories == {
        "ICBC": "new",
        "HBB": "replaces_draft",
        "CIB": "replaces_returned",
        "CMB": "skipped",
        "CCB": "has_errors",
    }
    page = client_for("officer_branch").get(reverse("reporting:job", args=[job.pk])).content.decode()
    assert "将替换机构的草稿：<b>1</b>" in page and "将替换机构的退回稿：<b>1</b>" in page
    assert f'name="replace" value="{banks["HBB"].pk}:{month.pk}"' in page
    assert 'name="approve" id="approve">' in page  # approving is a box the officer ticks, unticked


def test_confirming_without_choices_keeps_the_banks_own_work_and_approves_nothing(client_for, banks, month):
    job = start(client_for, workbook(ROWS))
    confirm(client_for, job)

    assert job.status == ImportJob.Status.DONE and job.result["stored"] == 1
    hbb = Filing.objects.get(institution=banks["HBB"], period=month)
    assert hbb.status == FilingStatus.DRAFT and hbb.current_version.values["weighted_rate"] == "12.35"
    assert Filing.objects.get(institution=banks["CIB"], period=month).status == FilingStatus.RETURNED
    icbc = Filing.objects.get(institution=banks["ICBC"], period=month)
    assert icbc.status == FilingStatus.DRAFT and icbc.current_version.source == VersionSource.BULK
    assert "保留机构自己的草稿" in " ".join(r["message"] for r in job.result["skipped"])
    assert not AuditEntry.objects.filter(action="filing.import_approve").exists()


def test_replacing_a_banks_sheet_needs_a_reason_is_audited_and_the_bank_is_told(client_for, banks, month):
    job = start(client_for, workbook(ROWS))
    key = f"{banks['HBB'].pk}:{month.pk}"
    response = confirm(client_for, job, replace=[key], approve="on")
    assert job.status == ImportJob.Status.READY  # refused: no reason
    assert "须填写原因" in " ".join(m.message for m in response.wsgi_request._messages)

    confirm(client_for, job, replace=[key], reason="机构来函更正利率，经电话确认", approve="on")
    assert job.status == ImportJob.Status.DONE
    hbb = Filing.objects.get(institution=banks["HBB"], period=month)
    assert hbb.status == FilingStatus.APPROVED and hbb.current_version.values["weighted_rate"] == "4.6"
    entry = AuditEntry.objects.get(action="filing.import_replace")
    assert entry.institution == banks["HBB"] and entry.changes["reason"] == "机构来函更正利率，经电话确认"
    assert AuditEntry.objects.get(action="import.confirm").changes["replace"] == [key]
    told = [m for m in mail.outbox if "已由人民银行批量导入替换" in m.subject]
    assert [m.to for m in told] == [["filer@hbb.example"]] and "经电话确认" in told[0].body
    # the returned sheet was not chosen: it stays returned
    assert Filing.objects.get(institution=banks["CIB"], period=month).status == FilingStatus.RETURNED


def test_submitted_or_approved_sheets_are_never_overwritten_even_if_named(client_for, banks, month):
    job = start(client_for, workbook(ROWS))
    cmb_key = f"{banks['CMB'].pk}:{month.pk}"
    confirm(client_for, job, replace=[cmb_key], reason="试图覆盖", approve="on")
    cmb = Filing.objects.get(institution=banks["CMB"], period=month)
    assert cmb.status == FilingStatus.APPROVED and cmb.current_version.source == VersionSource.WEB


def test_a_preview_made_before_the_bank_saved_again_is_refused_until_made_anew(
    client_for, banks, users, month
):
    job = start(client_for, workbook(ROWS))
    save(banks["HBB"], month, users["filer_b"], weighted_rate="12.30")  # the bank works on meanwhile

    response = confirm(client_for, job, approve="on")
    assert job.status == ImportJob.Status.READY
    shown = " ".join(m.message for m in response.wsgi_request._messages)
    assert "请重新生成预览" in shown and "湖北银行" in shown

    with TestCase.captureOnCommitCallbacks(execute=True):
        client_for("officer_branch").post(reverse("reporting:job_preview_again", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY
    confirm(client_for, job, approve="on")
    assert job.status == ImportJob.Status.DONE
    assert Filing.objects.get(institution=banks["HBB"], period=month).current_version.values[
        "weighted_rate"
    ] == ("12.3")
