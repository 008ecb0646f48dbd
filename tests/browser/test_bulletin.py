"""The officer's month-end in Chromium: generate the 监测通报 (the page follows the job), edit a drafted
paragraph, publish it, then record a 约谈 from its 不到位 list — under the Content-Security-Policy, with no
refusal or script error on the way."""

import pytest
from playwright.sync_api import expect

from audit.models import AuditEntry
from indicators.models import Bulletin, SupervisionAction
from tests.browser.harness import sign_in, watch
from tests.worlds import build_world

pytestmark = pytest.mark.browser


def test_officer_generates_edits_publishes_and_records_an_interview(
    page, live_server, master, users, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the job runs in the server's process once the request commits
    world = build_world(master, users)
    problems = watch(page)
    sign_in(page, live_server, users["officer_branch"])

    page.goto("/indicators/?period=2022-03")
    page.locator("#bulletins-link").click()
    expect(page.locator("h1")).to_have_text("专项行动监测通报")
    page.select_option("#b-period", "2022-03")
    page.locator("#bulletin-generate button[type=submit]").click()

    # the draft: numbers frozen with their cut-off, the paragraphs editable
    expect(page.locator("#bulletin-title")).to_contain_text("专项行动监测通报（2022年3月）")
    expect(page.locator("#bulletin-meta")).to_contain_text("草稿")
    expect(page.locator("#bulletin-meta")).to_contain_text("数据截至")
    expect(page.locator("#p-overview")).to_contain_text("全省普惠小微贷款余额170.00亿元")
    expect(page.locator("#bulletin-targets")).to_contain_text("待审核")
    expect(page.locator("#bulletin-targets")).to_contain_text("2/24")
    expect(page.locator('[data-chart="trend"] svg')).to_be_visible()
    page.locator("#p-next").fill("下一步，对计划完成率偏低的机构逐一约谈。")
    page.once("dialog", lambda dialog: dialog.accept())  # 发布后不能再修改……确定发布？
    page.locator("#bulletin-publish").click()

    expect(page.locator("main")).to_contain_text("已发布2022年3月监测通报第1版")
    expect(page.locator("#bulletin-meta")).to_contain_text("第1版")
    expect(page.locator('#bulletin-text [data-paragraph="next"]')).to_have_text(
        "下一步，对计划完成率偏低的机构逐一约谈。"
    )
    expect(page.locator("#bulletin-form")).to_have_count(0)
    b = Bulletin.objects.get()
    assert (b.status, b.version) == (Bulletin.Status.PUBLISHED, 1)
    assert AuditEntry.objects.filter(action="bulletin.publish", object_id=str(b.pk)).exists()

    # from the 不到位 list, one step: a 约谈 of 工商银行
    row = page.locator(f'#bulletin-failing tr[data-institution="{world["A"].pk}"]')
    expect(row).to_contain_text("工商银行")
    row.locator('select[name="kind"]').select_option("interview")
    row.locator('input[name="taken_on"]').fill("2022-04-20")
    row.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("已记录对工商银行的督导")
    row = page.locator(f'#bulletin-failing tr[data-institution="{world["A"].pk}"]')
    expect(row).to_contain_text("2022-04-20 约谈")  # the list shows what was taken
    action = SupervisionAction.objects.get(institution=world["A"])
    assert action.kind == "interview" and "未达标" in action.reason
    assert problems == [], problems
