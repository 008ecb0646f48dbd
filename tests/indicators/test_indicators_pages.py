"""Indicator pages, exports and the supervision log: what each role sees, bounded queries, the same number on
screen and in Excel, and bad input that never crashes a page."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from indicators import indicators as ind
from indicators import pages, services, storage
from indicators.models import LoanPrimeRate, RefreshRun, SupervisionAction, Target
from institutions.models import Institution
from portal.errors import Forbidden, ServiceError
from tests.worlds import A_2021_12, A_2022_03, file_sheet

MARCH = "?period=2022-03"


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def explain_url(scope, key, code, period="2022-03", **extra):
    year, month = period.split("-")
    params = f"scope={scope}&key={key}&year={year}&month={int(month)}&code={code}"
    return reverse("indicators:explain") + "?" + params + "".join(f"&{k}={v}" for k, v in extra.items())


# --- the officer's dashboard ---------------------------------------------------------------------------------


def test_dashboard_shows_province_targets_progress_and_as_of(world, client_for):
    page = html(client_for("officer_branch").get(reverse("indicators:dashboard") + MARCH))
    assert "全省目标完成情况" in page and "新增普惠小微贷款 1700亿元" in page
    # 比年初增加额 20亿元 against 1700: 1.2% done, 25% of the year gone
    card = page[page.index('data-target="loan_increase_ytd"') :]
    card = card[: card.index('<div class="target', 10)]
    assert (
        "20.00亿元" in card and "≥ 1,700亿元" in card and "完成进度 1.2%" in card and "时序进度 25.0%" in card
    )
    # 2 of 24 institutions' sheets are in the sum: neither met nor missed, with the basis beside the figure
    assert "待审核" in card and "未达标" not in card and "基于 2/24 家" in card
    assert "24家机构中22家的监测表尚未审核通过或未报送" in card and "已审核的2家合计20.00亿元" in card
    run = world["run"]
    assert "数据截至" in page and f"{run.latest_approval_at.astimezone().strftime('%Y-%m-%d')}" in page
    # every number drills down
    assert explain_url("province", "420000", "loan_growth_ytd").replace("&", "&amp;") in page
    assert 'id="trend-data"' in page and "vendor/echarts/echarts.min.js" in page


def test_dashboard_ranks_within_groups_and_highlights_failing_institutions(world, client_for):
    services.record_supervision(
        actor=world["officer_branch"],
        institution=world["A"],
        kind="interview",
        taken_on=date(2022, 4, 20),
        reason="年度计划完成进度落后",
    )
    page = html(
        client_for("officer_branch").get(reverse("indicators:dashboard") + MARCH + "&rank=credit_share")
    )
    g1 = page[page.index('id="rank-G1"') : page.index('id="rank-G2"')]
    assert "工商银行" in g1 and "1/5" in g1 and "21.82%" in g1
    failing = page[page.index('id="failing"') : page.index('id="timeliness"')]
    assert "工商银行" in failing and "完成附件3年度投放计划" in failing
    assert "约谈" in failing and "年度计划完成进度落后" in failing


def test_long_rankings_and_failing_lists_show_their_ends_and_link_to_the_full_table(
    world, client_for, monkeypatch
):
    # the page stays one size for 24 institutions or 4,500: here cut at 2 per end and 1 failing institution
    monkeypatch.setattr(pages, "RANK_ENDS", 2)
    monkeypatch.setattr(pages, "FAILING_SHOWN", 1)
    context = pages.dashboard(world["officer_branch"], year=2022, month=3)
    g2 = next(g for g in context["rankings"] if g["value"] == "G2")  # 14 members, few with sheets
    listed = [r for r in g2["rows"] if r is not None]
    assert None in g2["rows"] and g2["omitted"] == 14 - len(listed) > 0
    assert all(r.rank is not None for r in listed)  # the unranked "—" rows are the ones left out
    assert len(context["failing"]) == 1 and context["failing_total"] >= 1

    page = html(client_for("officer_branch").get(reverse("indicators:dashboard") + MARCH))
    section = page[page.index('id="rank-G2"') : page.index('id="rank-G3"')]
    assert f"另有 {g2['omitted']} 家机构未列出" in section
    assert reverse("indicators:table") + "?period=2022-03" in section
    assert section.count("data-institution=") == len(listed)
    failing = page[page.index('id="failing"') : page.index('id="timeliness"')]
    assert failing.count("data-institution=") == 1
    assert f"未达标机构（{context['failing_total']}）" in failing


def test_an_officer_sees_only_their_jurisdiction_below_the_aggregates(world, client_for):
    page = html(client_for("officer_in").get(reverse("indicators:dashboard") + MARCH))
    rankings = page[page.index('id="rankings"') :]
    assert "工商银行" in rankings and "湖北银行" not in rankings
    assert (
        client_for("officer_in").get(reverse("indicators:institution", args=[world["B"].pk])).status_code
        == 404
    )
    detail = html(client_for("officer_in").get(explain_url("province", "420000", "loan_growth_ytd")))
    assert "工商银行" in detail and "湖北银行" not in detail
    assert "另有 5 家机构不在您的辖区内（其中 1 家纳入合计）" in detail


def test_pages_run_the_same_number_of_queries_for_2_or_24_institutions(
    master, users, client_for, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from tests.factories import periods

    services.load_reference_data()
    p = periods(first=(2021, 12), last=(2022, 3))
    everyone = list(Institution.objects.order_by("order"))
    client = client_for("officer_branch")
    urls = [
        reverse("indicators:dashboard") + MARCH,
        reverse("indicators:table") + MARCH,
        reverse("indicators:institution", args=[master["A"].pk]) + MARCH,
        explain_url("province", "420000", "weighted_rate"),
        reverse("indicators:export_province") + MARCH,
        reverse("indicators:export_institutions") + MARCH,
    ]

    def counts(institutions):
        for i in institutions:
            file_sheet(i, p[(2021, 12)], A_2021_12)
            file_sheet(i, p[(2022, 3)], A_2022_03)
        with django_capture_on_commit_callbacks(execute=True):  # the refresh's commit renews the dashboard
            services.refresh_now()
        out = []
        for url in urls:
            storage.forget_cached()  # each page counted as a freshly started worker serves it
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200, url
            out.append(len(ctx.captured_queries))
        return out

    few = counts(everyone[:2])
    many = counts(everyone[2:])
    assert few == many
    for url in urls:
        with django_assert_max_num_queries(30):
            client.get(url)


def test_the_dashboard_only_reads_even_when_its_values_are_stale(world, client_for):
    """Freshness is the refresh task's and the beat's (indicators.tasks.check_fresh): a GET of the dashboard
    with approvals the stored values do not include queues nothing and writes nothing but the session."""
    RefreshRun.objects.all().delete()  # no refresh ever ran: the stored values are stale
    client = client_for("officer_branch")
    for query in (MARCH, "", MARCH + "&live=1"):
        with CaptureQueriesContext(connection) as captured:
            page = html(client.get(reverse("indicators:dashboard") + query))
        writes = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
            and "django_session" not in q["sql"]
        ]
        assert writes == [], writes
        assert 'id="province-targets"' in page
    assert not RefreshRun.objects.exists()


def test_include_submitted_is_computed_on_the_fly_marked_and_never_stored(world, client_for):
    before = len(storage.values())
    page = html(client_for("officer_branch").get(reverse("indicators:dashboard") + "?period=2022-01&live=1"))
    assert 'id="live-banner"' in page and "含未审核数据" in page
    assert re.search(r'class="iv[^"]* provisional', page)
    assert len(storage.values()) == before
    stored_page = html(client_for("officer_branch").get(reverse("indicators:dashboard") + "?period=2022-01"))
    assert 'id="live-banner"' not in stored_page


def test_a_month_without_data_renders_dashes_with_reasons(world, client_for):
    """2022年2月: nobody filed. The page, the table, the explain page and both exports still work."""
    client = client_for("officer_branch")
    page = html(client.get(reverse("indicators:dashboard") + "?period=2022-02"))
    assert 'title="范围内24家机构均无法计算，如：2022年2月监测表未报送"' in page
    table = html(client.get(reverse("indicators:table") + "?period=2022-02"))
    assert 'title="2022年2月监测表未报送"' in table
    detail = html(client.get(explain_url("institution", world["B"].pk, "credit_share", period="2022-02")))
    assert "2022年2月监测表未报送" in detail
    assert client.get(reverse("indicators:export_province") + "?period=2022-02").status_code == 200
    assert client.get(reverse("indicators:export_institutions") + "?period=2022-02").status_code == 200
    assert client.get(reverse("indicators:dashboard") + "?period=nonsense").status_code == 200


# --- drill-down ----------------------------------------------------------------------------------------------


def test_a_number_drills_down_to_its_sheet_version_and_field(world, client_for):
    detail = html(
        client_for("officer_branch").get(explain_url("institution", world["A"].pk, "loan_growth_ytd"))
    )
    sheet = reverse("reporting:sheet", args=[world["A"].pk, world["periods"][(2022, 3)].pk])
    start = reverse("reporting:sheet", args=[world["A"].pk, world["periods"][(2021, 12)].pk])
    assert f'href="{sheet}"' in detail and f'href="{start}"' in detail
    assert "2022年3月附件4 · 第 2 版 · 已通过 · 字段 loan_balance（普惠小微贷款余额）" in detail
    assert "2021年12月附件4 · 第 1 版" in detail
    assert "比年初增加额 ÷ 余额(上年12月)" in detail and "10.00%" in detail


def test_the_drill_down_flags_a_stored_value_that_no_longer_matches_its_sources(world, client_for):
    version = world["A"].filings.get(period=world["periods"][(2022, 3)]).current_version
    version.values = {**version.values, "loan_balance": "120"}
    version.save(update_fields=["values"])
    detail = html(client_for("officer_branch").get(explain_url("institution", world["A"].pk, "loan_balance")))
    assert 'id="mismatch"' in detail and "120.00" in detail


def test_plan_completion_drills_down_to_the_plan_return(world, client_for):
    detail = html(
        client_for("officer_branch").get(explain_url("institution", world["A"].pk, "plan_completion"))
    )
    plan = world["A"].filings.get(period__form="plan")
    assert reverse("reporting:sheet", args=[world["A"].pk, plan.period_id]) in detail
    assert "2022年附件3投放计划 · 第 1 版 · 全省（420000）行" in detail


# --- the bank's own page -------------------------------------------------------------------------------------


def test_a_bank_sees_its_own_indicators_targets_and_group_median_but_no_other_bank(world, client_for):
    client = client_for("filer_b")
    response = client.get(reverse("indicators:dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse(
        "indicators:institution", args=[world["B"].pk]
    )
    page = html(client.get(response["Location"] + MARCH + "&live=1"))
    assert "同组中位数（5家）" in page and "信用贷款比重高于上年" in page
    assert 'id="live-banner"' not in page  # 含未审核数据 is for officers
    others = set(Institution.objects.exclude(pk=world["B"].pk).values_list("short_name", flat=True))
    assert [name for name in others if name in page] == []
    assert "督导记录" not in page
    assert client.get(reverse("indicators:institution", args=[world["A"].pk])).status_code == 404
    assert client.get(explain_url("province", "420000", "loan_growth_ytd")).status_code == 403
    assert client.get(explain_url("institution", world["A"].pk, "loan_growth_ytd")).status_code == 404
    assert client.get(explain_url("institution", world["B"].pk, "loan_growth_ytd")).status_code == 200
    assert client.get(reverse("indicators:supervision")).status_code == 403


def test_group_median_hides_itself_when_fewer_than_three_peers_report(world, client_for):
    page = html(client_for("filer_a").get(reverse("indicators:institution", args=[world["A"].pk]) + MARCH))
    row = page[page.index('data-indicator="loan_balance"') :][:900]
    assert "同组有数值的机构不足 3 家" in row  # only ICBC reports in 第1组
    assert ind.median([Decimal(1), Decimal(5), Decimal(2)]) == Decimal(2)
    assert ind.median([Decimal(1), None, Decimal(2)]) is None


# --- exports -------------------------------------------------------------------------------------------------


def _workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return openpyxl.load_workbook(io.BytesIO(response.content))


def test_the_province_export_has_the_numbers_of_the_screen(world, client_for):
    client = client_for("officer_branch")
    wb = _workbook(client.get(reverse("indicators:export_province") + MARCH))
    assert wb.sheetnames == ["全省目标", "汇总指标", "报送及时性"]
    ws = wb["汇总指标"]
    assert ws.freeze_panes == "D4"
    assert [c.value for c in ws[3]][:4] == ["类别", "指标", "单位", "全省"]
    rows = {r[1].value: r for r in ws.iter_rows(min_row=4)}
    growth = rows["普惠小微贷款比年初增长率"]
    stored = storage.value("province", "420000", 2022, 3, "loan_growth_ytd").value
    assert growth[2].value == "%" and growth[3].number_format == "0.00%"
    assert Decimal(str(growth[3].value)) == ind.get("loan_growth_ytd").rounded(stored) == Decimal("0.1333")
    page = html(client.get(reverse("indicators:dashboard") + MARCH))
    assert f">{ind.get('loan_growth_ytd').text(stored)}</a>" in page  # 13.33% on screen and in Excel
    assert growth[4].value == "2/24"  # the basis beside the figure
    g2 = rows["普惠小微贷款余额"][7]  # 第2组: nobody reported
    assert g2.value == "—" and "均无法计算" in g2.comment.text and rows["普惠小微贷款余额"][8].value == "0/14"
    targets = wb["全省目标"]
    assert targets["A4"].value == "新增普惠小微贷款 1700亿元" and targets["E4"].value == "2/24"
    assert targets["I4"].value == "待审核" and targets["J4"].value.startswith("待审核：24家机构中22家")


def test_the_institution_export_neutralises_formula_injection_and_explains_dashes(world, client_for):
    services.record_supervision(
        actor=world["officer_branch"],
        institution=world["A"],
        kind="notice",
        taken_on=date(2022, 4, 20),
        reason='=HYPERLINK("http://evil.example","点我")',
        follow_up="+1 整改",
    )
    wb = _workbook(client_for("officer_branch").get(reverse("indicators:export_institutions") + MARCH))
    assert wb.sheetnames == ["机构指标", "未达标目标", "督导记录"]
    ws = wb["机构指标"]
    assert ws.freeze_panes == "D5"
    headers = [c.value for c in ws[4]]
    assert "普惠小微贷款余额（亿元）" in headers and "贷款户数比年初增加（户）" in headers
    icbc = next(r for r in ws.iter_rows(min_row=5) if r[0].value == "工商银行")
    col = headers.index("普惠小微贷款同比增速（%）")
    assert icbc[col].value == Decimal("0.375") or icbc[col].value == 0.375
    hbb = next(r for r in ws.iter_rows(min_row=5) if r[0].value == "湖北银行")
    assert hbb[col].value == "—" and hbb[col].comment.text == "2021年3月（上年同期）监测表未报送"
    log = wb["督导记录"]
    assert log["D4"].value.startswith("'=HYPERLINK") and log["E4"].value == "'+1 整改"


def test_a_bank_exports_only_its_own_row(world, client_for):
    wb = _workbook(client_for("filer_a").get(reverse("indicators:export_institutions") + MARCH))
    assert [r[0].value for r in wb["机构指标"].iter_rows(min_row=5)] == ["工商银行"]
    assert "督导记录" not in wb.sheetnames
    assert client_for("filer_a").get(reverse("indicators:export_province") + MARCH).status_code == 403


# --- supervision log -----------------------------------------------------------------------------------------


def test_recording_supervision_writes_the_audit_entry_and_shows_beside_the_institution(world, client_for):
    client = client_for("officer_in")
    response = client.post(
        reverse("indicators:supervision"),
        {
            "institution": world["A"].pk,
            "kind": "onsite",
            "taken_on": "2022-05-10",
            "reason": "首贷户比重低于上年",
            "follow_up": "6月底前报送整改方案",
        },
    )
    assert response.status_code == 302
    action = SupervisionAction.objects.get()
    entry = AuditEntry.objects.get(action="supervision.record")
    assert (entry.institution_id, entry.object_id, entry.actor.username) == (
        world["A"].pk,
        str(action.pk),
        "officer_in",
    )
    page = html(client.get(reverse("indicators:institution", args=[world["A"].pk]) + MARCH))
    assert "现场督导" in page and "首贷户比重低于上年" in page
    client.post(reverse("indicators:follow_up", args=[action.pk]), {"follow_up": "已收到整改方案"})
    assert SupervisionAction.objects.get().follow_up == "已收到整改方案"
    assert AuditEntry.objects.get(action="supervision.follow_up").changes == {
        "follow_up": ["6月底前报送整改方案", "已收到整改方案"]
    }


def test_supervision_is_scoped_by_jurisdiction_and_validated(world, client_for):
    client = client_for("officer_in")
    outside = client.post(
        reverse("indicators:supervision"),
        {"institution": world["B"].pk, "kind": "interview", "taken_on": "2022-05-10", "reason": "x"},
    )
    assert outside.status_code == 404
    with pytest.raises(Forbidden):
        services.record_supervision(
            actor=world["officer_in"],
            institution=world["B"],
            kind="interview",
            taken_on=date(2022, 5, 1),
            reason="x",
        )
    for bad in ({"reason": "  "}, {"kind": "lunch"}, {"taken_on": date.today() + timedelta(days=2)}):
        args = {"kind": "interview", "taken_on": date(2022, 5, 1), "reason": "原因", **bad}
        with pytest.raises(ServiceError):
            services.record_supervision(actor=world["officer_in"], institution=world["A"], **args)
    assert not SupervisionAction.objects.exists() and not AuditEntry.objects.filter(
        action__startswith="supervision"
    )
    other = services.record_supervision(
        actor=world["officer_branch"],
        institution=world["B"],
        kind="notice",
        taken_on=date(2022, 5, 1),
        reason="通报",
    )
    page = html(client.get(reverse("indicators:supervision")))
    assert "通报" not in page.split('id="supervision-table"')[1]
    assert (
        client.post(reverse("indicators:follow_up", args=[other.pk]), {"follow_up": "x"}).status_code == 404
    )


# --- refresh, targets and LPR kept by admins -----------------------------------------------------------------


def test_only_an_admin_refreshes_on_demand(world, client_for):
    assert client_for("officer_branch").post(reverse("indicators:refresh")).status_code == 403
    response = client_for("pboc_admin").post(reverse("indicators:refresh"), {"next": "/indicators/"})
    assert response.status_code == 302
    run = RefreshRun.objects.get(trigger=RefreshRun.Trigger.MANUAL)
    assert AuditEntry.objects.get(action="indicators.refresh").object_id == str(run.pk)


def test_admins_keep_targets_and_the_lpr_in_the_django_admin_audited(world, client_for):
    admin = world["pboc_admin"]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    client = client_for("pboc_admin")
    assert client.get(reverse("admin:indicators_target_changelist")).status_code == 200
    response = client.post(
        reverse("admin:indicators_target_add"),
        {
            "year": 2023,
            "scope": "province",
            "indicator": "loan_increase_ytd",
            "comparator": "gte",
            "basis": "fixed",
            "value": "1800",
            "applies_to": "all",
            "label": "新增普惠小微贷款 1800亿元",
            "source": "2023年方案",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Target.objects.get(year=2023).value == Decimal("1800")
    assert AuditEntry.objects.get(action="indicators.target.save").summary.endswith(
        "新增普惠小微贷款 1800亿元"
    )
    bad = client.post(
        reverse("admin:indicators_target_add"),
        {
            "year": 2023,
            "scope": "province",
            "indicator": "credit_share",
            "comparator": "gt",
            "basis": "fixed",
            "applies_to": "all",
            "label": "x",
        },
    )
    assert bad.status_code == 200 and "必须填写目标值" in bad.content.decode()
    lpr = LoanPrimeRate.objects.get(year=2022, month=3)
    response = client.post(
        reverse("admin:indicators_loanprimerate_change", args=[lpr.pk]),
        {"year": 2022, "month": 3, "rate": "3.6"},
    )
    assert response.status_code == 302
    assert AuditEntry.objects.get(action="indicators.lpr.save").changes == {"rate": ["3.7000", "3.6"]}
    assert RefreshRun.objects.filter(first_year=2022, last_year=2022, trigger="manual").exists()


def test_officers_cannot_change_targets(world, client_for):
    officer = world["officer_branch"]
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    assert client_for("officer_branch").get(reverse("admin:indicators_target_changelist")).status_code == 403
    with pytest.raises(Forbidden):
        services.save_target(actor=officer, target=Target.objects.first())


def test_nav_links_for_officers_and_banks(world, client_for):
    assert reverse("indicators:dashboard") in html(client_for("officer_in").get("/"))
    assert reverse("indicators:institution", args=[world["A"].pk]) in html(client_for("filer_a").get("/"))


@pytest.mark.parametrize(
    "query",
    [
        "scope=province&key=420000&year=2022&month=3&code=nope",
        "scope=galaxy&key=1&year=2022&month=3&code=credit_share",
        "scope=group&key=G9&year=2022&month=3&code=credit_share",
        "scope=institution&key=abc&year=2022&month=3&code=credit_share",
        "scope=province&key=420000&year=x&month=3&code=credit_share",
        "scope=province&key=420000&year=2022&month=13&code=credit_share",
    ],
)
def test_a_malformed_drill_down_is_a_404_not_an_error(world, client_for, query):
    assert client_for("officer_branch").get(reverse("indicators:explain") + "?" + query).status_code == 404


def test_a_month_never_computed_shows_dashes_and_exports(world, client_for):
    client = client_for("officer_branch")
    page = html(client.get(reverse("indicators:dashboard") + "?period=2019-05"))
    assert "该月指标尚未计算" in page
    wb = _workbook(client.get(reverse("indicators:export_institutions") + "?period=2019-05"))
    assert {c.value for c in list(wb["机构指标"].iter_rows(min_row=5))[0][3:]} == {"—"}


# --- the dashboard's cached body (indicators/dashcache.py) ----------------------------------------------------


def dashboard_queries(client, query=MARCH) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        page = html(client.get(reverse("indicators:dashboard") + query))
    return len(captured), page


def body_of(page: str) -> str:
    return page[page.index('<section class="card" id="province-targets">') : page.index("</main>")]


def test_a_jurisdictions_second_request_is_served_from_the_cache(world, client_for):
    first_queries, first = dashboard_queries(client_for("officer_branch"))
    # another officer of the same office: the same body, without computing it again
    colleague = client_for("pboc_admin")
    second_queries, second = dashboard_queries(colleague)
    assert body_of(second) == body_of(first)
    assert second_queries < first_queries - 5, (first_queries, second_queries)
    # the part that is the user's own stays the user's: only the admin gets the refresh button
    assert 'id="refresh-btn"' in second and 'id="refresh-btn"' not in first


def test_a_change_the_body_shows_renews_it(world, client_for, django_capture_on_commit_callbacks):
    client = client_for("officer_branch")
    dashboard_queries(client)
    Institution.objects.filter(pk=world["A"].pk).update(short_name="改名前")  # no signal: not yet shown
    _n, cached = dashboard_queries(client)
    assert "改名前" not in cached
    institution = Institution.objects.get(pk=world["A"].pk)
    institution.short_name = "工行湖北"
    with django_capture_on_commit_callbacks(execute=True):  # renewed when the change commits
        institution.save()
    _n, page = dashboard_queries(client)
    assert "工行湖北" in page
    with django_capture_on_commit_callbacks(execute=True):
        services.record_supervision(
            actor=world["officer_branch"],
            institution=world["A"],
            kind="interview",
            taken_on=date(2022, 4, 20),
            reason="缓存之后记录的约谈",
        )
    _n, page = dashboard_queries(client)
    assert "缓存之后记录的约谈" in page
    from_cache, _page = dashboard_queries(client)
    with django_capture_on_commit_callbacks(execute=True):
        services.refresh_now()
    computed, _page = dashboard_queries(client)
    assert computed > from_cache + 5  # a refresh's stored values are read again


def test_jurisdictions_never_share_a_body(world, client_for):
    everyone = html(client_for("officer_branch").get(reverse("indicators:dashboard") + MARCH))
    assert f'data-institution="{world["B"].pk}"' in everyone
    own = html(client_for("officer_in").get(reverse("indicators:dashboard") + MARCH))
    assert f'data-institution="{world["B"].pk}"' not in own
    assert f'data-institution="{world["A"].pk}"' in own


def test_each_month_indicator_and_language_has_its_own_body(world, client_for):
    client = client_for("officer_branch")
    by_growth = html(client.get(reverse("indicators:dashboard") + MARCH))
    by_share = html(client.get(reverse("indicators:dashboard") + MARCH + "&rank=credit_share"))
    assert body_of(by_growth) != body_of(by_share)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = html(client.get(reverse("indicators:dashboard") + MARCH))
    assert "Rankings within groups" in body_of(english) and "组内排名" not in body_of(english)


def test_live_figures_are_computed_on_every_request(world, client_for):
    client = client_for("officer_branch")
    html(client.get(reverse("indicators:dashboard") + MARCH))  # the stored figures' body, now cached
    html(client.get(reverse("indicators:dashboard") + MARCH + "&live=1"))
    Institution.objects.filter(pk=world["A"].pk).update(short_name="实时试算")  # nothing renews the cache
    assert "实时试算" in html(client.get(reverse("indicators:dashboard") + MARCH + "&live=1"))
    assert "实时试算" not in html(client.get(reverse("indicators:dashboard") + MARCH))


def test_the_dashboard_works_when_the_cache_is_unreachable(world, client_for, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
        }
    }
    page = html(client_for("officer_branch").get(reverse("indicators:dashboard") + MARCH))
    assert 'id="rankings"' in page and "全省目标完成情况" in page


def test_filing_rates_follow_each_submission_and_bulk_writes(
    world, client_for, django_capture_on_commit_callbacks
):
    from reporting import events
    from reporting.models import Filing

    def rates(page: str) -> str:
        return page[page.index('<section id="timeliness">') : page.index('id="timeliness-chart"')]

    client = client_for("officer_branch")
    before = rates(html(client.get(reverse("indicators:dashboard") + MARCH)))
    march = world["periods"][(2022, 3)]
    Filing.objects.filter(institution=world["B"], period=march).update(first_submitted_at=None)
    assert rates(html(client.get(reverse("indicators:dashboard") + MARCH))) == before  # kept: no signal
    # what reporting announces after the versions a bulk import stores with COPY
    with django_capture_on_commit_callbacks(execute=True):
        events.announce(events.filings_changed, sender=Filing, filings=[])
    fewer = rates(html(client.get(reverse("indicators:dashboard") + MARCH)))
    assert fewer != before
    filing = Filing.objects.get(institution=world["B"], period=march)
    filing.first_submitted_at = filing.approved_at
    with django_capture_on_commit_callbacks(execute=True):  # a workflow step saves it and announces it
        filing.save()
        events.announce(events.filings_changed, sender=Filing, filings=[filing.pk])
    assert rates(html(client.get(reverse("indicators:dashboard") + MARCH))) == before
