"""The refresh's two fast paths store exactly what a refresh from scratch stores: a refresh of every year swaps
a freshly written table in for the stored one (`storage.replace_all`), and an incremental refresh explains only
the changed institutions' rows (`indicators.compute(explained=…)`) — across any sequence of approvals,
reopenings and corrections."""

import random
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from indicators import services
from indicators.models import IndicatorMonth, RefreshRun
from reporting.models import Filing, FilingStatus, FilingVersion, Form
from tests.indicators.test_indicators_incremental import from_scratch, snapshot


def _table_shape() -> dict:
    table = IndicatorMonth._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        indexes = {r[0] for r in cursor.fetchall()}
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass", [table])
        constraints = {r[0] for r in cursor.fetchall()}
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE %s", [f"{table}_next%"])
        leftovers = cursor.fetchone()[0]
    return {"indexes": indexes, "constraints": constraints, "sequence": sequence, "leftovers": leftovers}


def test_a_full_refresh_swaps_in_a_table_named_indexed_and_constrained_as_the_migrations_made_it(world):
    before = _table_shape()
    assert "indicator_month_idx" in before["indexes"] and "indicator_month_month" in before["constraints"]
    stored = snapshot()
    run = services.refresh_now()
    assert run.status == RefreshRun.Status.DONE and run.row_count
    assert snapshot() == stored
    assert _table_shape() == {**before, "leftovers": 0}
    keys = list(IndicatorMonth.objects.values_list("scope_kind", "scope_key", "year", "month"))
    assert len(keys) == len(set(keys))
    # a refresh of one year replaces that year's rows only: the other year's stay as they were
    rows_2021 = set(IndicatorMonth.objects.filter(year=2021).values_list("pk", flat=True))
    assert services.refresh_now(years=(2022, 2022)).status == RefreshRun.Status.DONE
    assert set(IndicatorMonth.objects.filter(year=2021).values_list("pk", flat=True)) == rows_2021
    assert snapshot() == stored
    # a new row after the swap gets an id of the new table's sequence
    IndicatorMonth.objects.create(
        scope_kind="province", scope_key="x", year=2030, month=1, layout_key="x", values=b"", notes_id=0
    )


def _approve(filing: Filing) -> None:
    filing.status = FilingStatus.APPROVED
    filing.approved_at = timezone.now() + timedelta(seconds=filing.pk)
    filing.save(update_fields=["status", "approved_at"])


def _reopen(filing: Filing) -> None:
    filing.status = FilingStatus.RETURNED
    filing.save(update_fields=["status"])


def _correct(filing: Filing, rng: random.Random) -> None:
    """A new version with other figures (an empty field among them now and then), approved."""
    current = filing.current_version
    values = dict(current.values) if isinstance(current.values, dict) else {}
    for code in list(values):
        try:
            number = float(values[code])
        except (TypeError, ValueError):
            continue
        values[code] = "" if rng.random() < 0.1 else f"{number * rng.uniform(0.5, 1.5):.2f}"
    version = FilingVersion.objects.create(
        filing=filing,
        number=current.number + 1,
        edition=current.edition,
        values=values,
        source=current.source,
    )
    filing.current_version = version
    filing.save(update_fields=["current_version"])
    _approve(filing)


def test_incremental_refreshes_after_random_approvals_reopenings_and_corrections_equal_a_full_one(world):
    rng = random.Random(13)
    filings = list(
        Filing.objects.exclude(current_version=None)
        .select_related("period", "current_version")
        .order_by("pk")
    )
    assert any(f.period.form == Form.PLAN for f in filings)
    for step in range(10):
        filing = rng.choice(filings)
        action = rng.choice(["approve", "reopen", "correct"])
        if action == "approve":
            _approve(filing)
        elif action == "reopen":
            _reopen(filing)
        else:
            _correct(filing, rng)
        form, year = filing.period.form, filing.period.year
        month = filing.period.month if form == Form.MONITORING else 0
        run = RefreshRun.objects.create(
            trigger=RefreshRun.Trigger.APPROVAL,
            first_year=year,
            last_year=year if form == Form.PLAN else year + 2,
            filing=filing,
            changes=[[filing.institution_id, form, year, month]],
        )
        run = services.refresh(run=run)
        assert run.status == RefreshRun.Status.DONE, (step, action, run.error)
        assert snapshot() == from_scratch(), (step, action, filing.period)
