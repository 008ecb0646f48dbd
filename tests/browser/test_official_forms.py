"""A filer uploads the 附件4 that came with the notice — its own layout, not the portal's template — and sees
what was read and the findings at the cells of that file."""

import pytest
from playwright.sync_api import expect

from reporting.models import FilingVersion
from tests.factories import periods
from tests.notice_forms import MONITORING_VALUES, notice_monitoring

pytestmark = pytest.mark.browser


def test_filer_uploads_the_notices_own_sheet_and_sees_findings_at_its_cells(as_user, users, master, tmp_path):
    march = periods()[(2022, 3)]
    values = {**MONITORING_VALUES, "credit_loan_balance": 400, "weighted_rate": 0.0498}
    workbook = tmp_path / "工商银行3月监测表.xlsx"
    workbook.write_bytes(notice_monitoring(values=values, extra=("备注", "含银团贷款")))

    filer = as_user("filer_a")
    filer.goto(f"/reporting/institutions/{master['A'].pk}/periods/{march.pk}/")
    filer.locator('#excel input[type="file"]').set_input_files(str(workbook))
    filer.locator("#upload").click()

    expect(filer.locator(".messages")).to_contain_text("已读取文件并保存第 1 版：错误 1 个")
    expect(filer.locator(".messages")).to_contain_text("M5 的“备注”列不是监测表的项目，未读取。")
    findings = filer.locator("#findings")
    expect(findings).to_contain_text("[E201] Sheet1!C6")
    expect(findings).to_contain_text("[W603] Sheet1!L6")
    expect(findings).to_contain_text("很可能应为 4.98%")
    expect(filer.locator("#reading-notes")).to_contain_text("“备注”列")
    expect(filer.locator("#f-loan_balance")).to_have_value("312.45")
    assert FilingVersion.objects.get().upload_name == "工商银行3月监测表.xlsx"
