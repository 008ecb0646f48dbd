"""The refresh after one approval recomputes only what that sheet reaches — its institution's rows and its
group's, kind's and the province's, for its month and the months whose 年初 / 上年同期 / 上年年初 / 上季末 read
it — and stores exactly what a full refresh from scratch stores."""

import pytest

from indicators import indicators as ind
from indicators import services, storage
from indicators.models import IndicatorMonth, RefreshRun
from institutions.models import Institution
from reporting import services as reporting
from reporting.models import Filing, FilingStatus, Form
from tests.factories import periods
from tests.worlds import A_2021_12, A_2022_03, B_2022_03, file_sheet, from_scratch, plan_period, snapshot


def test_a_december_reaches_the_next_two_years_and_a_quarters_end_the_next_quarter():
    months = [ind.month_index(y, m) for y in (2021, 2022, 2023) for m in range(1, 13)]
    december = services.affected_months(ind.month_index(2021, 12), months)
    assert [ind.period_of(t) for t in december] == [(2021, 12)] + [
        (y, m) for y in (2022, 2023) for m in range(1, 13)
    ]
    june = services.affected_months(ind.month_index(2022, 6), months)
    assert [ind.period_of(t) for t in june] == [(2022, 6), (2022, 7), (2022, 8), (2022, 9), (2023, 6)]
    may = services.affected_months(ind.month_index(2022, 5), months)
    assert [ind.period_of(t) for t in may] == [(2022, 5), (2023, 5)]


@pytest.fixture
def pending(world):
    """Beside the world's sheets: 2023's first quarter open with ICBC's January approved, sheets awaiting
    review — ICBC's December (the next year's 年初), HBB's June (a quarter's end), CMB's March (the first of
    第2组 and 股份制银行)."""
    p = periods(first=(2021, 1), last=(2023, 3))
    cmb = Institution.objects.get(code="CMB")
    file_sheet(world["A"], p[(2023, 1)], A_2022_03)
    return {
        "a_december": file_sheet(world["A"], p[(2022, 12)], A_2021_12, status=FilingStatus.SUBMITTED),
        "b_june": file_sheet(world["B"], p[(2022, 6)], B_2022_03, status=FilingStatus.SUBMITTED),
        "cmb_march": file_sheet(cmb, p[(2022, 3)], A_2022_03, status=FilingStatus.SUBMITTED),
        "b_january": Filing.objects.get(institution=world["B"], period=p[(2022, 1)]),
        "b_plan": Filing.objects.get(institution=world["B"], period=plan_period(2022)),
        "a_march": Filing.objects.get(institution=world["A"], period=p[(2022, 3)]),
    }


def test_approvals_one_by_one_store_what_a_full_refresh_stores(
    world, pending, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    services.refresh_now()
    full_rows = IndicatorMonth.objects.count()
    officer = world["officer_branch"]
    steps = [
        ("b_january", reporting.approve, {}),
        ("b_plan", reporting.approve, {}),
        ("cmb_march", reporting.approve, {}),
        ("a_december", reporting.approve, {}),
        ("b_june", reporting.approve, {}),
        ("a_march", reporting.reopen, {"reason": "余额口径有误"}),
    ]
    for name, transition, extra in steps:
        filing = pending[name]
        with django_capture_on_commit_callbacks(execute=True):
            transition(filing=filing, actor=officer, **extra)
        run = RefreshRun.objects.filter(trigger=RefreshRun.Trigger.APPROVAL).order_by("-id").first()
        form, year = filing.period.form, filing.period.year
        month = filing.period.month if form == Form.MONITORING else 0
        assert run.changes == [[filing.institution_id, form, year, month]], name
        assert run.status == RefreshRun.Status.DONE, (name, run.error)
        assert 0 < run.row_count < full_rows * len(ind.CODES), name  # part of the rows, not all of them
        assert snapshot() == from_scratch(), name
        keys = list(IndicatorMonth.objects.values_list("scope_kind", "scope_key", "year", "month"))
        assert len(keys) == len(set(keys)), name  # every key it wrote it deleted first

    # the December reached the next year's 年初: ICBC's January 2023 比年初 is 110 − 100
    january = storage.value("institution", world["A"].pk, 2023, 1, "loan_increase_ytd")
    assert january.value == ind.to_decimal(
        float(A_2022_03["loan_balance"]) - float(A_2021_12["loan_balance"])
    )
    cmb = storage.value("group", "G2", 2022, 3, "loan_balance")
    assert cmb.value == ind.to_decimal(float(A_2022_03["loan_balance"])) and cmb.contributors == 1


def test_a_run_after_a_full_one_requested_later_is_still_merged_but_not_after_an_incremental(world):
    early = RefreshRun.objects.create(
        trigger=RefreshRun.Trigger.APPROVAL,
        first_year=2022,
        last_year=2022,
        changes=[[world["A"].pk, Form.MONITORING, 2022, 3]],
    )
    incremental = RefreshRun.objects.create(
        trigger=RefreshRun.Trigger.APPROVAL,
        first_year=2022,
        last_year=2022,
        changes=[[world["B"].pk, Form.MONITORING, 2022, 3]],
    )
    assert services.refresh(run=incremental).status == RefreshRun.Status.DONE
    assert (
        services.refresh(run=early).status == RefreshRun.Status.DONE
    )  # an incremental covers its own sheets
    later = RefreshRun.objects.create(
        trigger=RefreshRun.Trigger.APPROVAL,
        first_year=2022,
        last_year=2022,
        changes=[[world["A"].pk, Form.MONITORING, 2022, 1]],
    )
    services.refresh_now()
    merged = services.refresh(run=later)
    assert merged.status == RefreshRun.Status.SKIPPED and "一并刷新" in merged.error
