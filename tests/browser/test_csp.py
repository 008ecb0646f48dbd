"""Every role's main pages in Chromium under the Content-Security-Policy (portal/middleware.py): a page fails
when the browser refuses anything the policy forbids, when a script throws, or when one of its own files or
fetches fails. The charts are drawn and hovered, the forms that ask before sending still ask."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from evaluation import services as evaluation_services
from evaluation.models import Evaluation, ReportJob
from reporting import services as reporting_services
from reporting.demo import demo_pdf
from reporting.models import Form, ImportJob, Period
from tests.browser.harness import visit, watch
from tests.worlds import CSV

pytestmark = pytest.mark.browser


@pytest.fixture
def world(world):
    built = world
    built["march"] = built["periods"][(2022, 3)]
    built["plan"] = Period.objects.get(form=Form.PLAN, year=2022)
    return built


def test_the_watch_catches_a_refused_inline_style_and_a_script_error(page, live_server):
    """The harness itself: without these two the other tests could pass by seeing nothing."""
    problems = watch(page)
    visit(page, problems, "/accounts/login/")

    page.evaluate("document.body.setAttribute('style', 'background: red')")
    page.evaluate("setTimeout(function () { undefined_function(); }, 0)")
    page.wait_for_timeout(300)

    assert any("Refused to" in p and "style-src" in p for p in problems), problems
    assert any("undefined_function" in p for p in problems), problems


def test_the_login_page_runs_under_the_policy(page, live_server, users):
    problems = watch(page)
    visit(page, problems, "/accounts/login/")
    page.locator("select[name=language]").select_option("en")  # the language switch submits by script
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert problems == []


def test_a_banks_pages_run_under_the_policy(as_user, world, master, users):
    evaluation_services.create_evaluation(actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"])
    draft = evaluation_services.load_reference(path=CSV)
    reporting_services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    work_plan = Period.objects.get(form=Form.WORK_PLAN, year=2022)
    reporting_services.save_document(
        institution=master["A"],
        period=work_plan,
        actor=users["filer_a"],
        data=demo_pdf("方案"),
        filename="方案.pdf",
    )
    bank = as_user("filer_a")
    problems = watch(bank)
    A = master["A"].pk

    # the work plan's page frames the PDF itself (frame-ancestors 'self' on the PDF, see portal/middleware.py)
    with bank.expect_response(re.compile(r"/document/1/$")) as preview:
        visit(bank, problems, f"/reporting/institutions/{A}/periods/{work_plan.pk}/")
    assert preview.value.status == 200
    assert preview.value.headers["content-security-policy"] == "frame-ancestors 'self'"
    bank.wait_for_timeout(500)
    assert problems == []

    for path in (
        "/",
        "/reporting/",
        f"/reporting/institutions/{A}/periods/{world['march'].pk}/",
        f"/reporting/institutions/{A}/periods/{world['plan'].pk}/",
        f"/reporting/institutions/{A}/periods/{world['march'].pk}/history/",
        "/evaluation/",
        f"/evaluation/{draft.pk}/",
        "/accounts/token/",
        "/accounts/tokens/",
    ):
        visit(bank, problems, path)

    visit(bank, problems, f"/indicators/institutions/{A}/")
    expect(bank.locator("#trend-chart svg")).to_be_visible()
    assert problems == []


def test_an_officers_pages_run_under_the_policy(as_user, world, master, users):
    evaluation = evaluation_services.create_evaluation(
        actor=users["pboc_admin"], year=2022, jurisdiction=master["branch"]
    )
    officer = as_user("officer_branch")
    problems = watch(officer)
    A = master["A"].pk

    for path in (
        "/",
        "/reporting/matrix/",
        "/reporting/",
        f"/reporting/institutions/{A}/periods/{world['march'].pk}/",
        "/indicators/table/?period=2022-03",
        "/indicators/supervision/",
        "/evaluation/",
        f"/evaluation/{evaluation.pk}/",
        f"/evaluation/{evaluation.pk}/institutions/{A}/",
    ):
        visit(officer, problems, path)

    # the dashboard: its targets' SVG bars, both charts drawn by ECharts, a tooltip on hover
    visit(officer, problems, "/indicators/?period=2022-03")
    bar = officer.locator('[data-target="loan_increase_ytd"] .bar .fill')
    expect(bar).to_have_attribute("width", "1")
    assert bar.bounding_box()["width"] > 0
    expect(officer.locator("#trend-chart svg")).to_be_visible()
    expect(officer.locator("#timeliness-chart svg")).to_be_visible()
    # the tooltip is drawn inside the chart ("series month：value"); ECharts' HTML tooltip would be refused
    officer.locator("#trend-chart").hover(position={"x": 300, "y": 170})
    expect(officer.locator("#trend-chart svg")).to_contain_text("月：")
    officer.select_option("#trend-indicator", "credit_share")
    expect(officer.locator("#trend-chart")).to_contain_text("信用贷款占比（%）")
    # a select that submits its form on change (was onchange=…)
    officer.select_option("#rank-indicator", "credit_share")
    expect(officer).to_have_url(re.compile(r"rank=credit_share"))
    officer.wait_for_load_state("networkidle")
    assert problems == []


def test_an_admins_pages_run_under_the_policy(as_user, world, master, users):
    published = evaluation_services.load_reference(path=CSV)
    ReportJob.objects.create(evaluation=published, created_by=users["pboc_admin"], total=24)
    job = ImportJob.objects.create(
        status=ImportJob.Status.RUNNING,
        upload="imports/bulk.xlsx",
        upload_name="bulk.xlsx",
        upload_sha256="0" * 64,
        total=10,
        processed=4,
        created_by=users["pboc_admin"],
    )
    admin = as_user("pboc_admin")
    problems = watch(admin)

    for path in (
        "/",
        "/audit/",
        "/reporting/import/",
        "/reporting/matrix/",
        f"/evaluation/{published.pk}/",
        "/accounts/tokens/",
        "/admin/",
        "/admin/institutions/institution/",
    ):
        visit(admin, problems, path)

    # job pages: a <progress> the script keeps up to date
    visit(admin, problems, f"/reporting/import/{job.pk}/")
    expect(admin.locator("#job-bar")).to_have_js_property("value", 40)
    report_job = published.jobs.get()
    visit(admin, problems, f"/evaluation/{published.pk}/jobs/{report_job.pk}/")
    expect(admin.locator("#job-bar")).to_have_js_property("value", 0)

    # a what-if draft: its scheme and comparison pages, and a form that asks before it deletes (data-confirm)
    admin.goto(f"/evaluation/{published.pk}/")
    admin.locator("#start-what-if").click()
    expect(admin.locator("h1")).to_contain_text("评估方案")
    draft_url = admin.url
    admin.locator("#save-scheme").click()
    expect(admin.locator("h1")).to_contain_text("模拟测算")
    assert problems == [], f"{draft_url}: {problems}"
    draft = Evaluation.objects.get(based_on=published)
    asked = []
    admin.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    visit(admin, problems, f"/evaluation/{draft.pk}/")
    admin.get_by_role("button", name="删除草稿").click()
    expect(admin.locator("h1")).to_be_visible()
    assert asked == ["删除该模拟测算草稿？"]
    assert Evaluation.objects.filter(pk=draft.pk).exists()  # dismissed: nothing was sent
    assert problems == []


def test_the_api_docs_run_under_the_policy(as_user, users):
    bank = as_user("filer_a")
    problems = watch(bank)

    visit(bank, problems, "/api/docs/")

    expect(bank.locator(".swagger-ui .info .title")).to_contain_text("小微企业专项行动门户 API")
    expect(bank.locator(".opblock").first).to_be_visible()
    bank.locator(".opblock-summary").first.click()  # expand an operation: React renders more of the page
    expect(bank.locator(".opblock-body").first).to_be_visible()
    assert problems == []
