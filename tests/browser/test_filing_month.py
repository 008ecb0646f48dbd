"""A filing month in Chromium as the people live it: the officer's bulk import previews and asks before it
replaces a bank's draft; a returned sheet keeps its reason across the filer's correction; an explanation
survives a re-upload; the bank's home lists every return; the officer urges the late ones."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from reporting import excel, services
from reporting.definitions import MONITORING_2022
from reporting.models import Filing, FilingStatus, VersionSource
from tests.factories import periods, sheet_values

pytestmark = pytest.mark.browser


def test_bulk_import_previews_and_replaces_a_banks_draft_only_when_chosen(
    as_user, users, master, tmp_path, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the jobs run in the server's process once the request commits
    march = periods()[(2022, 3)]
    services.save_version(
        institution=master["B"],
        period=march,
        actor=users["filer_b"],
        raw=sheet_values(weighted_rate="12.35"),
        source=VersionSource.WEB,
    )
    rows = [
        {
            "institution_code": code,
            "institution_name": name,
            "year": 2022,
            "month": 3,
            "values": {k: Decimal(v) for k, v in sheet_values(weighted_rate="4.6").items()},
        }
        for code, name in (("ICBC", "工商银行"), ("HBB", "湖北银行"))
    ]
    workbook = tmp_path / "汇总.xlsx"
    workbook.write_bytes(excel.bulk_template(MONITORING_2022, rows))

    officer = as_user("pboc_admin")
    officer.goto("/reporting/import/")
    officer.locator('input[type="file"]').set_input_files(str(workbook))
    officer.locator('main button[type="submit"]').first.click()
    preview = officer.locator("#preview")
    expect(preview).to_contain_text("新报表：1")
    expect(preview).to_contain_text("将替换机构的草稿：1")
    assert Filing.objects.get(institution=master["B"], period=march).current_version.values[
        "weighted_rate"
    ] == ("12.35")  # nothing stored yet

    officer.locator('#to-decide input[name="replace"]').check()
    officer.locator("#reason").fill("湖北银行来函更正利率")
    officer.locator("#approve").check()
    officer.locator("#confirm").click()
    expect(officer.locator("#job-status")).to_have_text("已完成")
    expect(officer.locator("#job-replaced")).to_have_text("1")
    hbb = Filing.objects.get(institution=master["B"], period=march)
    assert hbb.status == FilingStatus.APPROVED and hbb.current_version.values["weighted_rate"] == "4.6"


def test_a_return_and_an_explanation_stay_put_through_the_filers_corrections(
    as_user, users, master, tmp_path
):
    march = periods()[(2022, 3)]
    services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    sheet = f"/reporting/institutions/{master['A'].pk}/periods/{march.pk}/"

    filer = as_user("filer_a")
    filer.goto(sheet)
    for code, value in sheet_values(weighted_rate="15").items():
        filer.locator(f"#f-{code}").fill(value)
    filer.locator("#f-credit_loan_balance").fill("150")  # above 余额 (100): said while typing
    expect(filer.locator('[data-part="credit_loan_balance"]')).to_be_visible()
    filer.locator("#f-credit_loan_balance").fill("20")
    expect(filer.locator('[data-part="credit_loan_balance"]')).to_be_hidden()
    filer.locator("#save").click()
    filer.locator("#explanations textarea").fill("本月发放一批创业担保贷款，利率按政策执行。")
    filer.locator("#save").click()
    services.submit(filing=Filing.objects.get(institution=master["A"]), actor=users["signer_a"], confirm=True)

    officer = as_user("officer_in")
    officer.goto(sheet)
    officer.locator("#reason").fill("户数与A3302报表不一致，请核对。")
    officer.locator("#return-form summary").click()
    officer.locator("#c-borrowers").fill("应为 9,800 户")
    officer.locator("#return").click()
    expect(officer.locator(".messages")).to_contain_text("已退回")

    # The filer corrects the 户数 offline in the template; the rate warning comes back and keeps its explanation.
    filer.goto(sheet)
    with filer.expect_download() as download:
        filer.locator("#excel a").click()
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    for fd in MONITORING_2022.fields:
        book["监测表"][f"{fd.column}5"] = float(sheet_values(weighted_rate="15", borrowers="9800")[fd.code])
    corrected = tmp_path / "corrected.xlsx"
    out = io.BytesIO()
    book.save(out)
    corrected.write_bytes(out.getvalue())
    filer.locator('#excel input[type="file"]').set_input_files(str(corrected))
    filer.locator("#upload").click()
    expect(filer.locator(".messages")).to_contain_text("已读取文件并保存第 3 版")
    expect(filer.locator("#return-reason")).to_contain_text("户数与A3302报表不一致")  # still returned
    expect(filer.locator('[data-field="borrowers"]')).to_contain_text("应为 9,800 户")
    expect(filer.locator("#explanations")).to_contain_text("沿用上一版的说明，可修改")
    expect(filer.locator("#explanations textarea")).to_have_value(
        "本月发放一批创业担保贷款，利率按政策执行。"
    )

    # Every return is on the home page, the returned one with its reason.
    filer.goto("/")
    home = filer.locator("main")
    for form in ("监测表", "投放计划表", "联系人", "工作方案", "经验做法"):
        expect(home).to_contain_text(form)
    expect(home).to_contain_text("退回原因：户数与A3302报表不一致，请核对。")

    # The officer urges the banks that have not submitted March.
    officer.goto(f"/reporting/matrix/?period={march.pk}")
    officer.locator("#urge").click()
    expect(officer.locator(".messages")).to_contain_text("家机构发出催报")
