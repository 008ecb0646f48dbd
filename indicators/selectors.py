"""Reads for the indicator pages and exports. Every function is scoped through institutions.access, and runs
a bounded number of queries whatever the number of institutions.

`load_inputs` reads the rows the engine (`indicators.indicators`) needs — the approved sheets' current
versions with their period and institution, in ONE query — plus the small reference tables. Pages read the
stored `IndicatorMonth` rows (`indicators.storage`) into a `ValueTable`; with "含未审核数据" they get a
`ValueTable` computed on the fly from approved + submitted sheets instead, never stored.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, F, FloatField, Max, Q
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncDate
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from institutions import access
from institutions.models import EvaluationGroup, Institution, InstitutionKind
from reporting.definitions import definition_for
from reporting.models import Filing, FilingStatus, FilingVersion, Form, Period

from . import indicators as ind
from . import storage
from .models import (
    PROVINCE_KEY,
    AppliesTo,
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
    span = range(min(years) - 2, max(years) + 1) if years else range(0)
    usable = {FilingStatus.APPROVED, FilingStatus.SUBMITTED} if include_submitted else {FilingStatus.APPROVED}
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
    sheets = frame.reindex(columns=list(ind.SHEET_COLUMNS))
    lpr = {(y, m): float(rate) for y, m, rate in LoanPrimeRate.objects.values_list("year", "month", "rate")}
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
    return ind.Inputs(
        sheets=sheets,
        institutions=institution_frame(institution_ids),
        months=[tuple(m) for m in months],
        lpr=lpr,
        plans=pd.DataFrame.from_records(plans, columns=list(ind.PLAN_FRAME_COLUMNS)),
    )


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
    """{(scope_kind, scope_key, year, month, code): Value}, stored or computed on the fly."""

    def __init__(self, rows: dict, *, live: bool = False):
        self.rows = rows
        self.live = live

    def get(self, scope_kind: str, scope_key, year: int, month: int, code: str) -> Value:
        return self.rows.get((scope_kind, str(scope_key), year, month, code), NOT_COMPUTED)

    @classmethod
    def stored(cls, *filters: Q, codes=None) -> ValueTable:
        """The stored values of the scope-months any of `filters` (over IndicatorMonth) selects, in one query:
        every indicator, or `codes` — a list, or {scope_kind: list or None} (a kind not named: every one)."""
        q = Q()
        for f in filters:
            q |= f
        rows = {}
        for s in storage.read(IndicatorMonth.objects.filter(q), codes):
            rows[(s.scope_kind, s.scope_key, s.year, s.month, s.code)] = Value(
                s.value, s.reason, s.contributors, s.members
            )
        return cls(rows)

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


# --- display cells -------------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _explain_path(prefix: str, urlconf) -> str:
    return reverse("indicators:explain", urlconf=urlconf)


def explain_url(scope_kind, scope_key, year, month, code, *, live=False) -> str:
    params = {"scope": scope_kind, "key": scope_key, "year": year, "month": month, "code": code}
    if live:
        params["live"] = 1
    # reversed once per script prefix: a dashboard links thousands of cells to the same view
    return _explain_path(get_script_prefix(), get_urlconf()) + "?" + urlencode(params)


@dataclass
class Shown:
    """A number as a page shows it: text, tooltip, drill-down link, and its standing against a target."""

    indicator: ind.Indicator
    value: Value
    url: str = ""
    check: ind.TargetCheck | None = None
    target: Target | None = None

    @property
    def defined(self) -> bool:
        return self.value.value is not None

    @property
    def text(self) -> str:
        return self.indicator.text(self.value.value)

    @property
    def text_unit(self) -> str:
        return self.indicator.text(self.value.value, with_unit=True)

    @property
    def chart_value(self) -> float | None:
        r = self.indicator.rounded(self.value.value)
        if r is None:
            return None
        return float(r * 100) if self.indicator.share else float(r)

    @property
    def partial(self) -> bool:
        return self.defined and self.value.members > 1 and self.value.contributors < self.value.members

    @property
    def target_text(self) -> str:
        return target_text(self.target, self.check) if self.target and self.check else ""

    @property
    def title(self) -> str:
        if not self.defined:
            return self.value.reason
        parts = [f"{self.indicator.label} = {self.indicator.formula}"]
        if self.value.members > 1 or self.partial:
            parts.append(f"基于 {self.value.contributors}/{self.value.members} 家机构")
        if self.value.provisional:
            parts.append("含未审核（已提交）数据")
        return "；".join(parts)


def shown(table: ValueTable, scope_kind, scope_key, year, month, code, *, with_url=True) -> Shown:
    indicator = ind.get(code)
    value = table.get(scope_kind, scope_key, year, month, code)
    url = explain_url(scope_kind, scope_key, year, month, code, live=table.live) if with_url else ""
    return Shown(indicator, value, url)


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


def check(table: ValueTable, target: Target, scope_kind, scope_key, year, month) -> ind.TargetCheck:
    indicator = ind.get(target.indicator)
    actual = table.get(scope_kind, scope_key, year, month, target.indicator)
    if target.basis == "fixed":
        ref = Value(target.value)
    elif target.basis == "last_year":
        ref = table.get(scope_kind, scope_key, year - 1, month, target.indicator)
    elif target.basis == "year_start":
        ref = table.get(scope_kind, scope_key, year - 1, 12, target.indicator)
    else:  # plan
        ref = table.get(scope_kind, scope_key, year, month, "plan_increase")
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


def target_text(target: Target, result: ind.TargetCheck) -> str:
    """ "≥ 1,700.00亿元", "> 上年同期 12.34%", "≥ 附件3计划 50.00亿元" — the reference as shown."""
    indicator = ind.get(target.indicator)
    sign = "≥" if target.comparator == "gte" else ">"
    basis = {"fixed": "", "last_year": "上年同期 ", "year_start": "年初 ", "plan": "附件3计划 "}[target.basis]
    ref = (
        indicator.text(result.reference, with_unit=True, compact=target.basis == "fixed")
        if result.reference is not None
        else "—"
    )
    return f"{sign} {basis}{ref}"


# --- timeliness ----------------------------------------------------------------------------------------------


def timeliness(user, year: int) -> list[dict]:
    """报送率 / 按时报送率 per month of `year` over the institutions the user may see, from
    Filing.first_submitted_at (Asia/Shanghai calendar day) against the period's due date."""
    periods = list(Period.objects.filter(form=Form.MONITORING, year=year).order_by("month"))
    visible = access.visible_institutions(user)
    spans = list(visible.values_list("active_from", "active_to"))
    # an institution is expected to file a month it is active at the month's end
    expected = {
        p.pk: sum(1 for start, end in spans if start <= p.ends_on and (end is None or end >= p.ends_on))
        for p in periods
    }
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


# --- the officer's dashboard ---------------------------------------------------------------------------------

SCOPE_COLUMNS = [(ScopeKind.PROVINCE, PROVINCE_KEY, "全省")] + [
    (ScopeKind.GROUP, value, str(label)) for value, label in EvaluationGroup.choices
]
KIND_COLUMNS = [(ScopeKind.KIND, value, str(label)) for value, label in InstitutionKind.choices]
# An aggregate is shown beyond the jurisdiction only when it hides its outside members in a crowd: a kind with
# one or two institutions outside the viewer's jurisdiction would be those institutions' own figures.
MIN_OUTSIDE_MEMBERS = 3


def revealing_kinds(user) -> set[str]:
    """Institution kinds whose aggregate would show the figures of one or two institutions outside the
    user's jurisdiction (a single-member kind such as 农村信用社: that bank's own sheet). Two queries."""
    visible = set(access.visible_institutions(user).values_list("pk", flat=True))
    outside: dict[str, int] = defaultdict(int)
    for pk, kind in Institution.objects.values_list("pk", "kind"):
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


def _table_for(year: int, month: int, live: bool, institution_codes=None) -> ValueTable:
    """The stored values the dashboard reads: every aggregate of the year and the one before, and the
    institutions' values of the month, a year earlier and at 年初 — only `institution_codes` of them when
    given (the ranked indicator and the targets': a few of the ~40 codes, for thousands of institutions)."""
    if live:
        return live_table({year - 1, year})
    institutions = Q(scope_kind=ScopeKind.INSTITUTION) & (
        Q(year=year, month=month) | Q(year=year - 1, month=month) | Q(year=year - 1, month=12)
    )
    return ValueTable.stored(
        Q(year__in=[year - 1, year]) & ~Q(scope_kind=ScopeKind.INSTITUTION),
        institutions,
        codes=None if institution_codes is None else {ScopeKind.INSTITUTION: sorted(institution_codes)},
    )


def chart_meta(targets: list[Target] | None = None) -> dict:
    """Labels and units for the charts (percentages are plotted ×100), with the province's fixed targets."""
    meta = {
        i.code: {"label": i.label, "unit": i.unit_label, "group": i.group}
        for i in ind.INDICATORS
        if not i.test
    }
    for t in targets or []:
        if t.scope == TargetScope.PROVINCE and t.basis == "fixed" and t.indicator in meta:
            indicator = ind.get(t.indicator)
            meta[t.indicator]["target"] = float(t.value * 100 if indicator.share else t.value)
            meta[t.indicator]["target_label"] = t.label
    return meta


def _point(cell: Shown):
    """A chart point: the shown value, or [value, 1] when only part of the scope's institutions are in it."""
    value = cell.chart_value
    return [value, 1] if value is not None and cell.partial else value


def trend_series(table: ValueTable, scopes, year: int) -> dict:
    """{scope_key: {code: {"this": [12], "last": [12]}}} of shown values (percentages ×100) for the charts;
    a month computed from only part of the scope's institutions is [value, 1] so the chart can mark it."""
    out = {}
    for kind, key, _label in scopes:
        out[str(key)] = {
            i.code: {
                "this": [
                    _point(shown(table, kind, key, year, m, i.code, with_url=False)) for m in range(1, 13)
                ],
                "last": [
                    _point(shown(table, kind, key, year - 1, m, i.code, with_url=False)) for m in range(1, 13)
                ],
            }
            for i in ind.INDICATORS
            if not i.test
        }
    return out


@dataclass
class Ranked:
    institution: dict
    cell: Shown
    rank: int | None
    of: int
    failing: list = field(default_factory=list)
    supervision: list = field(default_factory=list)


# A dashboard shows the top and bottom RANK_ENDS of each group's ranking and the FAILING_SHOWN institutions
# missing the most targets: the page stays the same size for 24 institutions or 4,500; the full lists are
# the per-institution table and its Excel export.
RANK_ENDS = 10
FAILING_SHOWN = 20


def _ends(rows: list[Ranked], n: int) -> tuple[list[Ranked | None], int]:
    """A long ranking cut to its first and last n ranked rows, None where the rest were left out (the
    unranked "—" rows among them), and how many were; a short one whole."""
    if len(rows) <= 2 * n + 1:
        return rows, 0
    ranked = [r for r in rows if r.rank is not None]
    kept = ranked if len(ranked) <= 2 * n else [*ranked[:n], None, *ranked[-n:]]
    if len(ranked) <= 2 * n:
        kept = [*kept, None]
    return kept, len(rows) - sum(r is not None for r in kept)


def _rank(items: list[tuple[dict, Shown]], better: str | None) -> list[Ranked]:
    defined = [(inst, cell) for inst, cell in items if cell.defined]
    if better is None:
        ordered = defined
    else:
        ordered = sorted(
            defined, key=lambda x: x[1].indicator.rounded(x[1].value.value), reverse=(better == "high")
        )
    out, previous, rank = [], None, 0
    for position, (inst, cell) in enumerate(ordered, start=1):
        key = cell.indicator.rounded(cell.value.value)
        if key != previous:
            rank, previous = position, key
        out.append(Ranked(inst, cell, rank if better else None, len(items)))
    out += [Ranked(inst, cell, None, len(items)) for inst, cell in items if not cell.defined]
    return out


def _direct(parts: tuple, compute, *, filings: bool = False):
    return compute()


def dashboard_head(
    user,
    *,
    year: int | None = None,
    month: int | None = None,
    live: bool = False,
    rank_code: str = "",
    memo=_direct,
) -> dict:
    """What the dashboard decides before computing anything: the month (the default when none is asked
    for), the ranked indicator, the months on offer and how fresh the stored values are. `memo(parts,
    compute, filings=…)` may keep the months and the freshness (indicators.dashcache.remember)."""
    choices = memo(("choices",), month_choices)
    if year is None or month is None:
        picked = default_month(choices)
        if picked is None:
            return {
                "empty": True,
                "choices": choices,
                "as_of": memo(("as_of", None), lambda: as_of(None), filings=True),
            }
        year, month = picked
    rank_code = rank_code if rank_code in ind.REGISTRY and ind.get(rank_code).better else "loan_growth_ytd"
    return {
        "empty": False,
        "year": year,
        "month": month,
        "live": live,
        "rank_code": rank_code,
        "choices": choices,
        "as_of": memo(("as_of", year), lambda: as_of(year), filings=True),
    }


def dashboard(
    user, *, year: int | None = None, month: int | None = None, live: bool = False, rank_code: str = ""
):
    """Everything the officer's dashboard shows, for the user's jurisdiction."""
    head = dashboard_head(user, year=year, month=month, live=live, rank_code=rank_code)
    if head["empty"]:
        return head
    return head | dashboard_body(user, head) | dashboard_filing_rates(user, head["year"])


def dashboard_filing_rates(user, year: int) -> dict:
    """The dashboard's 报送率 / 按时报送率 of the year: they move with every submission, so they are computed
    on each request (one aggregate) rather than kept with the rest of the body."""
    rates = timeliness(user, year)
    return {
        "timeliness": rates,
        "timeliness_chart": {
            "labels": [r["period"].label for r in rates],
            "reporting": [
                None if r["reporting_rate"] is None else float(r["reporting_rate"] * 100) for r in rates
            ],
            "on_time": [None if r["on_time_rate"] is None else float(r["on_time_rate"] * 100) for r in rates],
        },
    }


def dashboard_body(user, head: dict) -> dict:
    """The dashboard's numbers for the month and ranked indicator `head` settled (dashboard_head)."""
    year, month, live, rank_code = head["year"], head["month"], head["live"], head["rank_code"]
    targets = targets_for(year)
    # per institution the page shows the ranked indicator and the targets' (a plan target reads plan_increase)
    codes = {rank_code, "plan_increase"} | {
        t.indicator for t in targets if t.scope == TargetScope.INSTITUTION
    }
    table = _table_for(year, month, live, institution_codes=codes)
    all_institutions = list(
        Institution.objects.order_by("order").values(
            "pk", "short_name", "evaluation_group", "kind", "is_local_legal_person"
        )
    )
    visible_ids = set(access.visible_institutions(user).values_list("pk", flat=True))

    province_targets = []
    for target in [t for t in targets if t.scope == TargetScope.PROVINCE]:
        cell = shown(table, ScopeKind.PROVINCE, PROVINCE_KEY, year, month, target.indicator)
        cell.target = target
        cell.check = check(table, target, ScopeKind.PROVINCE, PROVINCE_KEY, year, month)
        province_targets.append(cell)

    province_checks = {c.indicator.code: c for c in province_targets}
    summary = []
    for group, indicators_ in ind.by_group():
        rows = []
        for i in indicators_:
            cells = [shown(table, kind, key, year, month, i.code) for kind, key, _l in SCOPE_COLUMNS]
            if i.code in province_checks:  # the province column shows where it stands against its target
                cells[0].target = province_checks[i.code].target
                cells[0].check = province_checks[i.code].check
            rows.append((i, cells))
        summary.append((group, rows))
    hidden_kinds = revealing_kinds(user)
    kinds_present = [
        c
        for c in KIND_COLUMNS
        if c[1] not in hidden_kinds and any(inst["kind"] == c[1] for inst in all_institutions)
    ]
    kind_summary = [
        (i, [shown(table, kind, key, year, month, i.code) for kind, key, _l in kinds_present])
        for i in ind.INDICATORS
    ]

    # failing targets and supervision beside each visible institution
    actions = defaultdict(list)
    for action in supervision_for(user).order_by("-taken_on", "-id")[:500]:
        actions[action.institution_id].append(action)
    missed: dict[int, list] = {}  # (target, check) per institution; display cells only for those shown
    undecided: dict[int, int] = {}
    for inst in all_institutions:
        if inst["pk"] not in visible_ids:
            continue
        info = {"id": inst["pk"], "local": inst["is_local_legal_person"]}
        for target in applicable_targets(targets, info):
            result = check(table, target, ScopeKind.INSTITUTION, inst["pk"], year, month)
            if result.met is False:
                missed.setdefault(inst["pk"], []).append((target, result))
            elif result.met is None:
                undecided[inst["pk"]] = undecided.get(inst["pk"], 0) + 1

    def failing_cells(pk: int) -> list[Shown]:
        cells = []
        for target, result in missed.get(pk, []):
            cell = shown(table, ScopeKind.INSTITUTION, pk, year, month, target.indicator)
            cell.target, cell.check = target, result
            cells.append(cell)
        return cells

    rankings = []
    for group_value, group_label in EvaluationGroup.choices:
        members = [inst for inst in all_institutions if inst["evaluation_group"] == group_value]
        items = [
            (inst, shown(table, ScopeKind.INSTITUTION, inst["pk"], year, month, rank_code, with_url=False))
            for inst in members
        ]
        ranked = [r for r in _rank(items, ind.get(rank_code).better) if r.institution["pk"] in visible_ids]
        shown_rows, omitted = _ends(ranked, RANK_ENDS)
        for r in shown_rows:
            if r is not None:
                pk = r.institution["pk"]
                r.cell.url = explain_url(ScopeKind.INSTITUTION, pk, year, month, rank_code, live=table.live)
                r.failing = failing_cells(pk)
                r.supervision = actions.get(pk, [])[:3]
        rankings.append(
            {"value": group_value, "label": str(group_label), "rows": shown_rows, "omitted": omitted}
        )

    # the institutions missing the most targets first; the full list is the per-institution table
    worst = sorted(
        (inst for inst in all_institutions if inst["pk"] in missed),
        key=lambda inst: -len(missed[inst["pk"]]),
    )
    failing_rows = [
        {
            "institution": inst,
            "cells": failing_cells(inst["pk"]),
            "supervision": actions.get(inst["pk"], [])[:3],
        }
        for inst in worst[:FAILING_SHOWN]
    ]
    trend_scopes = SCOPE_COLUMNS
    return {
        "province_targets": province_targets,
        "summary": summary,
        "scope_columns": SCOPE_COLUMNS,
        "kind_columns": kinds_present,
        "kind_summary": kind_summary,
        "rank_indicator": ind.get(rank_code),
        "rankable": [i for i in ind.INDICATORS if i.better],
        "rankings": rankings,
        "failing": failing_rows,
        "failing_total": len(worst),
        "undecided": undecided,
        "trend": trend_series(table, trend_scopes, year),
        "trend_scopes": [(str(k), label) for _kind, k, label in trend_scopes],
        "indicators": [i for i in ind.INDICATORS if not i.test],
        "chart_meta": chart_meta(targets),
    }


# --- one institution -----------------------------------------------------------------------------------------


def institution_page(user, institution: Institution, *, year=None, month=None, live=False) -> dict:
    """An institution's indicators vs its targets, last year and its group's median (peers stay anonymous)."""
    choices = [
        {"year": y, "month": m}
        for y, m in sorted(
            storage.defined_months(
                IndicatorMonth.objects.filter(scope_kind=ScopeKind.INSTITUTION, scope_key=str(institution.pk))
            ),
            reverse=True,
        )
    ]
    if year is None or month is None:
        if not choices:
            return {"empty": True, "choices": choices, "as_of": as_of(None), "institution": institution}
        year, month = choices[0]["year"], choices[0]["month"]
    group_ids = list(
        Institution.objects.filter(evaluation_group=institution.evaluation_group).values_list("pk", flat=True)
    )
    if live:
        table = live_table({year - 1, year}, institution_ids=group_ids)
    else:
        table = ValueTable.stored(
            Q(scope_kind=ScopeKind.INSTITUTION, scope_key=str(institution.pk), year__in=[year - 1, year]),
            Q(
                scope_kind=ScopeKind.INSTITUTION,
                scope_key__in=[str(pk) for pk in group_ids],
                year=year,
                month=month,
            ),
        )
    targets = targets_for(year)
    mine = applicable_targets(targets, {"id": institution.pk, "local": institution.is_local_legal_person})
    by_code = defaultdict(list)
    for target in mine:
        by_code[target.indicator].append(target)
    key = str(institution.pk)
    groups = []
    for group, indicators_ in ind.by_group():
        rows = []
        for i in indicators_:
            cell = shown(table, ScopeKind.INSTITUTION, key, year, month, i.code)
            peers = [table.get(ScopeKind.INSTITUTION, pk, year, month, i.code).value for pk in group_ids]
            med = ind.median(peers) if not i.test else None
            checks = []
            for target in by_code.get(i.code, []):
                result = check(table, target, ScopeKind.INSTITUTION, key, year, month)
                checks.append({"target": target, "check": result, "text": target_text(target, result)})
            rows.append(
                {
                    "cell": cell,
                    "last_year": shown(table, ScopeKind.INSTITUTION, key, year - 1, month, i.code),
                    "median": i.text(med),
                    "median_defined": med is not None,
                    "vs_median": None
                    if med is None or not cell.defined or not i.better
                    else (
                        (i.rounded(cell.value.value) >= i.rounded(med))
                        if i.better == "high"
                        else (i.rounded(cell.value.value) <= i.rounded(med))
                    ),
                    "checks": checks,
                }
            )
        groups.append((group, rows))
    trend = {
        i.code: {
            "this": [
                shown(table, ScopeKind.INSTITUTION, key, year, m, i.code, with_url=False).chart_value
                for m in range(1, 13)
            ],
            "last": [
                shown(table, ScopeKind.INSTITUTION, key, year - 1, m, i.code, with_url=False).chart_value
                for m in range(1, 13)
            ],
        }
        for i in ind.INDICATORS
        if not i.test
    }
    return {
        "empty": False,
        "institution": institution,
        "year": year,
        "month": month,
        "live": live,
        "choices": choices,
        "as_of": as_of(year),
        "groups": groups,
        "trend": {key: trend},
        "chart_meta": chart_meta(),
        "trend_scopes": [(key, institution.short_name)],
        "indicators": [i for i in ind.INDICATORS if not i.test],
        "peer_count": len(group_ids),
    }


# --- drill-down ----------------------------------------------------------------------------------------------


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


def scope_label(scope_kind: str, scope_key: str, names: dict[int, str] | None = None) -> str:
    if scope_kind == ScopeKind.PROVINCE:
        return "全省"
    if scope_kind == ScopeKind.GROUP:
        return str(dict(EvaluationGroup.choices).get(scope_key, scope_key))
    if scope_kind == ScopeKind.KIND:
        return str(dict(InstitutionKind.choices).get(scope_key, scope_key))
    return (names or {}).get(int(scope_key), scope_key)


def _source_fields(needs) -> list[str]:
    """The sheet fields (with offsets) and reference values behind an indicator's components."""
    out = []
    for name in needs:
        base, offset = ind.split(name)
        if base in ind.DERIVED:
            parts = [f"{f}@{offset}" if offset else f for f in ind.DERIVED[base][1]]
        elif base == "ewr_base":
            parts = ["loan_balance", "loan_balance@start"]
        else:
            parts = [name]
        out += [p for p in parts if p not in out]
    return out


def explain(user, *, scope_kind: str, scope_key: str, year: int, month: int, code: str, live: bool = False):
    """One number taken apart: formula, stored and recomputed value, components, and for every member
    institution the source sheet (link), version and field of each input."""
    indicator = ind.get(code)
    if scope_kind == ScopeKind.KIND and scope_key in revealing_kinds(user):
        raise PermissionDenied("该类机构在您辖区外只有一两家，其汇总即为这些机构的数据，不对您显示。")
    members = scope_members(scope_kind, scope_key)
    visible = set(access.visible_institutions(user).values_list("pk", flat=True))
    names = dict(Institution.objects.filter(pk__in=members).values_list("pk", "short_name"))
    inputs = load_inputs(
        years=[year], include_submitted=live, institution_ids=members, months=[(year, month)]
    )
    result = ind.compute(
        inputs, codes=(code,), scopes=() if scope_kind == ScopeKind.INSTITUTION else (scope_kind,)
    )
    recomputed = ValueTable.from_result(result).get(scope_kind, scope_key, year, month, code)
    stored = (
        recomputed
        if live
        else ValueTable.stored(
            Q(scope_kind=scope_kind, scope_key=str(scope_key), year=year, month=month), codes=[code]
        ).get(scope_kind, scope_key, year, month, code)
    )

    panel = ind.Panel(inputs)
    sources = _source_fields(indicator.needs)
    source_cols = {name: panel.column(name) for name in sources}
    need_cols = {name: panel.column(name) for name in indicator.needs}
    grid = panel.grid.reset_index(drop=True)
    contributing = np.ones(len(grid), dtype=bool)
    for col in need_cols.values():
        contributing &= ~np.isnan(col.values)
    rows, hidden = [], {"count": 0, "contributing": 0}
    for pos in range(len(grid)):
        inst_id = int(grid.at[pos, "institution_id"])
        if inst_id not in visible:
            hidden["count"] += 1
            hidden["contributing"] += int(contributing[pos])
            continue
        cells = []
        for name in sources:
            col = source_cols[name]
            base, offset = ind.split(name)
            value = col.values[pos]
            cell = {
                "name": name,
                "value": None if np.isnan(value) else ind.to_decimal(value),
                "reason": "" if not np.isnan(value) else col.reasons(np.array([pos]))[0],
                "url": "",
                "source": "",
                "provisional": bool(col.provisional[pos]) and not np.isnan(value),
            }
            if base in ind.FIELD_LABELS:
                at = panel.at(offset).iloc[pos]
                y, m = ind.period_of(int(at["t_at"]))
                if not pd.isna(at["period_id"]):
                    cell["url"] = reverse("reporting:sheet", args=[inst_id, int(at["period_id"])])
                version = "" if pd.isna(at["version"]) else f" · 第 {int(at['version'])} 版"
                status = (
                    ind.STATUS_LABELS.get(at["status"], "未报送")
                    if isinstance(at["status"], str)
                    else "未报送"
                )
                cell["source"] = (
                    f"{y}年{m}月附件4{version} · {status} · 字段 {base}（{ind.FIELD_LABELS[base]}）"
                )
            elif base == "lpr":
                cell["source"] = f"{year}年{month}月一年期LPR（管理员维护）"
            else:
                plan = panel.plan_at.iloc[pos] if panel.plan_at is not None else None
                if plan is not None and not pd.isna(plan["period_id"]):
                    cell["url"] = reverse("reporting:sheet", args=[inst_id, int(plan["period_id"])])
                    version = "" if pd.isna(plan["version"]) else f" · 第 {int(plan['version'])} 版"
                else:
                    version = " · 未报送"
                cell["source"] = f"{year}年附件3投放计划{version} · 全省（{ind.PLAN_ROW}）行"
            cells.append(cell)
        rows.append(
            {
                "institution_id": inst_id,
                "name": names.get(inst_id, str(inst_id)),
                "contributing": bool(contributing[pos]),
                "cells": cells,
                "reason": "" if contributing[pos] else _missing_reason(need_cols, pos),
            }
        )
    totals = []
    for name, col in need_cols.items():
        vals = col.values[contributing]
        base = ind.split(name)[0]
        total = (vals.mean() if len(vals) else np.nan) if base in ind.CONSTANT_COMPONENTS else vals.sum()
        totals.append(
            {
                "name": name,
                "label": ind.component_label(name),
                "value": ind.to_decimal(total) if len(vals) else None,
                "constant": base in ind.CONSTANT_COMPONENTS,
            }
        )
    return {
        "indicator": indicator,
        "scope_kind": scope_kind,
        "scope_key": scope_key,
        "scope_label": scope_label(scope_kind, scope_key, names),
        "year": year,
        "month": month,
        "live": live,
        "stored": Shown(indicator, stored),
        "recomputed": Shown(indicator, recomputed),
        "matches": stored.value == recomputed.value,
        "sources": [{"name": s, "label": ind.component_label(s)} for s in sources],
        "components": totals,
        "rows": rows,
        "hidden": hidden,
        "aggregate": scope_kind != ScopeKind.INSTITUTION,
        "as_of": as_of(year),
    }


def _missing_reason(need_cols, pos) -> str:
    for col in need_cols.values():
        if np.isnan(col.values[pos]):
            return col.reasons(np.array([pos]))[0]
    return ""


# --- per-institution table (screen and export) ---------------------------------------------------------------


def institution_table(user, *, year=None, month=None, live: bool = False) -> dict:
    """Every indicator of every institution the user may see, for one month, with the targets each misses."""
    visible = list(
        access.visible_institutions(user)
        .order_by("order")
        .values("pk", "short_name", "evaluation_group", "kind", "is_local_legal_person")
    )
    choices = month_choices()
    if year is None or month is None:
        picked = default_month(choices)
        if picked is None:
            return {"empty": True, "choices": choices, "as_of": as_of(None), "rows": []}
        year, month = picked
    ids = [v["pk"] for v in visible]
    keys = [str(pk) for pk in ids]
    if live:
        table = live_table({year - 1, year}, institution_ids=ids)
    else:
        table = ValueTable.stored(
            Q(scope_kind=ScopeKind.INSTITUTION, scope_key__in=keys)
            & (Q(year=year, month=month) | Q(year=year - 1, month=month) | Q(year=year - 1, month=12))
        )
    targets = targets_for(year)
    rows = []
    for inst in visible:
        cells = [shown(table, ScopeKind.INSTITUTION, inst["pk"], year, month, i.code) for i in ind.INDICATORS]
        by_code = {c.indicator.code: c for c in cells}
        failing = []
        for target in applicable_targets(targets, {"id": inst["pk"], "local": inst["is_local_legal_person"]}):
            result = check(table, target, ScopeKind.INSTITUTION, inst["pk"], year, month)
            cell = by_code[target.indicator]
            if cell.check is None or result.met is False:  # a missed target wins the cell's marker
                cell.target, cell.check = target, result
            if result.met is False:
                failing.append({"target": target, "check": result, "text": target_text(target, result)})
        rows.append(
            {
                "institution": inst,
                "group": str(dict(EvaluationGroup.choices).get(inst["evaluation_group"], "")),
                "kind": str(dict(InstitutionKind.choices).get(inst["kind"], "")),
                "cells": cells,
                "failing": failing,
            }
        )
    supervision = (
        list(supervision_for(user, ids).order_by("-taken_on", "-id")[:500]) if access.is_pboc(user) else []
    )
    return {
        "empty": False,
        "year": year,
        "month": month,
        "live": live,
        "choices": choices,
        "as_of": as_of(year),
        "indicators": list(ind.INDICATORS),
        "groups": [(g, len(items)) for g, items in ind.by_group()],
        "rows": rows,
        "supervision": supervision,
    }


# --- bulletins -----------------------------------------------------------------------------------------------


def bulletins_for(user):
    """The bulletins a user may see: PBoC users, those of their office and of every office below it."""
    from .models import Bulletin

    if not access.is_pboc(user):
        return Bulletin.objects.none()
    qs = Bulletin.objects.select_related("office", "created_by", "published_by")
    if user.role == "sysadmin" or user.is_superuser:
        return qs
    if not user.office_id:
        return Bulletin.objects.none()
    return qs.filter(office_id__in=access.office_subtree_ids(user.office_id))
