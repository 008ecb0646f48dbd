"""The 四张清单 evaluation in Chromium: an officer scores with a comment; an admin runs a what-if, publishes it
and downloads the PDF; a bank sees only its own report card."""

import re

import pytest
from playwright.sync_api import expect

from evaluation import services
from evaluation.models import Evaluation, QualitativeScore, Status
from institutions.models import Institution
from tests.worlds import CSV, pdftotext

pytestmark = pytest.mark.browser


def test_an_officer_scores_a_list_by_its_criteria_with_a_comment(as_user, users, master):
    evaluation = services.create_evaluation(
        actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"]
    )
    officer = as_user("officer_in")
    officer.goto(f"/evaluation/{evaluation.pk}/")
    officer.locator("#members").get_by_role("link", name="工商银行").click()
    expect(officer.locator("h1")).to_contain_text("工商银行 · 四张清单评分")

    form = officer.locator('form[data-item="acceptance"]')
    form.locator('input[name="criterion-each_reply"]').fill("7.5")
    form.locator('input[name="criterion-timeliness"]').fill("4")
    form.locator('input[name="criterion-channels"]').fill("2.5")
    form.locator('textarea[name="comment"]').fill("受理回告逐笔登记，个别网点回告超时")
    form.get_by_role("button", name="保存评分").click()

    expect(officer.locator(".messages")).to_contain_text("已保存工商银行“受理回告清单”的评分：14.00 分")
    form = officer.locator('form[data-item="acceptance"]')
    expect(form.locator(".current")).to_have_text("当前 14.00")
    expect(form.locator('textarea[name="comment"]')).to_have_value("受理回告逐笔登记，个别网点回告超时")
    score = QualitativeScore.objects.get(institution=master["A"], item__code="acceptance")
    assert score.scored_by == users["officer_in"] and score.criteria["timeliness"] == "4.00"

    # out of bounds: the officer is told which and why, nothing changes
    form.locator('input[name="criterion-each_reply"]').fill("9")
    form.get_by_role("button", name="保存评分").click()
    expect(officer.locator(".messages")).to_contain_text(
        "“受理回告清单—逐笔回告”的得分 9.00 超出范围：应在 0 到 8 分之间"
    )
    assert QualitativeScore.objects.get(pk=score.pk).value == score.value


def test_an_admin_runs_a_what_if_publishes_it_and_downloads_the_pdf(as_user, users, master, tmp_path):
    published = services.load_reference(path=CSV)
    admin = as_user("pboc_admin")
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.goto(f"/evaluation/{published.pk}/")
    admin.locator("#start-what-if").click()

    expect(admin.locator("h1")).to_contain_text("评估方案")
    admin.locator("#grading_method").select_option("rank_quota")
    admin.locator("#excellent").fill("0.2")
    admin.locator("#good").fill("0.4")
    admin.locator("#fair").fill("0.3")
    admin.locator("#save-scheme").click()

    expect(admin.locator("h1")).to_contain_text("模拟测算")
    expect(admin.locator("#comparison tbody tr")).to_have_count(24)
    # 建设银行 was 一般 under the published rule; 3rd of 5 in 第1组 it is 良好 with quotas 20% / 40% / 30%
    # (places: round(0.2 × 5) = 1 优秀, round(0.6 × 5) = 3 优秀或良好)
    ccb = admin.locator(f'#comparison tr[data-institution="{Institution.objects.get(code="CCB").pk}"]')
    expect(ccb).to_contain_text("建设银行")
    expect(ccb.locator("[data-before-grade]")).to_have_text("一般")
    expect(ccb.locator("[data-after-grade]")).to_have_text("良好")
    expect(admin.locator("#what-if-summary")).to_contain_text(re.compile(r"\d+ 家机构评估结果变化"))
    expect(admin.locator("#item-comparison tbody tr")).to_have_count(24)

    admin.locator("#publish").click()
    expect(admin.locator(".messages")).to_contain_text(f"原发布的评估 #{published.pk} 已被取代")
    draft = Evaluation.objects.get(based_on=published)
    assert draft.status == Status.PUBLISHED
    assert Evaluation.objects.get(pk=published.pk).status == Status.SUPERSEDED

    with admin.expect_download() as download:
        admin.locator("#download-pdf").click()
    path = tmp_path / "results.pdf"
    download.value.save_as(path)
    text = pdftotext(path.read_bytes(), tmp_path)
    assert "2021年湖北省小微企业“四张清单”工作评估结果" in text and "湖北省联社" in text
    assert "按组内排名比例" in text


def test_a_bank_sees_only_its_own_card(as_user, users, master, tmp_path):
    published = services.load_reference(path=CSV)
    bank = as_user("filer_a")
    bank.goto("/evaluation/")
    bank.get_by_role("link", name=published.title).click()
    expect(bank.locator("#my-result")).to_contain_text("一般")
    expect(bank.locator("#my-result")).to_contain_text("83.56")
    expect(bank.locator("#results")).to_have_count(0)
    expect(bank.locator("body")).not_to_contain_text("湖北银行")

    with bank.expect_download() as download:
        bank.locator("#my-card").click()
    path = tmp_path / "card.pdf"
    download.value.save_as(path)
    text = pdftotext(path.read_bytes(), tmp_path)
    assert "中国工商银行股份有限公司湖北省分行" in text and "83.56" in text

    response = bank.goto(f"/evaluation/{published.pk}/institutions/{master['B'].pk}/card.pdf")
    assert response.status == 404
    response = bank.goto(f"/evaluation/{published.pk}/results.pdf")
    assert response.status == 403
