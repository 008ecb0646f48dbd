"""The whole monthly cycle in Chromium: fill the form, explain a warning, sign and submit, get returned with
a reason, upload a corrected workbook, resubmit, get approved."""

import io

import openpyxl
import pytest
from playwright.sync_api import expect

from reporting.definitions import MONITORING_2022
from reporting.models import Filing, FilingStatus, FilingVersion
from tests.factories import periods, sheet_values

pytestmark = pytest.mark.browser


def test_filer_signer_and_officer_complete_a_month(as_user, users, master, tmp_path):
    march = periods()[(2022, 3)]
    sheet = f"/reporting/institutions/{master['A'].pk}/periods/{march.pk}/"

    # The filer fills the form; an implausible rate is a warning that needs an explanation.
    filer = as_user("filer_a")
    filer.goto(sheet)
    for code, value in sheet_values(weighted_rate="15").items():
        filer.locator(f"#f-{code}").fill(value)
    expect(filer.locator('[data-ratio="credit_loan_balance/loan_balance"]')).to_have_text("20.0%")
    filer.locator("#save").click()
    expect(filer.locator("#findings")).to_contain_text("预警 1")
    expect(filer.locator("#findings")).to_contain_text("W401")
    filer.locator("#explanations textarea").fill("本月发放一批创业担保贷款，利率按政策执行。")
    filer.locator("#save").click()
    expect(filer.locator("#findings")).to_contain_text("说明：本月发放一批创业担保贷款")

    # The signer signs and submits; a receipt number comes back.
    signer = as_user("signer_a")
    signer.goto(sheet)
    signer.locator('#submit input[name="confirm"]').check()
    signer.locator("#submit-btn").click()
    expect(signer.locator(".messages")).to_contain_text("回执编号 XW202203-ICBC-02")

    # The officer returns it with a reason and a comment on one field.
    officer = as_user("officer_in")
    officer.goto(sheet)
    officer.locator("#reason").fill("户数与A3302报表不一致，请核对。")
    officer.locator("#return-form summary").click()
    officer.locator("#c-borrowers").fill("应为 9,800 户")
    officer.locator("#return").click()
    expect(officer.locator(".messages")).to_contain_text("已退回")

    # The filer sees why, downloads the template, corrects it offline and uploads it.
    filer.goto(sheet)
    expect(filer.locator("#return-reason")).to_contain_text("户数与A3302报表不一致")
    expect(filer.locator('[data-field="borrowers"]')).to_contain_text("应为 9,800 户")
    with filer.expect_download() as download:
        filer.locator("#excel a").click()
    assert download.value.suggested_filename == "工商银行2022年3月监测表.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    for fd in MONITORING_2022.fields:
        value = sheet_values(weighted_rate="4.85", borrowers="9800")[fd.code]
        book["监测表"][f"{fd.column}5"] = float(value)
    corrected = tmp_path / "corrected.xlsx"
    out = io.BytesIO()
    book.save(out)
    corrected.write_bytes(out.getvalue())
    filer.locator('#excel input[type="file"]').set_input_files(str(corrected))
    filer.locator("#upload").click()
    expect(filer.locator(".messages")).to_contain_text("已读取文件并保存第 3 版")
    expect(filer.locator("#findings")).to_contain_text("错误 0")

    signer.goto(sheet)
    signer.locator('#submit input[name="confirm"]').check()
    signer.locator("#submit-btn").click()
    expect(signer.locator(".messages")).to_contain_text("回执编号 XW202203-ICBC-03")

    officer.goto(sheet)
    officer.locator("#approve").click()
    expect(officer.locator(".messages")).to_contain_text("已审核通过")

    filing = Filing.objects.get(institution=master["A"], period=march)
    assert filing.status == FilingStatus.APPROVED
    latest = FilingVersion.objects.get(pk=filing.current_version_id)
    assert (latest.number, latest.source, latest.values["borrowers"]) == (3, "excel", "9800")
    assert list(filing.transitions.values_list("to_status", flat=True)) == [
        "submitted",
        "returned",
        "draft",
        "submitted",
        "approved",
    ]
