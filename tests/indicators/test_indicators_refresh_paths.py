"""A refresh stores exactly what a refresh from scratch stores: a refresh of every year (or of some years)
replaces those years' rows in the table the migrations made — by deleting and writing rows only, which the
portal's role, owning no table, may do (`storage.replace_all`) — and an incremental refresh explains only the
changed institutions' rows (`indicators.compute(explained=…)`) — across any sequence of approvals, reopenings
and corrections."""

import random
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from indicators import services
from indicators.models import IndicatorMonth, RefreshRun
from reporting.models import Filing, FilingStatus, FilingVersion, Form
from tests.worlds import from_scratch, snapshot


def _table_shape() -> dict:
    table = IndicatorMonth._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        indexes = {r[0] for r in cursor.fetchall()}
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass", [table])
        constraints = {r[0] for r in cursor.fetchall()}
        cursor.execute("SELECT %s::regclass::oid", [table])
        oid = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_class WHERE relname LIKE %s", ["indicator_month_next%"])
        leftovers = cursor.fetchone()[0]
    return {"indexes": indexes, "constraints": constraints, "oid": oid, "leftovers": leftovers}


def _rows() -> dict:
    """{key: (id, where the row version lies, its content)}: an UPDATE writes a new version elsewhere (ctid)."""
    table = IndicatorMonth._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT scope_kind, scope_key, year, month, id, ctid::text, layout_key, values, notes_id FROM {table}"
        )
        rows = {r[:4]: (r[4], r[5], (r[6], bytes(r[7]), r[8])) for r in cursor.fetchall()}
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == len(rows)  # one row per key
    return rows


def _contents(rows: dict) -> dict:
    return {k: v[2] for k, v in rows.items()}


def test_a_full_refresh_replaces_the_rows_of_the_table_the_migrations_made(world):
    before = _table_shape()
    assert "indicator_month_idx" in before["indexes"] and "indicator_month_month" in before["constraints"]
    stored, rows = snapshot(), _rows()
    # over unchanged data: the same content, one row per key, in the same table with its indexes
    run = services.refresh_now()
    assert run.status == RefreshRun.Status.DONE and run.row_count
    assert snapshot() == stored and _contents(_rows()) == _contents(rows)
    assert _table_shape() == {**before, "leftovers": 0}
    # a corrected sheet (ICBC's 2022年3月): what changes is the institution's rows and its aggregates
    filing = Filing.objects.get(institution=world["A"], period=world["periods"][(2022, 3)])
    version = filing.current_version
    filing.current_version = FilingVersion.objects.create(
        filing=filing,
        number=version.number + 1,
        edition=version.edition,
        values={**version.values, "loan_balance": "120"},
        source=version.source,
    )
    filing.save(update_fields=["current_version"])
    assert services.refresh_now().status == RefreshRun.Status.DONE
    after = _rows()
    assert after.keys() == rows.keys()
    changed = {k for k in rows if after[k][2] != rows[k][2]}
    assert changed and all(k[0] != "institution" or k[1] == str(world["A"].pk) for k in changed)
    assert snapshot() == from_scratch() != stored
    # a refresh of one year replaces that year's rows only: the other year's stay as they were
    rows_2021 = {k: v for k, v in after.items() if k[2] == 2021}
    assert services.refresh_now(years=(2022, 2022)).status == RefreshRun.Status.DONE
    assert {k: v for k, v in _rows().items() if k[2] == 2021} == rows_2021
    assert _contents(_rows()) == _contents(after)
    assert _table_shape() == {**before, "leftovers": 0}


def test_stored_rows_the_refresh_no_longer_makes_go_and_missing_ones_come_back(world):
    stored, rows = snapshot(), _rows()
    gone = next(k for k in rows if k[0] == "province")
    IndicatorMonth.objects.filter(scope_kind=gone[0], scope_key=gone[1], year=gone[2], month=gone[3]).delete()
    IndicatorMonth.objects.create(
        scope_kind="institution",
        scope_key="999999",
        year=2022,
        month=5,
        layout_key="x",
        values=b"",
        notes_id=0,
    )
    assert services.refresh_now().status == RefreshRun.Status.DONE
    assert snapshot() == stored
    after = _rows()
    assert after.keys() == rows.keys() and _contents(after) == _contents(rows)


@contextmanager
def _connected_as(role):
    """Django's connection logged in as `role` (a URL's parts) inside the block, as the portal's processes are."""
    settings = connection.settings_dict
    saved = {k: settings[k] for k in ("USER", "PASSWORD")}
    connection.close()
    settings.update(USER=role.username, PASSWORD=role.password)
    try:
        yield
    finally:
        connection.close()
        settings.update(saved)


def test_the_portals_role_refreshes_as_the_owner_does(app_role, world):
    owners = _rows()
    IndicatorMonth.objects.filter(scope_kind="province", year=2022, month=3).delete()
    IndicatorMonth.objects.filter(scope_kind="institution", year=2021).update(notes_id=0)
    with _connected_as(app_role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == app_role.username
        for years in (None, (2022, 2022)):
            run = services.refresh_now(years=years)
            assert run.status == RefreshRun.Status.DONE, run.error
        theirs = _rows()
    assert _contents(theirs) == _contents(owners)


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
