"""The forms as banks really have them: 附件4 and 附件3 in the notice's own layout (tests/notice_forms.py builds
them from the notice's text), through the upload page, the API, the findings report and the bulk import."""

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEntry
from portal.errors import ServiceError
from reporting import excel, names, services
from reporting.definitions import MONITORING_2022, plan_definition
from reporting.models import Filing, FilingStatus, FilingVersion, Form, ImportJob, Period
from reporting.uploads import UploadRejected
from tests.notice_forms import MONITORING_VALUES, PLAN_REGIONS, notice_monitoring, notice_plan

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CLEAN = {code: Decimal(str(v)) for code, v in MONITORING_VALUES.items()}
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def page_upload(client, institution, period, data: bytes, name="附件4.xlsx"):
    url = reverse("reporting:upload", args=[institution.pk, period.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type=XLSX)}, follow=True)


def api_upload(user, institution, period, data: bytes, name="附件4.xlsx"):
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    file = io.BytesIO(data)
    file.name = name
    url = f"/api/v1/institutions/{institution.pk}/periods/{period.pk}/workbook/"
    return client.post(url, {"file": file}, format="multipart")


def stored() -> dict[str, Decimal]:
    return {k: None if v is None else Decimal(v) for k, v in FilingVersion.objects.get().values.items()}


def finding(rule: str) -> dict:
    return next(f for f in FilingVersion.objects.get().findings if f["rule"] == rule)


# --- 附件4 in the notice's layout ---------------------------------------------------------------------------


def test_the_notices_own_sheet_is_stored_like_the_portals_template(client_for, master, march):
    page = page_upload(client_for("filer_a"), master["A"], march, notice_monitoring()).content.decode()
    assert "已读取文件并保存第 1 版：错误 0 个" in page
    version = FilingVersion.objects.get()
    assert stored() == CLEAN and version.source == "excel" and version.findings == []


def test_values_typed_the_way_people_type_them_store_the_clean_values(client_for, master, march):
    typed = {
        "loan_balance": "３１２.４５",
        "credit_loan_balance": "58.30亿元",
        "new_loans": "96.2 ",
        "new_credit_loans": "21.50",
        "borrowers": "28,650",
        "new_borrowers": "5,230户",
        "first_loan_borrowers": "1210",
        "first_loan_amount": "12.8",
        "ftp_discount_bp": "55BP",
        "fee_relief": "1.35",
        "weighted_rate": "4.98%",
    }
    page_upload(client_for("filer_a"), master["A"], march, notice_monitoring(values=typed))
    assert stored() == CLEAN


def test_planted_errors_are_found_at_the_cells_of_the_uploaded_file(client_for, master, march, users):
    values = {**MONITORING_VALUES, "credit_loan_balance": 400, "borrowers": 28650.5}
    page = page_upload(client_for("filer_a"), master["A"], march, notice_monitoring(values=values))
    shown = page.content.decode()
    assert "[E201] Sheet1!C6" in shown and "[E104] Sheet1!F6" in shown
    assert (finding("E201")["location"], finding("E104")["location"]) == ("Sheet1!C6", "Sheet1!F6")

    report = client_for("filer_a").get(reverse("reporting:findings", args=[master["A"].pk, march.pk]))
    cells = [
        c.value for row in openpyxl.load_workbook(io.BytesIO(report.content)).active.iter_rows() for c in row
    ]
    assert "Sheet1!C6" in cells and "Sheet1!F6" in cells


def test_the_api_answers_with_the_cells_of_the_uploaded_file(master, march, users):
    values = {**MONITORING_VALUES, "credit_loan_balance": 400}
    response = api_upload(users["filer_a"], master["A"], march, notice_monitoring(values=values))
    assert response.status_code == 201, response.json()
    errors = response.json()["version"]["findings"]["errors"]
    assert [(e["rule"], e["location"]) for e in errors] == [("E201", "Sheet1!C6")]


def test_columns_in_another_order_keep_their_values_and_cells(client_for, master, march):
    order = list(reversed(list(MONITORING_VALUES)))
    values = {**MONITORING_VALUES, "credit_loan_balance": 400}
    page_upload(client_for("filer_a"), master["A"], march, notice_monitoring(values=values, order=order))
    assert stored() == {**CLEAN, "credit_loan_balance": Decimal(400)}
    assert finding("E201")["location"] == "Sheet1!K6"  # 信用余额 is the tenth column from the left now


def test_an_extra_column_is_ignored_and_named_on_the_version_and_the_page(client_for, master, march):
    data = notice_monitoring(extra=("备注", "含一笔银团贷款"))
    page = page_upload(client_for("filer_a"), master["A"], march, data).content.decode()
    assert stored() == CLEAN
    note = "M5 的“备注”列不是监测表的项目，未读取。"
    assert FilingVersion.objects.get().reading_notes == [note]
    assert f"读取说明：{note}" in page


def test_a_missing_column_is_refused_naming_it_and_where_the_reader_looked(client_for, master, march):
    data = notice_monitoring(drop=("first_loan_amount",))
    page = page_upload(client_for("filer_a"), master["A"], march, data).content.decode()
    assert "工作表“Sheet1”第 5 行找到了监测表（附件4）的 10 个表头，缺少 1 个：“首贷金额”" in page
    assert "前 30 行" in page
    assert not FilingVersion.objects.exists()
    assert AuditEntry.objects.filter(action="filing.upload_rejected").count() == 1


def test_a_renamed_sheet_is_read(client_for, master, march):
    page_upload(client_for("filer_a"), master["A"], march, notice_monitoring(sheet="工行3月"))
    assert stored() == CLEAN


def test_a_second_institutions_row_is_refused_naming_it(client_for, master, march):
    rows = [("工商银行", MONITORING_VALUES), ("兴业银行", MONITORING_VALUES)]
    page = page_upload(
        client_for("filer_a"), master["A"], march, notice_monitoring(rows=rows)
    ).content.decode()
    assert "文件中除本机构外还有其他机构的数据：第 7 行“兴业银行”" in page
    assert not FilingVersion.objects.exists()


def test_another_banks_sheet_and_another_banks_title_are_refused(client_for, master, march):
    client = client_for("filer_a")
    page = page_upload(client, master["A"], march, notice_monitoring(institution="湖北银行")).content.decode()
    assert "文件中的机构为“湖北银行”" in page
    page = page_upload(
        client, master["A"], march, notice_monitoring(title_institution="湖北银行")
    ).content.decode()
    assert "文件中的机构为“湖北银行”" in page
    assert not FilingVersion.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["中国工商银行股份有限公司湖北省分行", "工商银行湖北省分行", "中国工商银行湖北分行", "工行", "XX银行"],
)
def test_the_institutions_names_as_people_write_them_are_accepted(client_for, master, march, name):
    page_upload(client_for("filer_a"), master["A"], march, notice_monitoring(institution=name))
    assert stored() == CLEAN


def test_the_title_or_headings_month_must_be_the_periods(client_for, master, march):
    client = client_for("filer_a")
    page = page_upload(client, master["A"], march, notice_monitoring(month=2)).content.decode()
    assert "文件中的报送期为 2022年2月，当前为 2022年3月" in page
    page = page_upload(client, master["A"], march, notice_monitoring(heading_month=2)).content.decode()
    assert "文件中的报送期为 2022年2月" in page
    page = page_upload(
        client, master["A"], march, notice_monitoring(month=3, heading_month=2)
    ).content.decode()
    assert "标题中的“3月”与表头中的“2月末”不一致" in page
    assert not FilingVersion.objects.exists()
    page_upload(client, master["A"], march, notice_monitoring(month=3, heading_month=3))
    assert stored() == CLEAN


def test_a_balance_typed_in_wanyuan_is_an_error_at_its_cell_with_the_likely_figure(client_for, master, march):
    values = {**MONITORING_VALUES, "loan_balance": 3124500, "credit_loan_balance": 583000}
    page_upload(client_for("filer_a"), master["A"], march, notice_monitoring(values=values))
    e601 = finding("E601")
    assert e601["location"] == "Sheet1!B6" and "应为 312.45 亿元" in e601["message"]
    filing = Filing.objects.get()
    with pytest.raises(ServiceError):
        services.submit(filing=filing, actor=filing.current_version.created_by, confirm=True)


# --- 附件3 in the notice's layout ---------------------------------------------------------------------------


@pytest.fixture
def plan_period(users, master):
    services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    return Period.objects.get(form=Form.PLAN, year=2022)


def test_the_notices_own_plan_is_stored_with_its_regions(client_for, master, plan_period):
    data = notice_plan(cells={"C7": "1,262.50", "B6": "２０"})  # 黄石 typed with a separator, 武汉 full-width
    page = page_upload(client_for("filer_a"), master["A"], plan_period, data, "附件3.xlsx").content.decode()
    assert "已读取文件并保存第 1 版" in page
    values = stored()
    assert values["420100.balance_y2"] == Decimal(20) and values["420200.balance_y1"] == Decimal("1262.5")
    assert values["429021.q4_plan"] is not None and "420000.balance_y2" in values  # 全省 computed


def test_a_plan_error_points_at_the_cell_of_the_uploaded_file(client_for, master, plan_period):
    data = notice_plan(cells={"J8": 99})  # 十堰's fourth quarter breaks the sum
    page_upload(client_for("filer_a"), master["A"], plan_period, data, "附件3.xlsx")
    assert finding("W407")["location"] == "Sheet1!E8"


def test_a_plan_missing_a_region_is_refused_naming_it(client_for, master, plan_period):
    regions = tuple(r for r in PLAN_REGIONS if r != "潜江分行")
    page = page_upload(
        client_for("filer_a"), master["A"], plan_period, notice_plan(regions=regions), "附件3.xlsx"
    ).content.decode()
    assert "缺少 1 个地区的行：“潜江分行”" in page
    assert not FilingVersion.objects.exists()


# --- a branch's 汇总 in the notice's layout, imported in bulk --------------------------------------------------


def test_an_officers_summary_in_the_notices_layout_imports_by_name_and_title_month(
    client_for, master, march, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    rows = [
        ("中国工商银行湖北省分行", MONITORING_VALUES),
        ("湖北银行股份有限公司", MONITORING_VALUES),
        ("合计", {code: v * 2 for code, v in MONITORING_VALUES.items()}),
        ("不存在银行", MONITORING_VALUES),
    ]
    data = notice_monitoring(rows=rows, title_institution="湖北省", month=3)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for("officer_branch").post(
            reverse("reporting:bulk_import"),
            {"file": SimpleUploadedFile("汇总.xlsx", data, content_type=XLSX)},
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302, job.error
    assert job.status == "ready", job.error
    assert job.result["notes"] == ["第 8 行“合计”是合计行，未读取（合计由门户计算）。"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        client_for("officer_branch").post(reverse("reporting:job_confirm", args=[job.pk]), {"approve": "on"})
    job.refresh_from_db()
    assert (job.status, job.total, job.result.get("stored"), job.error) == ("done", 3, 2, "")
    assert "机构名称“不存在银行”" in job.result["rejected"][0]["message"]
    approved = Filing.objects.filter(status=FilingStatus.APPROVED, period=march)
    assert {f.institution.code for f in approved} == {"ICBC", "HBB"}
    version = Filing.objects.get(institution=master["B"], period=march).current_version
    assert {k: Decimal(v) for k, v in version.values.items()} == CLEAN


# --- the reader on its own ----------------------------------------------------------------------------------


def test_the_monitoring_reader_reports_every_row_and_the_header_lines():
    data = notice_monitoring(filer="王五", phone="13900000000", month=6, heading_month=6)
    upload = excel.read_monitoring_workbook(data, MONITORING_2022)
    assert (upload.sheet, upload.year, upload.month) == ("Sheet1", 2022, 6)
    assert (upload.filer, upload.phone, upload.title_institution) == ("王五", "13900000000", "工商银行")
    assert [r.row for r in upload.rows] == [6] and upload.cells["weighted_rate"] == "L6"


def test_a_sheet_without_the_forms_headings_names_the_sheets_it_searched():
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.create_sheet("数据")["A1"] = "余额"
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(UploadRejected) as exc:
        excel.read_monitoring_workbook(out.getvalue(), MONITORING_2022)
    assert exc.value.code == "U202" and "“说明”、“数据”" in exc.value.message


def test_the_plan_reader_reads_the_notices_layout_in_any_region_order():
    data = notice_plan(cells={"A6": "黄石分行", "A7": "武汉"})
    upload = excel.read_plan_workbook(data, plan_definition(2022))
    assert upload.cells["420200.balance_y2"] == "B6" and upload.cells["420100.balance_y2"] == "B7"
    assert (upload.filer, upload.phone, upload.institution_name) == ("李四", "13800000000", "工商银行")


def test_no_two_institutions_share_a_name_variant():
    with (FIXTURES / "institutions.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    seen: dict[str, str] = {}
    for row in rows:
        for variant in names.variants(row["全称"], row["简称"]):
            assert seen.setdefault(variant, row["代码"]) == row["代码"], variant
    assert names.same_institution("湖北银行股份有限公司", "湖北银行股份有限公司", "湖北银行")
    assert not names.same_institution("银行", "中国银行股份有限公司湖北省分行", "中国银行")
