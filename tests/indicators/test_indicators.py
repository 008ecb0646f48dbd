"""Every indicator against hand-computed values on a small fixture, the aggregates as ratios of sums, and the
refresh that stores them.

The fixture (values in 亿元 / 户 / BP / %):

    ICBC (A, 第1组, national)  2021-03: 余额 80   2021-12: 余额 100  2022-01: 余额 104  2022-03: 余额 110
    HBB  (B, 第3组, local)     2021-12: 余额 50   2022-01: submitted only   2022-02: not filed   2022-03: 余额 60

The fixture is tests/worlds.py's `build_world`, the `world` fixture of tests/conftest.py.
"""

from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from indicators import indicators as ind
from indicators import selectors, services, storage
from indicators.models import LoanPrimeRate, RefreshRun, ScopeKind, Target
from institutions.models import Institution
from reporting.models import Filing, FilingStatus
from tests.worlds import A_2021_12, A_2022_03, SHANGHAI, file_sheet, regional_plan


def stored(scope_kind, key, year, month, code) -> storage.Stored:
    return storage.value(scope_kind, key, year, month, code)


def inst(world, who, year, month, code) -> storage.Stored:
    return stored(ScopeKind.INSTITUTION, world[who].pk, year, month, code)


def province(year, month, code) -> storage.Stored:
    return stored(ScopeKind.PROVINCE, "420000", year, month, code)


# --- one institution, hand-computed --------------------------------------------------------------------------

ICBC_2022_03 = {
    "loan_balance": "110",
    "loan_increase_ytd": "10",  # 110 − 100 (2021-12)
    "loan_growth_ytd": "0.1",  # 10 / 100
    "loan_growth_yoy": "0.375",  # 110 / 80 − 1
    "credit_loan_balance": "24",
    "credit_increase_ytd": "4",  # 24 − 20
    "credit_share": "0.2181818182",  # 24 / 110, stored unrounded (10 decimals)
    "credit_share_change_ytd": "1.8181818182",  # (24/110 − 20/100) × 100
    "new_loans": "30",
    "new_credit_share": "0.3",  # 9 / 30
    "borrowers_increase_ytd": "500",  # 10500 − 10000
    "first_loan_share": "0.2",  # 240 / 1200
    "first_loan_share_change_yoy": "0",  # 0.2 − 200/1000
    "weighted_rate": "4.6",
    "rate_change_ytd": "-20",  # (4.60 − 4.80) × 100
    "rate_change_yoy": "-40",  # (4.60 − 5.00) × 100
    "rate_spread_lpr": "90",  # (4.60 − 3.70 LPR of 2022-03) × 100
    "ftp_discount_bp": "50",
    "ftp_gap_50bp": "0",
    "fee_relief": "0.2",
    "two_increases_borrowers": "1",  # 10500 ≥ 10000
    "plan_increase": "40",  # 24 (武汉) + 16 × 1: the 全省 row is the sum of the regions
    "plan_completion": "0.25",  # 10 / 40
    "quarter_increase": "10",  # 110 − 100 (上季末 = 2021-12)
    "quarter_plan": "10",  # Q1 uses 一季度实际新增额
    "quarter_plan_completion": "1",
    "first_loan_subsidy": "15",  # 3亿元 × 0.5‰ = 0.0015亿元 = 15万元
}


def test_each_indicator_of_one_institution_matches_the_hand_computed_value(world):
    got = {
        s.code: s.value
        for s in storage.values(
            scope_kind=ScopeKind.INSTITUTION, scope_key=str(world["A"].pk), year=2022, month=3
        )
    }
    assert {code: got.get(code) for code in ICBC_2022_03} == {k: Decimal(v) for k, v in ICBC_2022_03.items()}
    assert set(got) == set(ind.CODES)  # every indicator was stored for the month


def test_the_registry_has_one_definition_per_code_with_label_unit_and_formula():
    assert len(ind.CODES) == len(set(ind.CODES)) == len(ind.INDICATORS)
    for indicator in ind.INDICATORS:
        assert indicator.label and indicator.formula and indicator.group in ind.GROUPS
        assert indicator.test or indicator.unit in {"亿元", "户", "%", "BP", "个百分点", "万元"}


def test_year_start_is_the_previous_december_not_january(world):
    # 2022-03 against 2021-12 (100), not against 2022-01 (104) nor 2021-03 (80)
    assert inst(world, "A", 2022, 3, "loan_increase_ytd").value == Decimal("10")
    assert inst(world, "A", 2022, 1, "loan_increase_ytd").value == Decimal("4")


def test_january_restarts_the_year_to_date_flows(world):
    """January's 新发放 figures are January's alone (10, not 90 + 10), and its ratios use them."""
    assert inst(world, "A", 2022, 1, "new_loans").value == Decimal("10")
    assert inst(world, "A", 2022, 1, "new_credit_share").value == Decimal("0.4")  # 4 / 10
    assert inst(world, "A", 2022, 1, "first_loan_subsidy").value == Decimal("5")  # 1亿元 × 0.5‰
    assert inst(world, "A", 2022, 1, "quarter_increase").value == Decimal("4")  # 104 − 100


def test_yoy_without_a_year_earlier_sheet_is_undefined_with_the_reason(world):
    value = inst(world, "B", 2022, 3, "loan_growth_yoy")
    assert value.value is None
    assert value.reason == "2021年3月（上年同期）监测表未报送"


def test_increase_vs_last_year_needs_the_december_two_years_back(world):
    value = inst(world, "A", 2022, 3, "loan_increase_yoy")
    assert (
        value.value is None and value.reason == "2020年12月（上年年初）早于机构纳入专项行动的月份，没有监测表"
    )


def test_an_unapproved_sheet_is_not_used_and_says_so(world):
    value = inst(world, "B", 2022, 1, "loan_balance")
    assert value.value is None
    assert value.reason == "2022年1月监测表状态为“已提交”，尚未审核通过"


def test_a_missing_month_is_undefined_with_the_reason(world):
    value = inst(world, "B", 2022, 2, "credit_share")
    assert (value.value, value.reason) == (None, "2022年2月监测表未报送")


def test_a_zero_denominator_is_undefined_never_zero(world):
    ccb = Institution.objects.get(code="CCB")
    p = world["periods"]
    file_sheet(ccb, p[(2021, 12)], {**A_2021_12, "loan_balance": "0", "credit_loan_balance": "0"})
    file_sheet(
        ccb, p[(2022, 3)], {**A_2022_03, "new_borrowers": "0", "first_loan_borrowers": "0", "new_loans": "0"}
    )
    services.refresh_now()
    share = stored(ScopeKind.INSTITUTION, ccb.pk, 2022, 3, "first_loan_share")
    assert (share.value, share.reason) == (None, "分母为零，比率无定义")
    growth = stored(ScopeKind.INSTITUTION, ccb.pk, 2022, 3, "loan_growth_ytd")
    assert growth.value is None and growth.reason == "分母为零，比率无定义"
    assert stored(ScopeKind.INSTITUTION, ccb.pk, 2022, 3, "loan_increase_ytd").value == Decimal("110")
    rate = stored(ScopeKind.INSTITUTION, ccb.pk, 2022, 3, "weighted_rate")
    assert (rate.value, rate.reason) == (None, "新发放金额为零，无法作为利率权重")


def test_an_institution_that_joined_mid_year_has_no_year_start(world):
    cmb = Institution.objects.get(code="CMB")
    cmb.active_from = date(2022, 2, 1)
    cmb.save(update_fields=["active_from"])
    file_sheet(cmb, world["periods"][(2022, 3)], A_2022_03)
    services.refresh_now()
    value = stored(ScopeKind.INSTITUTION, cmb.pk, 2022, 3, "loan_increase_ytd")
    assert value.value is None
    assert value.reason == "2021年12月（年初）早于机构纳入专项行动的月份，没有监测表"
    assert stored(ScopeKind.INSTITUTION, cmb.pk, 2022, 3, "loan_balance").value == Decimal("110")
    # not expected before it joined: no January row at all
    assert not storage.values(scope_key=str(cmb.pk), year=2022, month=1)


def test_two_increases_shows_the_half_the_2022_edition_can_test(world):
    growth = inst(world, "A", 2022, 3, "two_increases_growth")
    assert growth.value is None
    assert growth.reason == "2022年3月：2022年版监测表无此项（“各项贷款余额”）"
    assert inst(world, "A", 2022, 3, "two_increases_borrowers").value == Decimal("1")
    assert ind.get("two_increases_borrowers").text(Decimal("1")) == "达标"


def test_ewr_reward_is_for_local_banks_only(world):
    icbc = inst(world, "A", 2022, 3, "ewr_reward")
    assert icbc.value is None and icbc.reason == "鄂微融奖励仅适用于地方法人银行"
    assert inst(world, "B", 2022, 3, "ewr_reward").value == Decimal("1000")  # (60 − 50) × 1% = 0.1亿元
    g1 = stored(ScopeKind.GROUP, "G1", 2022, 3, "ewr_reward")
    assert g1.value is None and g1.reason.startswith("范围内没有适用的机构")
    whole = province(2022, 3, "ewr_reward")
    assert (whole.value, whole.contributors, whole.members) == (Decimal("1000"), 1, 5)


def test_plan_completion_reads_the_approved_plan_and_explains_a_missing_one(world):
    hbb = inst(world, "B", 2022, 3, "plan_completion")
    assert hbb.value is None
    assert hbb.reason == "2022年附件3投放计划状态为“已提交”，尚未审核通过"
    ccb = stored(ScopeKind.INSTITUTION, Institution.objects.get(code="CCB").pk, 2022, 3, "plan_increase")
    assert (ccb.value, ccb.reason) == (None, "2022年附件3投放计划未报送")


def test_plan_total_reads_a_stored_province_row_or_sums_every_region():
    assert selectors._plan_total({"420000.planned_increase": "55.5"}, 2022, "planned_increase") == 55.5
    values = regional_plan({"420100": "24"}, "planned_increase")
    assert selectors._plan_total(values, 2022, "planned_increase") == 40.0
    values.pop("420200.planned_increase")
    assert np.isnan(selectors._plan_total(values, 2022, "planned_increase"))
    assert np.isnan(selectors._plan_total({"420100.planned_increase": "oops"}, 2022, "planned_increase"))


def test_spread_needs_the_month_lpr(world):
    LoanPrimeRate.objects.filter(year=2022, month=3).delete()
    services.refresh_now()
    value = inst(world, "A", 2022, 3, "rate_spread_lpr")
    assert value.value is None and value.reason.startswith("未维护2022年3月一年期LPR")


# --- aggregates: sums first, ratios after -------------------------------------------------------------------


def test_province_ratios_are_ratios_of_sums_not_averages_of_ratios(world):
    growth = province(2022, 3, "loan_growth_ytd")
    assert growth.value == Decimal("0.1333333333")  # (110 + 60 − 100 − 50) / (100 + 50)
    assert growth.value != (Decimal("0.1") + Decimal("0.2")) / 2  # the average of the two ratios
    assert (growth.contributors, growth.members) == (2, 24)
    assert province(2022, 3, "credit_share").value == Decimal("0.1941176471")  # 33 / 170
    assert province(2022, 3, "weighted_rate").value == Decimal("4.8")  # (4.6×30 + 5.2×15) / 45
    assert province(2022, 3, "ftp_discount_bp").value == Decimal("35.8823529412")  # (50×110 + 10×60) / 170
    assert province(2022, 3, "rate_spread_lpr").value == Decimal("110")  # (4.8 − 3.7) × 100
    assert province(2022, 3, "loan_increase_ytd").value == Decimal("20")


def test_groups_and_kinds_aggregate_their_own_members(world):
    assert stored(ScopeKind.GROUP, "G1", 2022, 3, "loan_growth_ytd").value == Decimal("0.1")
    assert stored(ScopeKind.GROUP, "G3", 2022, 3, "loan_growth_ytd").value == Decimal("0.2")
    city = stored(ScopeKind.KIND, "city_commercial", 2022, 3, "credit_share")
    assert city.value == Decimal("0.15")  # HBB alone: 9 / 60
    g2 = stored(ScopeKind.GROUP, "G2", 2022, 3, "loan_balance")
    assert g2.value is None and g2.reason.startswith("范围内14家机构均无法计算")


def test_a_member_without_a_year_start_is_left_out_of_the_aggregate(world):
    """January: HBB's sheet is only submitted, so the province is ICBC alone (a matched panel)."""
    value = province(2022, 1, "loan_growth_ytd")
    assert value.value == Decimal("0.04")  # 4 / 100, HBB left out of both sums
    assert value.contributors == 1


def test_aggregate_with_a_zero_summed_denominator_says_so():
    frame = _tiny_inputs(new_borrowers=[0.0, 0.0], first_loan_borrowers=[0.0, 0.0])
    result = ind.compute(frame, codes=("first_loan_share",), scopes=("province",))
    row = result.aggregates.iloc[0]
    assert np.isnan(row["value"]) and row["reason"] == "合计口径分母为零，比率无定义"


# --- the engine without the database -------------------------------------------------------------------------


def _tiny_inputs(**overrides) -> ind.Inputs:
    """Two institutions, one month (2022-03), all their sheets approved."""
    sheets = pd.DataFrame(
        {
            "institution_id": [1, 2, 1, 2],
            "year": [2021, 2021, 2022, 2022],
            "month": [12, 12, 3, 3],
            "status": "approved",
            "usable": True,
            "provisional": False,
            "edition": "2022",
            "filing_id": [1, 2, 3, 4],
            "period_id": [1, 1, 2, 2],
            "version": 1,
            **{f: [1.0, 1.0, 1.0, 1.0] for f in ind.SHEET_FIELDS},
        }
    )
    for field, values in overrides.items():
        sheets.loc[sheets["year"] == 2022, field] = values
    institutions = pd.DataFrame(
        {
            "id": [1, 2],
            "short_name": ["甲", "乙"],
            "group": ["G1", "G1"],
            "kind": ["large_state", "large_state"],
            "local": [False, False],
            "active_from": [date(2021, 1, 1)] * 2,
            "active_to": [None, None],
        }
    )
    return ind.Inputs(sheets=sheets, institutions=institutions, months=[(2022, 3)], lpr={(2022, 3): 3.7})


def test_submitted_sheets_count_only_when_asked_and_are_marked_provisional(world):
    table = selectors.live_table({2022})
    cell = table.get("institution", world["B"].pk, 2022, 1, "loan_balance")
    assert (cell.value, cell.provisional) == (Decimal("50"), True)
    assert table.get("institution", world["A"].pk, 2022, 1, "loan_balance").provisional is False
    whole = table.get("province", "420000", 2022, 1, "loan_growth_ytd")
    assert whole.provisional and whole.contributors == 2
    # nothing of it was stored
    assert inst(world, "B", 2022, 1, "loan_balance").value is None


def test_rounding_is_half_up_and_the_same_for_screen_and_export():
    share = ind.get("credit_share")
    assert share.rounded(Decimal("0.123450")) == Decimal("0.1235")
    assert share.text(Decimal("0.123450")) == "12.35%"
    amount = ind.get("loan_increase_ytd")
    assert amount.text(Decimal("1234.565")) == "1,234.57"
    assert amount.text(Decimal("-0.001")) == "0.00"
    assert amount.text(None) == "—"
    assert ind.get("borrowers").text(Decimal("1700000"), with_unit=True) == "1,700,000户"


def test_target_check_progress_and_time_progress():
    check = ind.check_target(
        indicator=ind.get("loan_increase_ytd"),
        comparator="gte",
        basis="fixed",
        actual=Decimal("850"),
        reference=Decimal("1700"),
        month=6,
    )
    assert (check.progress, check.time_progress, check.met) == (Decimal("0.5"), Decimal("0.5"), False)
    assert check.bar == 50 and check.time_bar == 50
    above = ind.check_target(
        indicator=ind.get("credit_share"),
        comparator="gt",
        basis="year_start",
        actual=Decimal("0.2"),
        reference=Decimal("0.2"),
        month=6,
    )
    assert above.met is False and above.progress is None  # equal is not "higher than last year"
    missing = ind.check_target(
        indicator=ind.get("credit_share"),
        comparator="gt",
        basis="last_year",
        actual=Decimal("0.2"),
        reference=None,
        month=6,
        reference_reason="2021年6月监测表未报送",
    )
    assert missing.met is None and missing.reason == "2021年6月监测表未报送"


def test_institution_targets_use_last_year_year_start_and_the_plan(world):
    table = selectors.ValueTable.stored(selectors.Q(year__in=[2021, 2022]))
    targets = {(t.indicator, t.basis): t for t in selectors.targets_for(2022)}
    credit = selectors.check(
        table, targets[("credit_share", "year_start")], "institution", world["A"].pk, 2022, 3
    )
    assert credit.reference == Decimal("0.2") and credit.met is True  # 21.82% > 20.00% at 年初
    plan = selectors.check(
        table, targets[("loan_increase_ytd", "plan")], "institution", world["A"].pk, 2022, 3
    )
    assert (plan.reference, plan.progress, plan.met) == (Decimal("40"), Decimal("0.25"), False)
    first = selectors.check(
        table, targets[("first_loan_share", "last_year")], "institution", world["A"].pk, 2022, 3
    )
    assert first.met is False  # 20% is not higher than 20% a year earlier
    whole = selectors.check(table, targets[("loan_increase_ytd", "fixed")], "province", "420000", 2022, 3)
    assert whole.reference == Decimal("1700") and whole.progress == Decimal("0.0118")  # 20 / 1700


def test_met_is_the_checks_verdict_without_the_rest_of_the_check(world):
    """selectors.met (the dashboard counts missed targets with it) says what check(…).met says: for every
    stored value of the world, and for ties at the shown decimals, half-up rounding, partial and missing
    figures."""
    stored = selectors.ValueTable.stored(selectors.Q(year__in=[2021, 2022]))
    targets = selectors.targets_for(2022)
    scopes = {(k[0], k[1]) for k in stored.keys()}
    compared = 0
    for target in targets:
        for kind, key in scopes:
            for month in range(1, 13):
                expected = selectors.check(stored, target, kind, key, 2022, month).met
                assert selectors.met(stored, target, kind, key, 2022, month) is expected, (target, kind, key)
                compared += 1
    assert compared > 100
    V = selectors.Value
    figures = [
        (V(Decimal("0.123449")), V(Decimal("0.1234"))),  # the same at the shown 12.34%
        (V(Decimal("0.12345")), V(Decimal("0.1235"))),  # 12.345% is shown 12.35%: half up
        (V(Decimal("0.1234")), V(Decimal("0.12345"))),
        (V(Decimal("40")), V(Decimal("40.004"))),
        (V(Decimal("40.005")), V(Decimal("40"))),
        (V(Decimal("40")), V(Decimal("40.01"))),  # a quantum apart
        (V(Decimal("40.01")), V(Decimal("40"))),
        (V(Decimal("-40.005")), V(Decimal("-40"))),  # half away from zero
        (V(Decimal("-40")), V(Decimal("-40.005"))),
        (V(Decimal("-0.00005")), V(Decimal("0"))),
        (V(Decimal("0")), V(Decimal("-0.00005"))),
        (V(Decimal("55"), contributors=1, members=2), V(Decimal("40"))),  # part of the members: pending
        (V(Decimal("55")), V(Decimal("40"), contributors=2, members=3)),
        (V(None, "未报送"), V(Decimal("40"))),
        (V(Decimal("55")), V(None, "未报送")),
    ]
    for target in targets:
        for actual, reference in figures:
            code, key = target.indicator, "1"
            rows = {
                ("institution", key, 2022, 6, code): actual,
                ("institution", key, 2021, 6, code): reference,
                ("institution", key, 2021, 12, code): reference,
                ("institution", key, 2022, 6, "plan_increase"): reference,
            }
            table = selectors.ValueTable(rows)
            expected = selectors.check(table, target, "institution", key, 2022, 6).met
            assert selectors.met(table, target, "institution", key, 2022, 6) is expected, (
                target,
                actual,
                reference,
            )


# --- refresh -------------------------------------------------------------------------------------------------


def test_refresh_replaces_a_years_values_without_duplicates(world):
    before = len(storage.values(year=2022))
    run = services.refresh_now(years=(2022, 2022))
    assert len(storage.values(year=2022)) == before
    assert run.row_count == before and run.latest_approval_at is not None
    assert run.approved_count == Filing.objects.filter(status=FilingStatus.APPROVED).count()


def test_approving_a_sheet_refreshes_the_indicators(world, settings, django_capture_on_commit_callbacks):
    from reporting import services as reporting

    settings.CELERY_TASK_ALWAYS_EAGER = True
    filing = Filing.objects.get(institution=world["B"], period=world["periods"][(2022, 1)])
    with django_capture_on_commit_callbacks(execute=True):
        reporting.approve(filing=filing, actor=world["officer_branch"])
    run = RefreshRun.objects.filter(trigger=RefreshRun.Trigger.APPROVAL).get()
    assert (run.status, run.filing_id, run.first_year) == (RefreshRun.Status.DONE, filing.pk, 2022)
    assert inst(world, "B", 2022, 1, "loan_balance").value == Decimal("50")


def test_reopening_an_approved_sheet_refreshes_too(world, settings, django_capture_on_commit_callbacks):
    from reporting import services as reporting

    settings.CELERY_TASK_ALWAYS_EAGER = True
    filing = Filing.objects.get(institution=world["A"], period=world["periods"][(2022, 3)])
    with django_capture_on_commit_callbacks(execute=True):
        reporting.reopen(filing=filing, actor=world["officer_branch"], reason="余额口径有误")
    assert RefreshRun.objects.filter(trigger=RefreshRun.Trigger.APPROVAL, status="done").exists()
    assert inst(world, "A", 2022, 3, "loan_balance").value is None


def test_a_run_superseded_by_a_later_one_is_merged(world):
    early = RefreshRun.objects.create(trigger=RefreshRun.Trigger.APPROVAL, first_year=2022, last_year=2022)
    services.refresh_now(years=(2021, 2022))
    merged = services.refresh(run=early)
    assert merged.status == RefreshRun.Status.SKIPPED and "一并刷新" in merged.error


def test_the_beats_freshness_check_queues_one_refresh_of_stale_data(world):
    from indicators import tasks

    assert tasks.check_fresh() is None  # fresh: nothing to do
    Filing.objects.filter(institution=world["B"], period=world["periods"][(2022, 1)]).update(
        status=FilingStatus.APPROVED, approved_at=datetime(2023, 2, 1, tzinfo=SHANGHAI)
    )
    RefreshRun.objects.update(created_at=datetime(2023, 1, 1, tzinfo=SHANGHAI))
    as_of = selectors.as_of(2022)
    assert as_of.stale
    run = RefreshRun.objects.filter(pk=tasks.check_fresh()).first()
    assert run is not None and run.trigger == RefreshRun.Trigger.STALE
    assert tasks.check_fresh() is None  # already queued


def test_the_dashboard_only_reads_the_freshness_the_beat_keeps(world, client_for):
    Filing.objects.filter(institution=world["B"], period=world["periods"][(2022, 1)]).update(
        status=FilingStatus.APPROVED, approved_at=datetime(2023, 2, 1, tzinfo=SHANGHAI)
    )
    RefreshRun.objects.update(created_at=datetime(2023, 1, 1, tzinfo=SHANGHAI))
    from django.urls import reverse

    runs = RefreshRun.objects.count()
    page = client_for("officer_branch").get(reverse("indicators:dashboard") + "?period=2022-03")
    assert page.status_code == 200 and "数据截至" in page.content.decode()
    assert RefreshRun.objects.count() == runs  # a GET queues nothing


def test_the_beat_checks_freshness_every_minute(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "indicators.check_fresh")
    assert entry["schedule"] <= 60


def test_reference_data_loads_the_lpr_and_the_2022_targets_once(db):
    services.load_reference_data()
    again = services.load_reference_data()
    assert again == {"lpr": 0, "targets": 0}
    assert LoanPrimeRate.objects.get(year=2022, month=8).rate == Decimal("3.65")
    assert LoanPrimeRate.objects.count() == 36
    province_targets = Target.objects.filter(year=2022, scope="province")
    assert {t.indicator: t.value for t in province_targets} == {
        "loan_increase_ytd": Decimal("1700"),
        "loan_growth_ytd": Decimal("0.3"),
        "borrowers_increase_ytd": Decimal("200000"),
        "first_loan_borrowers": Decimal("150000"),
        "first_loan_amount": Decimal("1500"),
        "credit_increase_ytd": Decimal("400"),
        "new_credit_share": Decimal("0.3"),
    }
    assert Target.objects.filter(year=2022, scope="institution").count() == 5


def test_timeliness_from_first_submission_against_the_due_date(world):
    march = world["periods"][(2022, 3)]
    Filing.objects.filter(institution=world["B"], period=march).update(
        first_submitted_at=datetime(2022, 4, 16, 9, tzinfo=SHANGHAI)
    )
    rows = {r["period"].month: r for r in selectors.timeliness(world["officer_branch"], 2022)}
    assert (rows[3]["expected"], rows[3]["reported"], rows[3]["on_time"]) == (24, 2, 1)
    assert rows[3]["reporting_rate"] == Decimal("0.0833333333")
    assert rows[2]["reported"] == 0 and rows[2]["reporting_rate"] == Decimal("0")


@pytest.mark.parametrize(
    ("submitted", "on_time"),
    [
        (datetime(2022, 4, 15, 23, 59, tzinfo=SHANGHAI), 2),  # 15:59 UTC: still the due day in Wuhan
        (datetime(2022, 4, 16, 0, 1, tzinfo=SHANGHAI), 1),  # 16:01 UTC on the 15th, but the 16th in Wuhan
    ],
)
def test_the_due_day_is_the_shanghai_calendar_day(world, submitted, on_time):
    march = world["periods"][(2022, 3)]
    Filing.objects.filter(institution=world["B"], period=march).update(first_submitted_at=submitted)
    rows = {r["period"].month: r for r in selectors.timeliness(world["officer_branch"], 2022)}
    assert (rows[3]["reported"], rows[3]["on_time"]) == (2, on_time)


def test_an_institution_closed_before_the_month_end_is_not_expected_nor_counted(world):
    march = world["periods"][(2022, 3)]
    Institution.objects.filter(pk=world["B"].pk).update(active_to=date(2022, 3, 30))
    rows = {r["period"].month: r for r in selectors.timeliness(world["officer_branch"], 2022)}
    assert (rows[3]["expected"], rows[3]["reported"]) == (23, 1)
    assert rows[2]["expected"] == 24  # it was active at the end of February
    assert march.ends_on == date(2022, 3, 31)
