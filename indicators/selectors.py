"""Reads for the indicator pages and exports (indicators.pages builds the pages from them). Every function is
scoped through institutions.access, and runs a bounded number of queries whatever the number of
institutions. What a page shows of them, how it is worded, ranked and linked is indicators.pages'.

`load_inputs` reads the rows the engine (`indicators.indicators`) needs — the approved sheets' current
versions with their period and institution, in ONE query — plus the small reference tables. Pages read the
stored `IndicatorMonth` rows (`indicators.storage`) into a `ValueTable`; with "含未审核数据" they get a
`ValueTable` computed on the fly from approved + submitted sheets instead, never stored.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, F, FloatField, Max, Q
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from institutions import access
from institutions.models import Institution
from institutions.selectors import visible_ids
from reporting.definitions import definition_for
from reporting.models import Filing, FilingStatus, FilingVersion, Form, Period

from . import indicators as ind
from . import storage
from .models import (
    PROVINCE_KEY,
    AppliesTo,
    Bulletin,
    IndicatorMonth,
    LoanPrimeRate,
    RefreshRun,
    ScopeKind,
    SupervisionAction,
    Target,
    TargetScope,
)

# --- the engine's inputs -------------------------------------------------------------------------------------


def _float(raw) -> float:
    if raw is None or raw == "":
        return np.nan
    try:
        return float(Decimal(str(raw)))
    except (ArithmeticError, ValueError, TypeError):
        return np.nan


def _plan_regions(year: int) -> list[str]:
    """The regional rows of the year's 附件3 edition (without 全省), or [] when it cannot be told."""
    try:
        definition = definition_for(Form.PLAN, year)
    except (KeyError, ValueError):
        return []
    rows = getattr(definition, "rows", None) or ()
    total = getattr(definition, "total_row", "") or ind.PLAN_ROW
    return [r.code for r in rows if getattr(r, "code", None) and r.code != total]


def _plan_total(values: dict, year: int, column: str) -> float:
    """附件3's 全省 figure for a column, read defensively: the stored 全省 row if there is one, else the sum of
    every regional row (undefined while any region is blank, as the form's own total)."""
    stored = values.get(f"{ind.PLAN_ROW}.{column}")
    if stored not in (None, ""):
        return _float(stored)
    regions = _plan_regions(year)
    if not regions:
        return np.nan
    parts = [_float(values.get(f"{code}.{column}")) for code in regions]
    return np.nan if any(np.isnan(p) for p in parts) else float(sum(parts))


def institution_frame(ids=None) -> pd.DataFrame:
    qs = Institution.objects.all()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    rows = list(
        qs.values_list(
            "pk",
            "short_name",
            "evaluation_group",
            "kind",
            "is_local_legal_person",
            "active_from",
            "active_to",
        )
    )
    return pd.DataFrame(rows, columns=list(ind.INSTITUTION_COLUMNS)).astype({"local": bool})


def load_inputs(
    *,
    years,
    include_submitted: bool = False,
    institution_ids=None,
    months: list[tuple[int, int]] | None = None,
    sheet_months: list[tuple[int, int]] | None = None,
) -> ind.Inputs:
    """The engine's inputs to compute `years` (or just `months`): the monitoring sheets of those years and
    the two before (年初, 上年同期, 上年年初), in one query — or only those of `sheet_months`, when the caller
    knows which months `months` read; institutions, periods, LPR and 附件3 plans."""
    years = sorted(set(years))
    if months is None:
        months = list(
            Period.objects.filter(form=Form.MONITORING, year__in=years)
            .order_by("year", "month")
            .values_list("year", "month")
        )
    usable = {FilingStatus.APPROVED, FilingStatus.SUBMITTED} if include_submitted else {FilingStatus.APPROVED}
    lpr = {(y, m): float(rate) for y, m, rate in LoanPrimeRate.objects.values_list("year", "month", "rate")}
    return ind.Inputs(
        sheets=_sheets(years, usable, institution_ids, sheet_months),
        institutions=institution_frame(institution_ids),
        months=[tuple(m) for m in months],
        lpr=lpr,
        plans=_plans(years, usable, institution_ids),
    )


def _sheets(years: list[int], usable: set, institution_ids, sheet_months) -> pd.DataFrame:
    """The monitoring sheets of `years` and the two before (or of `sheet_months`) as the engine's frame: each
    field a float column, NaN unless the sheet's status is `usable`."""
    span = range(min(years) - 2, max(years) + 1) if years else range(0)
    filings = Filing.objects.filter(period__form=Form.MONITORING, period__year__in=list(span))
    if sheet_months is not None:
        wanted = set(sheet_months)
        filings = filings.filter(
            period__in=[
                pk
                for pk, y, m in Period.objects.filter(form=Form.MONITORING).values_list("pk", "year", "month")
                if (y, m) in wanted
            ]
        )
    if institution_ids is not None:
        filings = filings.filter(institution_id__in=list(institution_ids))
    # Each field's value is read as a number by the database (one column per field, JSON → float in SQL),
    # not parsed cell by cell in Python: 162,000 sheets × 11 fields were ~9 s of Decimal(str(…)) calls.
    numbers = {f"v_{code}": Cast(KT(f"sheet_values__{code}"), FloatField()) for code in ind.SHEET_FIELDS}
    rows = (
        filings.annotate(sheet_values=F("current_version__values"))
        .annotate(**numbers)
        .order_by()  # the engine indexes the sheets itself; Filing's ordering would join and sort 162,000 rows
        .values_list(
            "institution_id",
            "period__year",
            "period__month",
            "status",
            "pk",
            "period_id",
            "current_version__number",
            "current_version__edition",
            *numbers,
        )
    )
    head = ["institution_id", "year", "month", "status", "filing_id", "period_id", "version", "edition"]
    frame = _records(rows, [*head, *ind.SHEET_FIELDS], text=("status", "edition"))
    usable_rows = frame["status"].isin(list(usable)) & frame["version"].notna()
    fields = list(ind.SHEET_FIELDS)
    frame[fields] = frame[fields].astype(float).where(usable_rows, np.nan)
    frame["usable"] = usable_rows.astype(bool)
    frame["provisional"] = (usable_rows & (frame["status"] == FilingStatus.SUBMITTED)).astype(bool)
    frame["edition"] = frame["edition"].fillna("")
    return frame.reindex(columns=list(ind.SHEET_COLUMNS))


def _plans(years: list[int], usable: set, institution_ids) -> pd.DataFrame:
    """The 附件3 plans of `years` as the engine's frame: each plan's 全省 figures (empty unless `usable`)."""
    plans = []
    plan_filings = Filing.objects.filter(period__form=Form.PLAN, period__year__in=years)
    if institution_ids is not None:
        plan_filings = plan_filings.filter(institution_id__in=list(institution_ids))
    found = _plan_figures(plan_filings)
    whole = dict(
        plan_filings.filter(pk__in=[r[3] for r in found if any(t in (None, "") for t in r[6:])]).values_list(
            "pk", "current_version__values"
        )
    )
    for inst_id, year, status, filing_id, period_id, number, *figures in found:
        values = (
            whole[filing_id]
            if filing_id in whole
            else {f"{ind.PLAN_ROW}.{c}": t for c, t in zip(ind.PLAN_COLUMNS, figures, strict=True)}
        )
        ok = status in usable and isinstance(values, dict)
        values = values if ok else {}
        plans.append(
            (
                inst_id,
                year,
                status,
                ok,
                ok and status == FilingStatus.SUBMITTED,
                filing_id,
                period_id,
                number,
                *(_plan_total(values, year, column) for column in ind.PLAN_COLUMNS),
            )
        )
    return pd.DataFrame.from_records(plans, columns=list(ind.PLAN_FRAME_COLUMNS))


def _plan_figures(plan_filings) -> list[tuple]:
    """(institution_id, year, status, filing_id, period_id, version, *the 全省 row's figures as text) of each
    plan, read out of the JSON by the database (a plan without them is then read whole). On PostgreSQL with
    one jsonb_to_record per plan: each `->>` of a key unpacks the whole compressed document again, five times
    per plan (0.26 s for 9,000 plans, against 0.08 s)."""
    head = ("institution_id", "period__year", "status", "pk", "period_id", "current_version__number")
    keys = [f"{ind.PLAN_ROW}.{c}" for c in ind.PLAN_COLUMNS]
    if connection.vendor != "postgresql":
        totals = {f"t{i}": KT(f"plan_values__{key}") for i, key in enumerate(keys)}
        return list(
            plan_filings.annotate(plan_values=F("current_version__values"))
            .annotate(**totals)
            .order_by()
            .values_list(*head, *totals)
        )
    version = FilingVersion._meta.db_table  # joined once, for current_version__number
    record = ", ".join(f'"{key}" text' for key in keys)
    picked = ", ".join(f'x."{key}"' for key in keys)
    figures = RawSQL(
        f'CASE WHEN jsonb_typeof("{version}"."values") = \'object\' THEN (SELECT ARRAY[{picked}] '
        f'FROM jsonb_to_record("{version}"."values") AS x({record})) END',
        [],
    )
    rows = plan_filings.annotate(figures=figures).order_by().values_list(*head, "figures")
    return [(*row[:-1], *(row[-1] or [None] * len(keys))) for row in rows]


def _records(queryset, columns: list[str], *, text=()) -> pd.DataFrame:
    """The rows of a values_list queryset as a frame. On PostgreSQL through COPY … TO STDOUT (CSV, parsed by
    pandas): the driver's per-row conversion was half the load of 162,000 sheets. Numbers come back exact
    (PostgreSQL's shortest round-trip text, which pandas parses exactly); `text` columns stay strings."""
    if connection.vendor != "postgresql":
        return pd.DataFrame.from_records(list(queryset), columns=columns)
    sql, params = queryset.query.sql_with_params()
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        query = cursor.cursor.mogrify(sql, params).decode()
        cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
    buffer.seek(0)
    if not buffer.getvalue():
        return pd.DataFrame.from_records([], columns=columns)
    frame = pd.read_csv(
        buffer,
        header=None,
        names=columns,
        dtype={c: object for c in text},
        keep_default_na=False,
        na_values={c: [""] for c in columns if c not in text},
    )
    for c in text:  # NULL (an empty field) → None, typed as the driver's rows would be
        frame[c] = pd.Series([None if x == "" else x for x in frame[c].tolist()], index=frame.index)
    return frame


def fingerprint() -> tuple[int, object]:
    """(number of approved filings, latest approval time): when either changes, stored indicators are stale."""
    agg = Filing.objects.filter(status=FilingStatus.APPROVED).aggregate(
        n=Count("pk"), latest=Max("approved_at")
    )
    return agg["n"], agg["latest"]


def years_with_periods() -> list[int]:
    return sorted(set(Period.objects.filter(form=Form.MONITORING).values_list("year", flat=True)))


# --- values --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    value: Decimal | None
    reason: str = ""
    contributors: int = 0
    members: int = 0
    provisional: bool = False


NOT_COMPUTED = Value(None, "该月指标尚未计算：等待刷新，或该月没有报送期")


class ValueTable:
    """{(scope_kind, scope_key, year, month, code): Value}, stored or computed on the fly. Stored values are
    kept as storage read them (`raw`) and made a Value the first time a page asks for one: a dashboard reads
    40,000 of them to count missed targets and shows a few hundred."""

    def __init__(self, rows: dict, *, live: bool = False, raw: dict | None = None):
        self.rows = rows
        self.live = live
        self.raw = raw if raw is not None else {}

    def get(self, scope_kind: str, scope_key, year: int, month: int, code: str) -> Value:
        key = (scope_kind, str(scope_key), year, month, code)
        found = self.rows.get(key)
        if found is None:
            s = self.raw.get(key)
            if s is None:
                return NOT_COMPUTED
            found = self.rows[key] = Value(s.value, s.reason, s.contributors, s.members)
        return found

    def figure(self, key: tuple):
        """The value, reason, contributors and members at `key` (a Value, or storage's own record of them)."""
        return self.rows.get(key) or self.raw.get(key) or NOT_COMPUTED

    def keys(self) -> set[tuple]:
        return self.rows.keys() | self.raw.keys()

    def update(self, other: ValueTable) -> None:
        self.rows.update(other.rows)
        self.raw.update(other.raw)

    @classmethod
    def stored(cls, *filters: Q, codes=None) -> ValueTable:
        """The stored values of the scope-months any of `filters` (over IndicatorMonth) selects, in one query:
        every indicator, or `codes` — a list, or {scope_kind: list or None} (a kind not named: every one)."""
        q = Q()
        for f in filters:
            q |= f
        raw = {
            (s.scope_kind, s.scope_key, s.year, s.month, s.code): s
            for s in storage.read(IndicatorMonth.objects.filter(q), codes)
        }
        return cls({}, raw=raw)

    @classmethod
    def from_result(cls, result: ind.Result) -> ValueTable:
        rows = {}
        frame = result.rows()
        for (
            kind,
            key,
            year,
            month,
            code,
            value,
            reason,
            contributors,
            members,
            provisional,
        ) in frame.itertuples(index=False, name=None):
            rows[(kind, str(key), int(year), int(month), code)] = Value(
                ind.to_decimal(value), reason or "", int(contributors), int(members), bool(provisional)
            )
        return cls(rows, live=True)


def live_table(years, *, institution_ids=None) -> ValueTable:
    """Indicators from approved AND submitted sheets, computed now and never stored (含未审核数据)."""
    years = sorted(set(years))
    return ValueTable.from_result(
        ind.compute(load_inputs(years=years, include_submitted=True, institution_ids=institution_ids))
    )


# --- refresh status ------------------------------------------------------------------------------------------


@dataclass
class AsOf:
    run: RefreshRun | None
    pending: RefreshRun | None
    stale: bool

    @property
    def finished_at(self):
        return self.run.finished_at if self.run else None

    @property
    def latest_approval_at(self):
        return self.run.latest_approval_at if self.run else None


def as_of(year: int | None = None) -> AsOf:
    """The last completed refresh covering `year` (数据截至), a pending one, and whether data changed since."""
    done = RefreshRun.objects.filter(status=RefreshRun.Status.DONE)
    if year is not None:
        done = done.filter(first_year__lte=year, last_year__gte=year)
    run = done.order_by("-finished_at", "-id").first()
    pending = (
        RefreshRun.objects.filter(status__in=[RefreshRun.Status.QUEUED, RefreshRun.Status.RUNNING])
        .order_by("-id")
        .first()
    )
    latest = RefreshRun.objects.filter(status=RefreshRun.Status.DONE).order_by("-started_at", "-id").first()
    count, latest_approval = fingerprint()
    stale = latest is None or (latest.approved_count, latest.latest_approval_at) != (count, latest_approval)
    return AsOf(run, pending, stale)


# --- targets -------------------------------------------------------------------------------------------------


def targets_for(year: int) -> list[Target]:
    return [
        t for t in Target.objects.filter(year=year).order_by("scope", "id") if t.indicator in ind.REGISTRY
    ]


def applicable_targets(targets: list[Target], institution: dict) -> list[Target]:
    """Institution targets that apply to one institution (dict with id, local): a target set for that
    institution replaces the general one on the same indicator and basis."""
    mine = [
        t for t in targets if t.scope == TargetScope.INSTITUTION and t.institution_id == institution["id"]
    ]
    overridden = {(t.indicator, t.basis) for t in mine}
    general = [
        t
        for t in targets
        if t.scope == TargetScope.INSTITUTION
        and t.institution_id is None
        and (t.indicator, t.basis) not in overridden
        and (
            t.applies_to == AppliesTo.ALL
            or (t.applies_to == AppliesTo.LOCAL and institution["local"])
            or (t.applies_to == AppliesTo.NATIONAL and not institution["local"])
        )
    ]
    return general + mine


def _reference_at(target: Target, year: int, month: int) -> tuple[int, int, str] | None:
    """(year, month, code) of the value a target's basis compares with; None for a fixed target."""
    return {
        "fixed": None,
        "last_year": (year - 1, month, target.indicator),
        "year_start": (year - 1, 12, target.indicator),
    }.get(target.basis, (year, month, "plan_increase"))


def _compared(table: ValueTable, target: Target, scope_kind, scope_key, year, month) -> tuple[Value, Value]:
    """The value a target checks and the reference it is checked against, by the target's basis."""
    actual = table.get(scope_kind, scope_key, year, month, target.indicator)
    at = _reference_at(target, year, month)
    return actual, Value(target.value) if at is None else table.get(scope_kind, scope_key, *at)


def check(table: ValueTable, target: Target, scope_kind, scope_key, year, month) -> ind.TargetCheck:
    indicator = ind.get(target.indicator)
    actual, ref = _compared(table, target, scope_kind, scope_key, year, month)
    return ind.check_target(
        indicator=indicator,
        comparator=target.comparator,
        basis=target.basis,
        actual=actual.value,
        reference=ref.value,
        month=month,
        actual_reason=actual.reason,
        reference_reason=ref.reason,
        actual_basis=(actual.contributors, actual.members),
        reference_basis=None if target.basis == "fixed" else (ref.contributors, ref.members),
    )


def _partial(value: Value) -> bool:
    return value.members > 1 and value.contributors < value.members


def met(table: ValueTable, target: Target, scope_kind, scope_key, year, month) -> bool | None:
    """check(…).met without the rest of the check (its wording, progress and time progress)."""
    return verdicts(table, target, scope_kind, [scope_key], year, month)[0]


def verdicts(table: ValueTable, target: Target, scope_kind, keys, year, month) -> list[bool | None]:
    """[met(…) for each of `keys`], for a page that only counts which of thousands of institutions' targets are
    missed — by indicators.check_target's rule: undecided without both numbers or while either is summed
    over only part of its members, else the shown (rounded) value against the shown reference (a test's
    reference as it is)."""
    indicator = ind.get(target.indicator)
    rounded, quantum, test = indicator.rounded, indicator.quantum(), indicator.test
    gte = target.comparator == "gte"
    at = _reference_at(target, year, month)
    fixed = Value(target.value) if at is None else None
    figure, code = table.figure, target.indicator
    out: list[bool | None] = []
    for key in keys:
        key = str(key)
        actual = figure((scope_kind, key, year, month, code))
        ref = fixed or figure((scope_kind, key, *at))
        if actual.value is None or ref.value is None or _partial(actual) or (fixed is None and _partial(ref)):
            out.append(None)
            continue
        out.append(_shown_meets(actual.value, ref.value, rounded, quantum, test, gte))
    return out


def _shown_meets(a: Decimal, r: Decimal, rounded, quantum: Decimal, test: bool, gte: bool) -> bool:
    """rounded(a) ≥ rounded(r) (gte) or > (gt), rounding only when it decides: half-up rounding moves a
    number by at most half a quantum and never reverses an order, so a ≥ r is met at once and r − a > one
    quantum is not (for gt: a ≤ r is not, a − r > one quantum is)."""
    if not test:
        if gte and (a >= r or r - a > quantum):
            return a >= r
        if not gte and (a <= r or a - r > quantum):
            return a > r
    shown, reference = rounded(a), r if test else rounded(r)
    return shown >= reference if gte else shown > reference


# --- timeliness ----------------------------------------------------------------------------------------------


def timeliness(user, year: int) -> list[dict]:
    """报送率 / 按时报送率 per month of `year` over the institutions the user may see, from
    Filing.first_submitted_at (Asia/Shanghai calendar day) against the period's due date."""
    periods = list(Period.objects.filter(form=Form.MONITORING, year=year).order_by("month"))
    visible = access.visible_institutions(user)
    expected = _expected(list(visible.values_list("active_from", "active_to")), periods)
    # counted in the database: a jurisdiction files thousands of sheets a year
    active = Q(institution__active_from__lte=F("period__ends_on")) & (
        Q(institution__active_to__isnull=True) | Q(institution__active_to__gte=F("period__ends_on"))
    )
    submitted_on = TruncDate("first_submitted_at", tzinfo=timezone.get_current_timezone())
    filed = {
        row["period_id"]: row
        for row in Filing.objects.filter(
            active, period__in=periods, institution__in=visible, first_submitted_at__isnull=False
        )
        .alias(submitted_day=submitted_on)
        .values("period_id")
        .annotate(
            reported=Count("pk"),
            on_time=Count("pk", filter=Q(submitted_day__lte=F("period__due_on"))),
        )
    }
    table = ind.filing_timeliness(
        pd.DataFrame(
            [
                {
                    "period_id": p.pk,
                    "expected": expected[p.pk],
                    "reported": filed.get(p.pk, {}).get("reported", 0),
                    "on_time": filed.get(p.pk, {}).get("on_time", 0),
                }
                for p in periods
            ],
            columns=["period_id", "expected", "reported", "on_time"],
        ).set_index("period_id")
    )
    today = timezone.localdate()
    out = []
    for p in periods:
        row = table.loc[p.pk] if p.pk in table.index else None
        out.append(
            {
                "period": p,
                "expected": int(row["expected"]) if row is not None else 0,
                "reported": int(row["reported"]) if row is not None else 0,
                "on_time": int(row["on_time"]) if row is not None else 0,
                "reporting_rate": _dec(row["reporting_rate"]) if row is not None else None,
                "on_time_rate": _dec(row["on_time_rate"]) if row is not None else None,
                "open": today <= p.due_on,
            }
        )
    return out


def _expected(spans: list[tuple], periods: list[Period]) -> dict[int, int]:
    """{period pk: how many of the (active_from, active_to) spans are active at the period's end}: an
    institution is expected to file a month it is active at the month's end (counted over arrays: thousands
    of institutions × 12 months)."""
    starts = np.array([start for start, _end in spans], dtype="datetime64[D]")
    ends = np.array([date.max if end is None else end for _start, end in spans], dtype="datetime64[D]")
    out = {}
    for p in periods:
        at = np.datetime64(p.ends_on, "D")
        out[p.pk] = int(np.count_nonzero((starts <= at) & (ends >= at)))
    return out


def _dec(value) -> Decimal | None:
    return ind.to_decimal(value)


# --- supervision ---------------------------------------------------------------------------------------------


def supervision_for(user, institution_ids=None):
    qs = access.scope_by_institution(user, SupervisionAction.objects.all()).select_related(
        "institution", "recorded_by"
    )
    if institution_ids is not None:
        qs = qs.filter(institution_id__in=list(institution_ids))
    return qs


def supervision_in_year(user, institution_ids, year: int):
    """The supervision records of `year` for those institutions, newest first."""
    return supervision_for(user, institution_ids).filter(taken_on__year=year).order_by("-taken_on", "-id")


def latest_supervision(user, limit: int = 500) -> dict[int, list[SupervisionAction]]:
    """{institution_id: its records, newest first} of the user's latest `limit` supervision records."""
    actions: dict[int, list[SupervisionAction]] = defaultdict(list)
    for action in supervision_for(user).order_by("-taken_on", "-id")[:limit]:
        actions[action.institution_id].append(action)
    return actions


def table_supervision(user, institution_ids, limit: int = 500) -> list[SupervisionAction]:
    """The latest supervision records of `institution_ids` for the per-institution table (PBoC users only)."""
    if not access.is_pboc(user):
        return []
    return list(supervision_for(user, institution_ids).order_by("-taken_on", "-id")[:limit])


# --- institutions --------------------------------------------------------------------------------------------

INSTITUTION_ROW = ("pk", "short_name", "evaluation_group", "kind", "is_local_legal_person")


def institution_rows() -> list[dict]:
    """Every institution (pk, short_name, evaluation_group, kind, is_local_legal_person), in order."""
    return list(Institution.objects.order_by("order").values(*INSTITUTION_ROW))


def visible_institution_rows(user) -> list[dict]:
    """The institutions the user may see, as institution_rows, in order."""
    return list(access.visible_institutions(user).order_by("order").values(*INSTITUTION_ROW))


def names_of(ids) -> dict[int, str]:
    return dict(Institution.objects.filter(pk__in=list(ids)).values_list("pk", "short_name"))


def group_members(institution: Institution) -> list[int]:
    """The institutions of the institution's evaluation group (itself included)."""
    return list(
        Institution.objects.filter(evaluation_group=institution.evaluation_group).values_list("pk", flat=True)
    )


# --- the officer's dashboard ---------------------------------------------------------------------------------

# An aggregate is shown beyond the jurisdiction only when it hides its outside members in a crowd: a kind with
# one or two institutions outside the viewer's jurisdiction would be those institutions' own figures.
MIN_OUTSIDE_MEMBERS = 3


def revealing_kinds(user) -> set[str]:
    """Institution kinds whose aggregate would show the figures of one or two institutions outside the
    user's jurisdiction (a single-member kind such as 农村信用社: that bank's own sheet). Two queries."""
    return kinds_revealing(visible_ids(user), Institution.objects.values_list("pk", "kind"))


def kinds_revealing(visible: set[int], kinds) -> set[str]:
    """revealing_kinds from what a caller has read already: the visible ids and every (pk, kind)."""
    outside: dict[str, int] = defaultdict(int)
    for pk, kind in kinds:
        if pk not in visible:
            outside[kind] += 1
    return {kind for kind, n in outside.items() if 0 < n < MIN_OUTSIDE_MEMBERS}


def month_choices() -> list[dict]:
    """Months with stored province values, newest first, with how many institutions each covers."""
    rows = [
        (s.year, s.month, s.contributors, s.members)
        for s in storage.read(
            IndicatorMonth.objects.filter(scope_kind=ScopeKind.PROVINCE, scope_key=PROVINCE_KEY),
            ["loan_balance"],
        )
    ]
    return [
        {"year": y, "month": m, "contributors": c, "members": n, "complete": c == n and n > 0}
        for y, m, c, n in sorted(rows, reverse=True)
    ]


def default_month(choices: list[dict]) -> tuple[int, int] | None:
    """The latest month every expected institution's sheet is approved for; else the latest with any data."""
    for c in choices:
        if c["complete"]:
            return c["year"], c["month"]
    for c in choices:
        if c["contributors"]:
            return c["year"], c["month"]
    return (choices[0]["year"], choices[0]["month"]) if choices else None


def dashboard_table(year: int, month: int, live: bool, institution_codes=None) -> ValueTable:
    """The stored values the dashboard reads: every aggregate of the year and the one before, and the
    institutions' values of the month, a year earlier and at 年初 — only `institution_codes` of them when
    given (the ranked indicator and the targets': a few of the ~40 codes, for thousands of institutions):
    a set of codes for all three months, or {(year, month): codes} of just the months each is read at (a
    query per month besides the first; then the kinds' aggregates only of the month)."""
    if live:
        return live_table({year - 1, year})
    aggregates = Q(year__in=[year - 1, year]) & ~Q(scope_kind=ScopeKind.INSTITUTION)
    if not isinstance(institution_codes, dict):
        institutions = Q(scope_kind=ScopeKind.INSTITUTION) & (
            Q(year=year, month=month) | Q(year=year - 1, month=month) | Q(year=year - 1, month=12)
        )
        return ValueTable.stored(
            aggregates,
            institutions,
            codes=None if institution_codes is None else {ScopeKind.INSTITUTION: sorted(institution_codes)},
        )
    months = {(year, month): set(), (year - 1, month): set(), (year - 1, 12): set()}
    for at, codes in institution_codes.items():
        months[at] |= set(codes)

    def institutions_at(at) -> Q:
        return Q(scope_kind=ScopeKind.INSTITUTION, year=at[0], month=at[1])

    # the kinds' aggregates only of the month: the page charts the province and the groups, not the kinds
    table = ValueTable.stored(
        Q(year__in=[year - 1, year], scope_kind__in=[ScopeKind.PROVINCE, ScopeKind.GROUP]),
        Q(year=year, month=month, scope_kind=ScopeKind.KIND),
        institutions_at((year, month)),
        codes={ScopeKind.INSTITUTION: sorted(months.pop((year, month)))},
    )
    for at, codes in sorted(months.items()):
        if codes:
            table.update(ValueTable.stored(institutions_at(at), codes={ScopeKind.INSTITUTION: sorted(codes)}))
    return table


# --- one institution -----------------------------------------------------------------------------------------


def institution_months(institution: Institution) -> list[tuple[int, int]]:
    """The months with a defined stored value of the institution, newest first."""
    return sorted(
        storage.defined_months(
            IndicatorMonth.objects.filter(scope_kind=ScopeKind.INSTITUTION, scope_key=str(institution.pk))
        ),
        reverse=True,
    )


def institution_values(
    institution: Institution, group_ids, year: int, month: int, *, live=False
) -> ValueTable:
    """The institution's values of `year` and the year before, and its group's of the month (its median)."""
    if live:
        return live_table({year - 1, year}, institution_ids=group_ids)
    return ValueTable.stored(
        Q(scope_kind=ScopeKind.INSTITUTION, scope_key=str(institution.pk), year__in=[year - 1, year]),
        Q(
            scope_kind=ScopeKind.INSTITUTION,
            scope_key__in=[str(pk) for pk in group_ids],
            year=year,
            month=month,
        ),
    )


def institution_month_values(ids, year: int, month: int, *, live=False) -> ValueTable:
    """Every indicator of the institutions `ids` for the month, a year earlier and at 年初."""
    if live:
        return live_table({year - 1, year}, institution_ids=ids)
    return ValueTable.stored(
        Q(scope_kind=ScopeKind.INSTITUTION, scope_key__in=[str(pk) for pk in ids])
        & (Q(year=year, month=month) | Q(year=year - 1, month=month) | Q(year=year - 1, month=12))
    )


# --- drill-down ----------------------------------------------------------------------------------------------


def stored_value(scope_kind: str, scope_key, year: int, month: int, code: str) -> Value:
    """One stored value (NOT_COMPUTED when none is)."""
    return ValueTable.stored(
        Q(scope_kind=scope_kind, scope_key=str(scope_key), year=year, month=month), codes=[code]
    ).get(scope_kind, scope_key, year, month, code)


def scope_members(scope_kind: str, scope_key: str) -> list[int]:
    qs = Institution.objects.all()
    if scope_kind == ScopeKind.INSTITUTION:
        qs = qs.filter(pk=int(scope_key))
    elif scope_kind == ScopeKind.GROUP:
        qs = qs.filter(evaluation_group=scope_key)
    elif scope_kind == ScopeKind.KIND:
        qs = qs.filter(kind=scope_key)
    elif scope_key != PROVINCE_KEY:
        return []
    return list(qs.values_list("pk", flat=True))


# --- bulletins -----------------------------------------------------------------------------------------------


def bulletins_for(user):
    """The bulletins a user may see: PBoC users, those of their office and of every office below it."""

    if not access.is_pboc(user):
        return Bulletin.objects.none()
    qs = Bulletin.objects.select_related("office", "created_by", "published_by")
    if user.role == "sysadmin" or user.is_superuser:
        return qs
    if not user.office_id:
        return Bulletin.objects.none()
    return qs.filter(office_id__in=access.office_subtree_ids(user.office_id))


def published_versions_of_month(user, bulletin):
    """The published versions, newest first, of the bulletins the user may see of the same office and month
    as `bulletin`."""
    return (
        bulletins_for(user)
        .filter(office_id=bulletin.office_id, year=bulletin.year, month=bulletin.month)
        .exclude(version=None)
        .order_by("-version")
    )
