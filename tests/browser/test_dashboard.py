"""The officer's indicator dashboard in Chromium: targets with progress bars, the trend chart drawn by the
vendored ECharts, a "—" that says why, and a number drilled down to the sheet (and version) it came from."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import sign_in

pytestmark = pytest.mark.browser


def test_officer_drills_from_a_province_number_to_its_source_sheet(page, live_server, world, users):
    icbc, march = world["A"], world["periods"][(2022, 3)]

    sign_in(page, live_server, users["officer_branch"])
    page.goto("/indicators/?period=2022-03")
    expect(page.locator("h1")).to_contain_text("专项行动监测指标 · 2022年3月")
    expect(page.locator("#asof")).to_contain_text("数据截至")

    # the province target: 20亿元 of 1700, a 1% progress bar
    card = page.locator('[data-target="loan_increase_ytd"]')
    expect(card).to_contain_text("20.00亿元")
    expect(card.locator(".bar .fill")).to_have_attribute("width", "1")  # of the bar's 100-unit SVG viewBox
    # 2 of 24 sheets are in the sum: neither met nor missed until the others are approved
    expect(card.locator(".badge")).to_have_text("待审核")
    expect(card.locator(".basis")).to_have_text("基于 2/24 家")

    # the trend chart is drawn by our own ECharts and follows the indicator picked
    expect(page.locator("#trend-chart svg")).to_be_visible()
    page.select_option("#trend-indicator", "credit_share")
    expect(page.locator("#trend-chart")).to_contain_text("信用贷款占比（%）")

    # an undefined number says why
    g2 = page.locator('#summary-table tr[data-indicator="loan_balance"] td.num').nth(2)
    expect(g2.locator("a")).to_have_text("—")
    expect(g2.locator("a")).to_have_attribute("title", re.compile("范围内14家机构均无法计算"))

    # drill into the province's 比年初增长率 …
    page.locator('#summary-table tr[data-indicator="loan_growth_ytd"] td.num a').first.click()
    expect(page.locator("h1")).to_have_text("全省 · 2022年3月 · 普惠小微贷款比年初增长率")
    expect(page.locator("#stored-value")).to_have_text("13.33%")
    expect(page.locator("#formula")).to_contain_text("比年初增加额 ÷ 余额(上年12月)")

    # … and on to ICBC's March sheet, version 2, where its 余额 comes from
    source = page.locator(f'#source-table tr[data-institution="{icbc.pk}"] a.source-link').first
    expect(source).to_have_text("2022年3月附件4 · 第 2 版 · 已通过 · 字段 loan_balance（普惠小微贷款余额）")
    source.click()
    expect(page).to_have_url(re.compile(rf"/reporting/institutions/{icbc.pk}/periods/{march.pk}/$"))
    expect(page.locator("h1")).to_contain_text("工商银行 · 2022年3月")
    expect(page.locator("main")).to_contain_text("第 2 版")
