"""Next year's campaign in Chromium as the PBoC admin sets it up: the preview of what banks will be asked for
(the 2023 edition of 附件4 and its two new fields, 附件3's columns labelled for the year, every period with
its dates), the province targets, one step to set it up — and 2022's returns still read as they were."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from indicators.models import Target
from reporting import services
from reporting.models import Form, Period
from tests.factories import FilingFactory, periods, sheet_values

pytestmark = pytest.mark.browser


def test_the_admin_previews_and_sets_up_2023_and_2022_stays_readable(as_user, users, master):
    march = periods((2022, 1), (2022, 12))[(2022, 3)]
    services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    # ICBC's March sheet, filed, submitted and approved by filer_a, signer_a and officer_in
    FilingFactory(institution=master["A"], period=march, values=sheet_values(loan_balance="123.45"))
    before = list(Period.objects.filter(year=2022).values_list("pk", "opens_on", "due_on").order_by("pk"))

    admin = as_user("pboc_admin")
    admin.goto("/indicators/campaign/")
    expect(admin.locator("#c-year")).to_have_value("2023")  # the year after the last one set up
    plan = admin.locator("#campaign-plan")
    expect(plan.locator("h3").first).to_have_text("专项行动进展情况监测表（附件4）2023年版")
    new_fields = admin.locator("#campaign-fields li.new")
    expect(new_fields).to_have_count(2)
    expect(new_fields.nth(0)).to_contain_text("增量 · X月末各项贷款余额（亿元）")
    expect(new_fields.nth(1)).to_contain_text("增量 · 普惠小微不良贷款核销金额（亿元）")
    columns = admin.locator("#campaign-plan-columns li")
    expect(columns.nth(0)).to_have_text("2021年末普惠小微贷款余额")
    expect(columns.nth(1)).to_have_text("2022年末普惠小微贷款余额")
    expect(columns.nth(2)).to_have_text("2023年普惠小微贷款预计新增额")
    expect(admin.locator("#campaign-plan-columns")).to_contain_text(
        "2023年末普惠小微贷款预计增速（门户计算）"
    )

    # another year's preview: 附件3's labels follow it; the edition is the 2023 one, with nothing new
    admin.locator("#c-year").fill("2024")
    admin.locator("#campaign-preview").click()
    expect(columns.nth(2)).to_have_text("2024年普惠小微贷款预计新增额")
    expect(admin.locator("#c-annual")).to_have_value("2024-04-30")  # the due date moves with the year
    expect(columns.nth(0)).to_have_text("2022年末普惠小微贷款余额")
    expect(plan.locator("h3").first).to_have_text("专项行动进展情况监测表（附件4）2023年版")
    expect(new_fields).to_have_count(0)
    assert not Period.objects.filter(year__gte=2023).exists()  # previews save nothing

    admin.locator("#c-year").fill("2023")
    admin.locator("#c-due").fill("12")
    admin.locator("#c-annual").fill("2023-04-28")
    admin.locator("#campaign-preview").click()
    expect(columns.nth(2)).to_have_text("2023年普惠小微贷款预计新增额")
    rows = admin.locator("#campaign-periods tbody tr")
    expect(rows).to_have_count(12 + 3 + 4)
    january = rows.filter(has_text="2023年1月").first
    expect(january.locator("td").nth(2)).to_have_text("2023-02-01")
    expect(january.locator("td").nth(3)).to_have_text("2023-02-12")
    expect(january.locator("td").nth(4)).to_have_text("将新增")
    december = rows.filter(has_text="2023年12月").first
    expect(december.locator("td").nth(3)).to_have_text("2024-01-12")  # due the next January
    expect(rows.filter(has_text="附件3").first.locator("td").nth(3)).to_have_text("2023-04-28")

    admin.locator("#t-loan_increase_ytd").fill("1800")
    admin.locator("#t-loan_growth_restored_ytd").fill("25")
    admin.locator("#campaign-submit").click()
    expect(admin.locator(".messages")).to_contain_text(
        "已设置 2023 年专项行动：新增报送期 19 个，全省目标 2 项"
    )
    expect(rows).to_have_count(19)
    expect(rows.filter(has_text="将新增")).to_have_count(0)
    expect(january.locator("td").nth(4)).to_have_text("已设置（不变）")
    expect(admin.locator("#t-loan_increase_ytd")).to_have_value("1800")  # the targets as set
    expect(admin.locator("#t-loan_growth_restored_ytd")).to_have_value("25")

    monthly = Period.objects.filter(year=2023, form=Form.MONITORING).order_by("month")
    assert [(p.month, p.due_on) for p in monthly][:2] == [(1, date(2023, 2, 12)), (2, date(2023, 3, 12))]
    assert Period.objects.filter(year=2023).count() == 19
    assert Period.objects.get(year=2023, form=Form.PLAN).due_on == date(2023, 4, 28)
    assert {t.indicator: t.value for t in Target.objects.filter(year=2023)} == {
        "loan_increase_ytd": Decimal("1800"),
        "loan_growth_restored_ytd": Decimal("0.25"),
    }
    assert list(Period.objects.filter(year=2022).values_list("pk", "opens_on", "due_on").order_by("pk")) == (
        before
    )

    # 2022's approved sheet reads as filed, on its own edition: no 各项贷款余额 asked of it afterwards
    admin.goto(f"/reporting/institutions/{master['A'].pk}/periods/{march.pk}/")
    expect(admin.locator("#f-loan_balance")).to_contain_text("123.45")
    expect(admin.locator("main")).to_contain_text("已通过")
    expect(admin.locator("#f-total_loan_balance")).to_have_count(0)
    expect(admin.locator("#f-npl_write_offs")).to_have_count(0)
