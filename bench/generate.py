"""Deterministic data for the benchmarks: institutions in groups, 附件4 sheets that obey the rules, 附件3 plans.

Everything is a function of (institution index, month index) and a fixed seed, drawn with numpy generators
seeded per purpose — institution i has the same parameters and the same sheets at 450, 4,500 or 45,000
institutions, and two runs of the generator write the same database.

- Institutions 0–23 are the master data of 附件1 (fixtures/institutions.csv), so the real 附件1 evaluation and
  its PDF work; institution i ≥ 24 copies the kind, group, 地方法人 flag and supervising office of institution
  i mod 24 (the groups keep 附件1's 5 : 14 : 5 proportions) under the code BKnnnnn.
- A sheet is built in integer units of its field's decimals (亿元 to 4 places, 户 whole, BP to 2, % to 4), so
  every value is exact: 余额 grow 0.5–1.5 % a month with ±0.5 % noise (no W403 swing, no W406 outlier); the
  年初至今 figures are cumulative sums of positive monthly amounts that restart each January (E301); every
  part is a fixed share of its whole (E201–E204); 利率 and FTP stay inside their bands (W401, W402).
- A plan (附件3) has 17 regional rows × 7 columns; the 全省 row and the two 增速 columns are derived as the
  portal derives them (so, with 全省, 18 rows); the four quarters add up to the year (W407).

`write_world` stores a world with COPY (approved sheets and plans, no workflow history: the measured steps
read current versions, never the history); `store_indicators` adds what a refresh would store; `inputs`
builds the indicator engine's frames for the same world without a database; `bulk_rows` gives a month's
rows for the 批量导入 workbook.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20_220_520  # 武银〔2022〕45号 was issued in May 2022
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

FIRST_MONTH = (2021, 1)  # the data months run from here …
DATA_MONTHS = 36  # … to 2023-12; the bench imports the month after, banks upload six months after
CODE_PREFIX = "BK"

# field code → (decimals, integer units per displayed unit)
DECIMALS = {
    "loan_balance": 4,
    "credit_loan_balance": 4,
    "new_loans": 4,
    "new_credit_loans": 4,
    "borrowers": 0,
    "new_borrowers": 0,
    "first_loan_borrowers": 0,
    "first_loan_amount": 4,
    "ftp_discount_bp": 2,
    "fee_relief": 4,
    "weighted_rate": 4,
}
CODES = tuple(DECIMALS)
# the 2023 edition's two more fields (各项贷款余额, 普惠小微不良贷款核销金额): in the sheets the bench imports and
# uploads (its months are in 2024), not in the world's 2021–2023 sheets
EDITION_2023_DECIMALS = {"total_loan_balance": 4, "npl_write_offs": 4}
ALL_DECIMALS = {**DECIMALS, **EDITION_2023_DECIMALS}
PLAN_COLUMNS = ("balance_y2", "balance_y1", "planned_increase", "q1_actual", "q2_plan", "q3_plan", "q4_plan")


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def period_of(t: int) -> tuple[int, int]:
    return t // 12, t % 12 + 1


def data_months(count: int = DATA_MONTHS) -> list[tuple[int, int]]:
    t0 = month_index(*FIRST_MONTH)
    return [period_of(t) for t in range(t0, t0 + count)]


def text(value: int, decimals: int) -> str:
    """An integer number of units as the portal stores it ("1234.5", "12", "0.0001")."""
    if not decimals:
        return str(value)
    scale = 10**decimals
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    return f"{whole}.{frac:0{decimals}d}".rstrip("0")


# --- institutions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstitutionSpec:
    index: int
    code: str
    short_name: str
    name: str
    kind: str
    local: bool
    group: str
    office: str  # PbocOffice.code


def _fixture_institutions() -> list[dict[str, str]]:
    with open(FIXTURES / "institutions.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def institutions(n: int) -> list[InstitutionSpec]:
    real = _fixture_institutions()
    out = []
    for i in range(n):
        row = real[i % len(real)]
        if i < len(real):
            code, short, name = row["代码"], row["简称"], row["全称"]
        else:
            code, short, name = (
                f"{CODE_PREFIX}{i:05d}",
                f"基准银行{i:05d}",
                f"基准测试银行第{i:05d}号湖北分行",
            )
        out.append(
            InstitutionSpec(
                i, code, short, name, row["类型"], row["地方法人"] == "1", row["分组"], row["监管机构"]
            )
        )
    return out


# --- sheets --------------------------------------------------------------------------------------------------


def _params(n: int) -> dict[str, np.ndarray]:
    """Per-institution parameters; row i is the same whatever n is (numpy fills row by row)."""
    p = np.random.default_rng([SEED, 1]).random((n, 10))
    return {
        "size": 10 ** (1 + 2.3 * p[:, 0]),  # 10–2,000 亿元 of 普惠小微贷款 in the first month
        "growth": 0.005 + 0.01 * p[:, 1],  # a month
        "credit": 0.10 + 0.25 * p[:, 2],  # 信用贷款 share of the balance
        "new_rate": 0.04 + 0.04 * p[:, 3],  # monthly new loans ÷ balance
        "new_credit": 0.20 + 0.30 * p[:, 4],  # 信用 share of new loans
        "first": 0.12 + 0.15 * p[:, 5],  # 首贷 share of new loans and new borrowers
        "rate": 3.6 + 2.0 * p[:, 6],  # 加权平均利率, %
        "ftp": 30 + 50 * p[:, 7],  # FTP 优惠, BP
        "per_borrower": 20 + 60 * p[:, 8],  # borrowers per 亿元 of balance
        "regions": p[:, 9],
    }


def sheet_arrays(n: int, first: tuple[int, int], count: int) -> dict[str, np.ndarray]:
    """{field code: int64 array (n, count)} in units of the field's decimals, for `count` months from `first`.

    The 年初至今 fields are summed from the January of `first`'s year, so any window gives the same values."""
    prm = _params(n)
    t_first = month_index(*first)
    t_start = (t_first // 12) * 12
    ts = range(t_start, t_first + count)
    origin = month_index(*FIRST_MONTH)
    cols: dict[str, list[np.ndarray]] = {code: [] for code in ALL_DECIMALS}
    ytd = {code: np.zeros(n, dtype=np.int64) for code in ALL_DECIMALS}
    for t in ts:
        u = np.random.default_rng([SEED, 2, t]).random((n, 5))
        age = t - origin
        loan = np.rint(prm["size"] * np.exp(prm["growth"] * age) * (1 + 0.01 * (u[:, 0] - 0.5)) * 1e4)
        credit = np.rint(loan * (prm["credit"] + 0.002 * (u[:, 1] - 0.5)))
        borrowers = np.rint(loan / 1e4 * prm["per_borrower"])
        monthly_new = np.rint(loan * prm["new_rate"] * (0.8 + 0.4 * u[:, 2]))
        monthly_borrowers = np.maximum(1, np.rint(monthly_new / 1e4 * prm["per_borrower"] * 0.3))
        if t % 12 == 0:  # January: the year-to-date figures start again
            ytd = {code: np.zeros(n, dtype=np.int64) for code in ALL_DECIMALS}
        ytd["new_loans"] += monthly_new.astype(np.int64)
        ytd["new_credit_loans"] += np.rint(monthly_new * prm["new_credit"]).astype(np.int64)
        ytd["new_borrowers"] += monthly_borrowers.astype(np.int64)
        ytd["first_loan_borrowers"] += np.floor(monthly_borrowers * prm["first"]).astype(np.int64)
        ytd["first_loan_amount"] += np.rint(monthly_new * prm["first"]).astype(np.int64)
        ytd["fee_relief"] += np.rint(monthly_new * 0.002).astype(np.int64)
        ytd["npl_write_offs"] += np.rint(monthly_new * 0.0005).astype(np.int64)
        if t < t_first:
            continue
        month = {
            "loan_balance": loan.astype(np.int64),
            "credit_loan_balance": credit.astype(np.int64),
            "borrowers": borrowers.astype(np.int64),
            "ftp_discount_bp": np.rint((prm["ftp"] + 2 * (u[:, 3] - 0.5)) * 100).astype(np.int64),
            "weighted_rate": np.rint((prm["rate"] + 0.1 * (u[:, 4] - 0.5)) * 1e4).astype(np.int64),
            # 各项贷款: a steady multiple (4–9×) of the 普惠小微 balance
            "total_loan_balance": np.rint(loan * (4 + 5 * prm["credit"] / 0.35)).astype(np.int64),
        }
        for code in ALL_DECIMALS:
            cols[code].append(month[code] if code in month else ytd[code].copy())
    return {code: np.stack(cols[code], axis=1) for code in ALL_DECIMALS}


def bulk_rows(specs: list[InstitutionSpec], year: int, month: int) -> list[dict]:
    """The rows of a 批量导入 workbook for one month: every institution, every field of the edition in force,
    values as Decimal."""
    from reporting.definitions import definition_for
    from reporting.models import Form

    codes = definition_for(Form.MONITORING, year).codes
    arrays = sheet_arrays(len(specs), (year, month), 1)
    return [
        {
            "institution_code": s.code,
            "institution_name": s.short_name,
            "year": year,
            "month": month,
            "values": {
                code: Decimal(text(int(arrays[code][s.index, 0]), ALL_DECIMALS[code])) for code in codes
            },
        }
        for s in specs
    ]


# --- plans (附件3) --------------------------------------------------------------------------------------------


def plan_units(n: int, year: int) -> np.ndarray:
    """int64 (n, 17 regions, 7 columns) in 1e-4 亿元: each institution's 附件3 for `year` as typed. The regions
    split last December's balance and this year's first-quarter growth, so the 全省 row agrees with the
    monthly sheets (W501, W502) to within a rounding unit per region."""
    regions = 17
    dec = sheet_arrays(n, (year - 1, 12), 1)["loan_balance"][:, 0]
    march = sheet_arrays(n, (year, 3), 1)["loan_balance"][:, 0]
    weights = np.random.default_rng([SEED, 3]).random((n, regions)) + 0.2
    weights /= weights.sum(axis=1, keepdims=True)
    growth = 0.06 + 0.12 * _params(n)["regions"]
    y1 = np.rint(dec[:, None] * weights).astype(np.int64)
    y2 = np.rint(y1 / (1 + growth[:, None])).astype(np.int64)
    planned = np.rint(y1 * 0.2).astype(np.int64)
    q1 = np.rint((march - dec)[:, None] * weights).astype(np.int64)
    q2 = q3 = np.floor((planned - q1) / 3).astype(np.int64)
    return np.stack([y2, y1, planned, q1, q2, q3, planned - q1 - q2 - q3], axis=2)


def plan_values(n: int, year: int) -> list[dict[str, str]]:
    """Each institution's 附件3 for `year` as stored: 17 regions × 7 columns, plus the derived 全省 row and
    增速 columns (reporting.definitions.plan_definition(year).derive), all as canonical text."""
    from reporting.definitions import plan_definition
    from reporting.parsing import values_to_json

    definition = plan_definition(year)
    regions = [r.code for r in definition.rows if r.code != definition.total_row]
    units = plan_units(n, year)
    out = []
    for i in range(n):
        values = {
            f"{region}.{code}": Decimal(text(int(units[i, r, c]), 4))
            for r, region in enumerate(regions)
            for c, code in enumerate(PLAN_COLUMNS)
        }
        out.append(values_to_json({**values, **definition.derive(values)}))
    return out


def plan_totals(n: int, year: int) -> np.ndarray:
    """float (n, 5): the 全省 row's planned_increase and quarters (indicators.PLAN_COLUMNS) of every plan."""
    from indicators import indicators as ind

    totals = plan_units(n, year).sum(axis=1) / 1e4
    return totals[:, [PLAN_COLUMNS.index(c) for c in ind.PLAN_COLUMNS]]


# --- the engine's frames without a database ------------------------------------------------------------------


def inputs(n: int, months: int = DATA_MONTHS):
    """indicators.indicators.Inputs for n institutions × `months` data months, as selectors.load_inputs would
    read them from `write_world(n, months)` (every sheet and plan approved), plus the LPR fixture."""
    from indicators import indicators as ind
    from indicators import presets

    specs = institutions(n)
    month_list = data_months(months)
    arrays = sheet_arrays(n, FIRST_MONTH, months)
    ids = np.arange(1, n + 1)
    frame = {
        "institution_id": np.repeat(ids, months),
        "year": np.tile([y for y, _m in month_list], n),
        "month": np.tile([m for _y, m in month_list], n),
        "status": "approved",
        "usable": True,
        "provisional": False,
        "edition": "2022",
        "filing_id": np.arange(1, n * months + 1),
        "period_id": np.tile(np.arange(1, months + 1), n),
        "version": 1,
    }
    for code in ind.SHEET_FIELDS:
        if code in DECIMALS:  # the world's sheets are 2022-edition sheets
            frame[code] = arrays[code].reshape(-1) / 10 ** DECIMALS[code]
        else:
            frame[code] = np.nan
    sheets = pd.DataFrame(frame, columns=list(ind.SHEET_COLUMNS))
    institutions_frame = pd.DataFrame(
        {
            "id": ids,
            "short_name": [s.short_name for s in specs],
            "group": [s.group for s in specs],
            "kind": [s.kind for s in specs],
            "local": [s.local for s in specs],
            "active_from": date(2021, 1, 1),
            "active_to": None,
        },
        columns=list(ind.INSTITUTION_COLUMNS),
    )
    plans = []
    for year in sorted({y for y, _m in month_list}):
        totals = plan_totals(n, year)
        for i in range(n):
            plans.append((i + 1, year, "approved", True, False, 0, 0, 1, *totals[i].tolist()))
    return ind.Inputs(
        sheets=sheets,
        institutions=institutions_frame,
        months=month_list,
        lpr={(y, m): float(rate) for y, m, rate in presets.lpr_rows()},
        plans=pd.DataFrame.from_records(plans, columns=list(ind.PLAN_FRAME_COLUMNS)),
    )


# --- a world in the database ---------------------------------------------------------------------------------


def _copy(cursor, table: str, columns: list[str], rows) -> int:
    """COPY rows (tuples; None → NULL) into table; returns the number of rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    count = 0
    for row in rows:
        writer.writerow(["\\N" if v is None else v for v in row])
        count += 1
    buf.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf)
    return count


def _skip_foreign_key_checks(cursor) -> None:
    """For the rest of the transaction, no per-row foreign-key triggers (the generated rows are consistent by
    construction): half the time of a large COPY goes to them. Needs a superuser; without one, nothing
    changes but the speed."""
    cursor.execute("SAVEPOINT bench_replica")
    try:
        cursor.execute("SET LOCAL session_replication_role = replica")
    except Exception:
        cursor.execute("ROLLBACK TO SAVEPOINT bench_replica")
    else:
        cursor.execute("RELEASE SAVEPOINT bench_replica")


def _reset_sequences(cursor, tables: list[str]) -> None:
    for table in tables:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        )


def flush() -> None:
    """Empty every table of the bench database: TRUNCATE, past the audit log's append-only triggers, which
    the bench's superuser may pass on its own throwaway database (audit.privileges.wiping_allowed)."""
    from django.core.management import call_command
    from django.db import connection

    from audit.privileges import wiping_allowed

    with wiping_allowed(connection):
        call_command("flush", interactive=False, verbosity=0)


@dataclass
class World:
    n: int
    months: list[tuple[int, int]]
    specs: list[InstitutionSpec]
    ids: dict[str, int]  # institution code → pk
    officer: object  # 人民银行经办 of 武汉分行: sees every institution
    filer: object  # 填报人 of the first institution
    admin: object


def write_world(n: int, *, months: list[tuple[int, int]], plans: bool = True, log=lambda msg: None) -> World:
    """A fresh database world: master data, n institutions, the monitoring periods up to the end of 2024, the
    campaign periods of the data years, the LPR and targets (2022's copied to every data year), three users,
    and every institution's sheet for `months` approved (plus, with `plans`, its 附件3 of each data year)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from indicators.models import Target
    from indicators.services import load_reference_data
    from institutions.models import Institution, PbocOffice, Role
    from institutions.services import load_master_data
    from reporting.definitions import MONITORING_2022
    from reporting.models import Form, Period
    from reporting.services import ensure_campaign_periods, ensure_monthly_periods

    flush()
    load_master_data()
    load_reference_data()
    specs = institutions(n)
    offices = {o.code: o for o in PbocOffice.objects.all()}
    Institution.objects.bulk_create(
        [
            Institution(
                code=s.code,
                short_name=s.short_name,
                name=s.name,
                kind=s.kind,
                is_local_legal_person=s.local,
                evaluation_group=s.group,
                supervising_office=offices[s.office],
                order=min(s.index + 1, 32_767),  # a small integer: past it, institutions sort by code
                active_from=date(2021, 1, 1),
            )
            for s in specs[24:]
        ],
        batch_size=5000,
    )
    ids = dict(Institution.objects.values_list("code", "pk"))
    years = sorted({y for y, _m in months})
    ensure_monthly_periods(FIRST_MONTH, (2024, 12))
    for year in years:
        ensure_campaign_periods(year, due_on=date(year, 4, 29))
    base = [t for t in Target.objects.filter(year=2022)]
    for year in years:
        if year != 2022:
            for t in base:
                t.pk, t.year = None, year
            Target.objects.bulk_create(base, ignore_conflicts=True)
    User = get_user_model()
    officer = User(
        username="bench_officer", role=Role.PBOC_OFFICER, office=offices["WH"], display_name="基准经办"
    )
    admin = User(
        username="bench_admin", role=Role.PBOC_ADMIN, office=offices["WH"], display_name="基准管理员"
    )
    filer = User(
        username="bench_filer",
        role=Role.BANK_FILER,
        institution_id=ids[specs[0].code],
        display_name="基准填报人",
    )
    for user in (officer, admin, filer):
        user.set_unusable_password()
        user.save()

    periods = {(p.year, p.month): p.pk for p in Period.objects.filter(form=Form.MONITORING)}
    plan_periods = {p.year: p.pk for p in Period.objects.filter(form=Form.PLAN)}
    codes = MONITORING_2022.codes
    now = timezone.now()
    tz = timezone.get_current_timezone()
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor
        _skip_foreign_key_checks(cursor)
        filing_id = version_id = 0
        filings, versions = [], []
        for first, count in _runs(months):
            arrays = sheet_arrays(n, first, count)
            for m in range(count):
                year, month = period_of(month_index(*first) + m)
                period = periods[(year, month)]
                approved = datetime.combine(date(year, month, 1) + timedelta(days=40), time(10), tzinfo=tz)
                for s in specs:
                    filing_id += 1
                    version_id += 1
                    values = {code: text(int(arrays[code][s.index, m]), DECIMALS[code]) for code in codes}
                    filings.append(
                        (
                            filing_id,
                            ids[s.code],
                            period,
                            "approved",
                            2,
                            version_id,
                            approved,
                            approved,
                            approved,
                            now,
                        )
                    )
                    versions.append(
                        (
                            version_id,
                            filing_id,
                            1,
                            "2022",
                            json.dumps(values, ensure_ascii=False),
                            "demo",
                            approved,
                        )
                    )
        if plans:
            for year in years:
                for s, values in zip(specs, plan_values(n, year), strict=True):
                    filing_id += 1
                    version_id += 1
                    approved = datetime.combine(date(year, 4, 20), time(10), tzinfo=tz)
                    filings.append(
                        (
                            filing_id,
                            ids[s.code],
                            plan_periods[year],
                            "approved",
                            2,
                            version_id,
                            approved,
                            approved,
                            approved,
                            now,
                        )
                    )
                    versions.append(
                        (
                            version_id,
                            filing_id,
                            1,
                            str(year),
                            json.dumps(values, ensure_ascii=False),
                            "demo",
                            approved,
                        )
                    )
        _copy(
            cursor,
            "reporting_filing",
            [
                "id",
                "institution_id",
                "period_id",
                "status",
                "lock_version",
                "current_version_id",
                "first_submitted_at",
                "submitted_at",
                "approved_at",
                "updated_at",
            ],
            filings,
        )
        _copy(
            cursor,
            "reporting_filingversion",
            [
                "id",
                "filing_id",
                "number",
                "edition",
                "values",
                "findings",
                "explanations",
                "source",
                "upload",
                "upload_name",
                "upload_sha256",
                "created_at",
                "attestation",
                "receipt_no",
                "reading_notes",
            ],
            ((*v[:5], "[]", "{}", v[5], "", "", "", v[6], "", "", "[]") for v in versions),
        )
        _reset_sequences(cursor, ["reporting_filing", "reporting_filingversion"])
    log(f"world: {n} institutions, {len(months)} months, {filing_id} filings")
    return World(n, list(months), specs, ids, officer, filer, admin)


def _runs(months: list[tuple[int, int]]) -> list[tuple[tuple[int, int], int]]:
    """Consecutive runs of months: [(first, count)]."""
    runs: list[tuple[tuple[int, int], int]] = []
    for y, m in sorted(months):
        if runs and month_index(*runs[-1][0]) + runs[-1][1] == month_index(y, m):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append(((y, m), 1))
    return runs


# --- stored indicators ---------------------------------------------------------------------------------------


def store_indicators(
    world: World, *, institution_months: list[tuple[int, int]], every_month: int = 24, log=lambda msg: None
) -> int:
    """What `indicators.services.refresh` stores, computed by the same engine from the same one-query inputs
    (`selectors.load_inputs`) and written as it writes them (`indicators.storage.write`, a binary COPY):
    every aggregate of every data month, the institution-level values of `institution_months` (the months the
    officer's dashboard reads), and every month of the first `every_month` institutions (附件1's, whose report
    cards chart a whole year).
    A completed RefreshRun with the current fingerprint makes the stored values fresh."""
    from django.db import transaction
    from django.utils import timezone

    from indicators import indicators as ind
    from indicators import selectors, storage
    from indicators.models import RefreshRun

    years = sorted({y for y, _m in world.months})
    result = ind.compute(selectors.load_inputs(years=years))
    keep = set(institution_months)
    full = {str(world.ids[s.code]) for s in world.specs[:every_month]}
    block = storage.select(
        storage.from_result(result),
        lambda key: key[0] != "institution" or key[2:] in keep or key[1] in full,
    )
    with transaction.atomic():
        count = storage.write(block)
    approved, latest = selectors.fingerprint()
    now = timezone.now()
    RefreshRun.objects.create(
        status=RefreshRun.Status.DONE,
        trigger=RefreshRun.Trigger.COMMAND,
        first_year=years[0],
        last_year=years[-1],
        started_at=now,
        finished_at=now,
        approved_count=approved,
        latest_approval_at=latest,
        row_count=count,
    )
    log(f"indicators: {count} values stored")
    return count
