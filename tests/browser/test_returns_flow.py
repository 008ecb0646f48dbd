"""附件3 in the grid and a work plan under review, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from reporting import services
from reporting.demo import demo_pdf
from reporting.models import Filing, FilingStatus, Form
from tests.worlds import REGIONS, plan_values

pytestmark = pytest.mark.browser


def test_filer_pastes_a_plan_fixes_the_quarters_warning_in_the_grid_and_the_signer_submits(
    as_user, campaign, master
):
    url = f"/reporting/institutions/{master['A'].pk}/periods/{campaign[Form.PLAN].pk}/"
    filer = as_user("filer_a")
    filer.goto(url)

    # Paste the first two regions' rows as a block copied from Excel (tab-separated, one line per row).
    block = "\n".join("\t".join(["10", "12", "3", "0.6", "0.8", "0.8", "0.8"]) for _ in range(2))
    filer.locator(f"#f-{REGIONS[0]}\\.balance_y2").evaluate(
        """(el, text) => { const dt = new DataTransfer(); dt.setData('text', text);
             el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})); }""",
        block,
    )
    expect(filer.locator(f"#f-{REGIONS[1]}\\.q4_plan")).to_have_value("0.8")
    # The rest of the regions, with Wuhan's fourth quarter off by one.
    values = plan_values(**{f"{REGIONS[0]}.q4_plan": "1.8"})
    filer.evaluate(
        """values => { for (const [code, v] of Object.entries(values)) {
             const el = document.getElementById('f-' + code); el.value = v; }
           document.getElementById('grid').dispatchEvent(new Event('input')); }""",
        values,
    )
    expect(filer.locator('tr[data-row="420000"] [data-total="balance_y1"]')).to_have_text("204")
    expect(filer.locator('tr[data-row="420100"] [data-computed="growth_y1"]')).to_have_text("20.0%")
    filer.locator("#save").click()
    expect(filer.locator("#findings")).to_contain_text("W407")
    expect(filer.locator(f"#f-{REGIONS[0]}\\.planned_increase").locator("xpath=..")).to_have_class(
        re.compile(r"\bflag-warning\b")
    )

    # Fix the cell in the grid: the province row follows as the filer types.
    cell = filer.locator(f"#f-{REGIONS[0]}\\.q4_plan")
    cell.fill("0.8")
    expect(filer.locator('tr[data-row="420000"] [data-total="q4_plan"]')).to_have_text("13.6")
    filer.locator("#save").click()
    expect(filer.locator("#findings")).to_contain_text("预警 0")

    signer = as_user("signer_a")
    signer.goto(url)
    signer.locator('#submit input[name="confirm"]').check()
    signer.locator("#submit-btn").click()
    expect(signer.locator(".messages")).to_contain_text("回执编号 XWJH2022-ICBC-02")
    assert Filing.objects.get(period=campaign[Form.PLAN]).status == FilingStatus.SUBMITTED


def test_officer_returns_a_work_plan_with_a_reason_and_the_filer_sees_it(as_user, campaign, master, users):
    version = services.save_document(
        institution=master["A"],
        period=campaign[Form.WORK_PLAN],
        actor=users["filer_a"],
        data=demo_pdf("ICBC work plan"),
        filename="工作方案.pdf",
    )
    services.submit(filing=version.filing, actor=users["signer_a"], confirm=True)
    url = f"/reporting/institutions/{master['A'].pk}/periods/{campaign[Form.WORK_PLAN].pk}/"

    officer = as_user("officer_in")
    officer.goto(url)
    expect(officer.locator("#document")).to_contain_text("工作方案.pdf")
    officer.locator("#reason").fill("工作方案缺少分支机构授权清单，请补充后重新上传。")
    officer.locator("#return").click()
    expect(officer.locator(".messages")).to_contain_text("已退回")

    filer = as_user("filer_a")
    filer.goto(url)
    expect(filer.locator("#return-reason")).to_contain_text("缺少分支机构授权清单")
    expect(filer.locator("#document-upload")).to_be_visible()
    assert Filing.objects.get(pk=version.filing_id).status == FilingStatus.RETURNED
