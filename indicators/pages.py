"""The indicator pages, built from the reads of `indicators.selectors`: the officer's dashboard (its head, body
and filing rates), one institution's page, the drill-down of any number (`explain`), the per-institution
table (screen and Excel), and how they all present a number — `Shown` (its text, tooltip, link to its
drill-down and standing against a target), the wording of a target, group rankings and chart series.

Nothing here queries the database itself: every read goes through selectors (scoped by institutions.access,
a bounded number of queries whatever the number of institutions). This module decides what a page shows,
in which order, how it is worded and where it links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied
from django.urls import get_script_prefix, get_urlconf, reverse

from institutions.models import EvaluationGroup, InstitutionKind

from . import indicators as ind
from . import selectors
from .models import PROVINCE_KEY, ScopeKind, Target, TargetScope
from .selectors import Value, ValueTable, as_of, check

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


def scope_label(scope_kind: str, scope_key: str, names: dict[int, str] | None = None) -> str:
    if scope_kind == ScopeKind.PROVINCE:
        return "全省"
    if scope_kind == ScopeKind.GROUP:
        return str(dict(EvaluationGroup.choices).get(scope_key, scope_key))
    if scope_kind == ScopeKind.KIND:
        return str(dict(InstitutionKind.choices).get(scope_key, scope_key))
    return (names or {}).get(int(scope_key), scope_key)


# --- charts --------------------------------------------------------------------------------------------------


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


# --- rankings ------------------------------------------------------------------------------------------------


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
    """Ranked by the shown (rounded) value, ties sharing a rank; the undefined last, unranked."""
    defined = [(inst, cell, cell.indicator.rounded(cell.value.value)) for inst, cell in items if cell.defined]
    if better is not None:
        defined.sort(key=lambda x: x[2], reverse=(better == "high"))
    out, previous, rank = [], None, 0
    for position, (inst, cell, key) in enumerate(defined, start=1):
        if key != previous:
            rank, previous = position, key
        out.append(Ranked(inst, cell, rank if better else None, len(items)))
    out += [Ranked(inst, cell, None, len(items)) for inst, cell in items if not cell.defined]
    return out


# --- the officer's dashboard ---------------------------------------------------------------------------------

SCOPE_COLUMNS = [(ScopeKind.PROVINCE, PROVINCE_KEY, "全省")] + [
    (ScopeKind.GROUP, value, str(label)) for value, label in EvaluationGroup.choices
]
KIND_COLUMNS = [(ScopeKind.KIND, value, str(label)) for value, label in InstitutionKind.choices]


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
    choices = memo(("choices",), selectors.month_choices)
    if year is None or month is None:
        picked = selectors.default_month(choices)
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
    rates = selectors.timeliness(user, year)
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


@dataclass
class _Board:
    """What the parts of one dashboard body share: the month, the values and targets read, the institutions."""

    year: int
    month: int
    rank_code: str
    table: ValueTable
    targets: list[Target]
    institutions: list[dict]  # every institution, in order (rankings count the whole group)
    visible: set[int]
    missed: dict = field(default_factory=dict)  # institution pk → the targets it misses
    undecided: dict = field(default_factory=dict)  # institution pk → how many of its targets cannot be told
    actions: dict = field(default_factory=dict)  # institution pk → its latest supervision records

    def cell(self, scope_kind, scope_key, code, *, with_url=True) -> Shown:
        return shown(self.table, scope_kind, scope_key, self.year, self.month, code, with_url=with_url)

    def failing_cells(self, pk: int) -> list[Shown]:
        cells = []
        for target in self.missed.get(pk, []):
            cell = self.cell(ScopeKind.INSTITUTION, pk, target.indicator)
            cell.target = target
            cell.check = check(self.table, target, ScopeKind.INSTITUTION, pk, self.year, self.month)
            cells.append(cell)
        return cells


def _institution_codes(year: int, month: int, rank_code: str, targets: list[Target]) -> dict:
    """{(year, month): codes} of the institution values the page shows: the ranked indicator and each target's
    indicator at the month, its reference where its basis reads it (上年同期, 年初, the 附件3 plan)."""
    codes = {(year, month): {rank_code}}
    for t in targets:
        if t.scope != TargetScope.INSTITUTION:
            continue
        codes[(year, month)].add(t.indicator)
        if t.basis == "last_year":
            codes.setdefault((year - 1, month), set()).add(t.indicator)
        elif t.basis == "year_start":
            codes.setdefault((year - 1, 12), set()).add(t.indicator)
        elif t.basis == "plan":
            codes[(year, month)].add("plan_increase")
    return codes


def _board(user, head: dict) -> _Board:
    year, month, rank_code = head["year"], head["month"], head["rank_code"]
    targets = selectors.targets_for(year)
    codes = _institution_codes(year, month, rank_code, targets)
    return _Board(
        year=year,
        month=month,
        rank_code=rank_code,
        table=selectors.dashboard_table(year, month, head["live"], institution_codes=codes),
        targets=targets,
        institutions=selectors.institution_rows(),
        visible=selectors.visible_ids(user),
    )


def _province_targets(board: _Board) -> list[Shown]:
    cells = []
    for target in [t for t in board.targets if t.scope == TargetScope.PROVINCE]:
        cell = board.cell(ScopeKind.PROVINCE, PROVINCE_KEY, target.indicator)
        cell.target = target
        cell.check = check(board.table, target, ScopeKind.PROVINCE, PROVINCE_KEY, board.year, board.month)
        cells.append(cell)
    return cells


def _summary(board: _Board, province_targets: list[Shown]) -> list:
    province_checks = {c.indicator.code: c for c in province_targets}
    summary = []
    for group, indicators_ in ind.by_group():
        rows = []
        for i in indicators_:
            cells = [board.cell(kind, key, i.code) for kind, key, _l in SCOPE_COLUMNS]
            if i.code in province_checks:  # the province column shows where it stands against its target
                cells[0].target = province_checks[i.code].target
                cells[0].check = province_checks[i.code].check
            rows.append((i, cells))
        summary.append((group, rows))
    return summary


def _kind_columns(board: _Board) -> list:
    """The kinds present, but for those whose aggregate would reveal institutions outside the jurisdiction."""
    hidden_kinds = selectors.kinds_revealing(
        board.visible, ((i["pk"], i["kind"]) for i in board.institutions)
    )
    present = {inst["kind"] for inst in board.institutions}
    return [c for c in KIND_COLUMNS if c[1] not in hidden_kinds and c[1] in present]


def _applying(board: _Board) -> list[tuple[int, list[Target]]]:
    """(pk, its targets) of each visible institution, in order; the general targets are settled once per
    地方法人 flag for the institutions without targets of their own."""
    own = {t.institution_id for t in board.targets if t.institution_id is not None}
    general: dict[bool, list[Target]] = {}
    out = []
    for inst in board.institutions:
        pk, local = inst["pk"], inst["is_local_legal_person"]
        if pk not in board.visible:
            continue
        if pk in own:
            out.append((pk, selectors.applicable_targets(board.targets, {"id": pk, "local": local})))
            continue
        if local not in general:
            general[local] = selectors.applicable_targets(board.targets, {"id": pk, "local": local})
        out.append((pk, general[local]))
    return out


def _standing(board: _Board) -> None:
    """Each visible institution's missed and undecided targets — only whether each is met (selectors.verdicts,
    target by target): the checks themselves are made for the institutions the page lists (failing_cells)."""
    applying = _applying(board)
    keys: dict[int, tuple[Target, list[int]]] = {}  # id(target) → (target, the institutions it applies to)
    for pk, targets in applying:
        for target in targets:
            keys.setdefault(id(target), (target, []))[1].append(pk)
    found = {}
    for key, (target, pks) in keys.items():
        verdicts = selectors.verdicts(
            board.table, target, ScopeKind.INSTITUTION, pks, board.year, board.month
        )
        found.update(((key, pk), v) for pk, v in zip(pks, verdicts, strict=True))
    for pk, targets in applying:
        for target in targets:
            verdict = found[(id(target), pk)]
            if verdict is False:
                board.missed.setdefault(pk, []).append(target)
            elif verdict is None:
                board.undecided[pk] = board.undecided.get(pk, 0) + 1


def _rankings(board: _Board) -> list[dict]:
    """Each group's ranking by the ranked indicator over all its institutions, the visible ones listed (their
    ends, with each one's missed targets and supervision)."""
    better = ind.get(board.rank_code).better
    rankings = []
    for group_value, group_label in EvaluationGroup.choices:
        items = [
            (inst, board.cell(ScopeKind.INSTITUTION, inst["pk"], board.rank_code, with_url=False))
            for inst in board.institutions
            if inst["evaluation_group"] == group_value
        ]
        ranked = [r for r in _rank(items, better) if r.institution["pk"] in board.visible]
        shown_rows, omitted = _ends(ranked, RANK_ENDS)
        for r in shown_rows:
            if r is not None:
                pk = r.institution["pk"]
                r.cell.url = explain_url(
                    ScopeKind.INSTITUTION, pk, board.year, board.month, board.rank_code, live=board.table.live
                )
                r.failing = board.failing_cells(pk)
                r.supervision = board.actions.get(pk, [])[:3]
        rankings.append(
            {"value": group_value, "label": str(group_label), "rows": shown_rows, "omitted": omitted}
        )
    return rankings


def _failing(board: _Board) -> tuple[list[dict], int]:
    """The institutions missing the most targets first, and how many miss any; the full list is the
    per-institution table."""
    worst = sorted(
        (inst for inst in board.institutions if inst["pk"] in board.missed),
        key=lambda inst: -len(board.missed[inst["pk"]]),
    )
    rows = [
        {
            "institution": inst,
            "cells": board.failing_cells(inst["pk"]),
            "supervision": board.actions.get(inst["pk"], [])[:3],
        }
        for inst in worst[:FAILING_SHOWN]
    ]
    return rows, len(worst)


def dashboard_body(user, head: dict) -> dict:
    """The dashboard's numbers for the month and ranked indicator `head` settled (dashboard_head)."""
    board = _board(user, head)
    province_targets = _province_targets(board)
    kinds_present = _kind_columns(board)
    kind_summary = [
        (i, [board.cell(kind, key, i.code) for kind, key, _l in kinds_present]) for i in ind.INDICATORS
    ]
    board.actions = selectors.latest_supervision(user)
    _standing(board)
    failing_rows, failing_total = _failing(board)
    trend_scopes = SCOPE_COLUMNS
    return {
        "province_targets": province_targets,
        "summary": _summary(board, province_targets),
        "scope_columns": SCOPE_COLUMNS,
        "kind_columns": kinds_present,
        "kind_summary": kind_summary,
        "rank_indicator": ind.get(board.rank_code),
        "rankable": [i for i in ind.INDICATORS if i.better],
        "rankings": _rankings(board),
        "failing": failing_rows,
        "failing_total": failing_total,
        "undecided": board.undecided,
        "trend": trend_series(board.table, trend_scopes, board.year),
        "trend_scopes": [(str(k), label) for _kind, k, label in trend_scopes],
        "indicators": [i for i in ind.INDICATORS if not i.test],
        "chart_meta": chart_meta(board.targets),
    }


# --- one institution -----------------------------------------------------------------------------------------


def _vs_median(i: ind.Indicator, cell: Shown, med) -> bool | None:
    """Whether the institution does at least as well as its group's median (None when it cannot be told)."""
    if med is None or not cell.defined or not i.better:
        return None
    if i.better == "high":
        return i.rounded(cell.value.value) >= i.rounded(med)
    return i.rounded(cell.value.value) <= i.rounded(med)


def _institution_row(table: ValueTable, i: ind.Indicator, key: str, year, month, group_ids, targets) -> dict:
    cell = shown(table, ScopeKind.INSTITUTION, key, year, month, i.code)
    peers = [table.get(ScopeKind.INSTITUTION, pk, year, month, i.code).value for pk in group_ids]
    med = ind.median(peers) if not i.test else None
    checks = []
    for target in targets:
        result = check(table, target, ScopeKind.INSTITUTION, key, year, month)
        checks.append({"target": target, "check": result, "text": target_text(target, result)})
    return {
        "cell": cell,
        "last_year": shown(table, ScopeKind.INSTITUTION, key, year - 1, month, i.code),
        "median": i.text(med),
        "median_defined": med is not None,
        "vs_median": _vs_median(i, cell, med),
        "checks": checks,
    }


def _institution_trend(table: ValueTable, key: str, year: int) -> dict:
    def series(y: int, code: str) -> list:
        return [
            shown(table, ScopeKind.INSTITUTION, key, y, m, code, with_url=False).chart_value
            for m in range(1, 13)
        ]

    return {
        i.code: {"this": series(year, i.code), "last": series(year - 1, i.code)}
        for i in ind.INDICATORS
        if not i.test
    }


def institution_page(user, institution, *, year=None, month=None, live=False) -> dict:
    """An institution's indicators vs its targets, last year and its group's median (peers stay anonymous)."""
    choices = [{"year": y, "month": m} for y, m in selectors.institution_months(institution)]
    if year is None or month is None:
        if not choices:
            return {"empty": True, "choices": choices, "as_of": as_of(None), "institution": institution}
        year, month = choices[0]["year"], choices[0]["month"]
    group_ids = selectors.group_members(institution)
    table = selectors.institution_values(institution, group_ids, year, month, live=live)
    mine = selectors.applicable_targets(
        selectors.targets_for(year), {"id": institution.pk, "local": institution.is_local_legal_person}
    )
    by_code: dict[str, list] = {}
    for target in mine:
        by_code.setdefault(target.indicator, []).append(target)
    key = str(institution.pk)
    groups = [
        (
            group,
            [
                _institution_row(table, i, key, year, month, group_ids, by_code.get(i.code, []))
                for i in indicators_
            ],
        )
        for group, indicators_ in ind.by_group()
    ]
    return {
        "empty": False,
        "institution": institution,
        "year": year,
        "month": month,
        "live": live,
        "choices": choices,
        "as_of": as_of(year),
        "groups": groups,
        "trend": {key: _institution_trend(table, key, year)},
        "chart_meta": chart_meta(),
        "trend_scopes": [(key, institution.short_name)],
        "indicators": [i for i in ind.INDICATORS if not i.test],
        "peer_count": len(group_ids),
    }


# --- drill-down ----------------------------------------------------------------------------------------------


def _source_fields(needs) -> list[str]:
    """The sheet fields (with offsets) and reference values behind an indicator's components."""
    out = []
    for name in needs:
        base, offset = ind.split(name)
        if base in ind.DERIVED:
            parts = [f"{f}@{offset}" if offset else f for f in ind.DERIVED[base].parts]
        elif base == "ewr_base":
            parts = ["loan_balance", "loan_balance@start"]
        else:
            parts = [name]
        out += [p for p in parts if p not in out]
    return out


def _missing_reason(need_cols, pos) -> str:
    for col in need_cols.values():
        if np.isnan(col.values[pos]):
            return col.reasons(np.array([pos]))[0]
    return ""


@dataclass
class _Drill:
    """What the rows of one drill-down share: the engine's panel over the scope's members and the columns read."""

    panel: ind.Panel
    year: int
    month: int
    sources: list[str]
    source_cols: dict
    need_cols: dict


def _sheet_source(drill: _Drill, cell: dict, inst_id: int, pos: int, base: str, offset: str) -> None:
    """Where a sheet field was read: the month's 附件4 (link), its version, status and field."""
    at = drill.panel.at(offset).iloc[pos]
    y, m = ind.period_of(int(at["t_at"]))
    if not pd.isna(at["period_id"]):
        cell["url"] = reverse("reporting:sheet", args=[inst_id, int(at["period_id"])])
    version = "" if pd.isna(at["version"]) else f" · 第 {int(at['version'])} 版"
    status = ind.STATUS_LABELS.get(at["status"], "未报送") if isinstance(at["status"], str) else "未报送"
    cell["source"] = f"{y}年{m}月附件4{version} · {status} · 字段 {base}（{ind.FIELD_LABELS[base]}）"


def _plan_source(drill: _Drill, cell: dict, inst_id: int, pos: int) -> None:
    """Where a plan figure was read: the year's 附件3 (link) and its version, its 全省 row."""
    plan = drill.panel.plan_at.iloc[pos] if drill.panel.plan_at is not None else None
    if plan is not None and not pd.isna(plan["period_id"]):
        cell["url"] = reverse("reporting:sheet", args=[inst_id, int(plan["period_id"])])
        version = "" if pd.isna(plan["version"]) else f" · 第 {int(plan['version'])} 版"
    else:
        version = " · 未报送"
    cell["source"] = f"{drill.year}年附件3投放计划{version} · 全省（{ind.PLAN_ROW}）行"


def _source_cell(drill: _Drill, name: str, inst_id: int, pos: int) -> dict:
    col = drill.source_cols[name]
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
        _sheet_source(drill, cell, inst_id, pos, base, offset)
    elif base == "lpr":
        cell["source"] = f"{drill.year}年{drill.month}月一年期LPR（管理员维护）"
    else:
        _plan_source(drill, cell, inst_id, pos)
    return cell


def _member_rows(drill: _Drill, contributing, visible: set[int], names: dict) -> tuple[list[dict], dict]:
    """A row per visible member institution with each source cell; the others only counted."""
    grid = drill.panel.grid.reset_index(drop=True)
    rows, hidden = [], {"count": 0, "contributing": 0}
    for pos in range(len(grid)):
        inst_id = int(grid.at[pos, "institution_id"])
        if inst_id not in visible:
            hidden["count"] += 1
            hidden["contributing"] += int(contributing[pos])
            continue
        rows.append(
            {
                "institution_id": inst_id,
                "name": names.get(inst_id, str(inst_id)),
                "contributing": bool(contributing[pos]),
                "cells": [_source_cell(drill, name, inst_id, pos) for name in drill.sources],
                "reason": "" if contributing[pos] else _missing_reason(drill.need_cols, pos),
            }
        )
    return rows, hidden


def _component_totals(need_cols: dict, contributing) -> list[dict]:
    """Each component summed over the contributing members (averaged, for a constant such as the LPR)."""
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
    return totals


def explain(user, *, scope_kind: str, scope_key: str, year: int, month: int, code: str, live: bool = False):
    """One number taken apart: formula, stored and recomputed value, components, and for every member
    institution the source sheet (link), version and field of each input."""
    indicator = ind.get(code)
    if scope_kind == ScopeKind.KIND and scope_key in selectors.revealing_kinds(user):
        raise PermissionDenied("该类机构在您辖区外只有一两家，其汇总即为这些机构的数据，不对您显示。")
    members = selectors.scope_members(scope_kind, scope_key)
    visible = selectors.visible_ids(user)
    names = selectors.names_of(members)
    inputs = selectors.load_inputs(
        years=[year], include_submitted=live, institution_ids=members, months=[(year, month)]
    )
    result = ind.compute(
        inputs, codes=(code,), scopes=() if scope_kind == ScopeKind.INSTITUTION else (scope_kind,)
    )
    recomputed = ValueTable.from_result(result).get(scope_kind, scope_key, year, month, code)
    stored = recomputed if live else selectors.stored_value(scope_kind, scope_key, year, month, code)

    panel = ind.Panel(inputs)
    sources = _source_fields(indicator.needs)
    need_cols = {name: panel.column(name) for name in indicator.needs}
    drill = _Drill(panel, year, month, sources, {name: panel.column(name) for name in sources}, need_cols)
    contributing = np.ones(len(panel.grid), dtype=bool)
    for col in need_cols.values():
        contributing &= ~np.isnan(col.values)
    rows, hidden = _member_rows(drill, contributing, visible, names)
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
        "components": _component_totals(need_cols, contributing),
        "rows": rows,
        "hidden": hidden,
        "aggregate": scope_kind != ScopeKind.INSTITUTION,
        "as_of": as_of(year),
    }


# --- per-institution table (screen and export) ---------------------------------------------------------------


def _table_row(table: ValueTable, inst: dict, targets, year: int, month: int) -> dict:
    """One institution's row: every indicator, each marked with a target it misses (else one it is checked
    against), and the targets it misses."""
    cells = [shown(table, ScopeKind.INSTITUTION, inst["pk"], year, month, i.code) for i in ind.INDICATORS]
    by_code = {c.indicator.code: c for c in cells}
    failing = []
    for target in selectors.applicable_targets(
        targets, {"id": inst["pk"], "local": inst["is_local_legal_person"]}
    ):
        result = check(table, target, ScopeKind.INSTITUTION, inst["pk"], year, month)
        cell = by_code[target.indicator]
        if cell.check is None or result.met is False:  # a missed target wins the cell's marker
            cell.target, cell.check = target, result
        if result.met is False:
            failing.append({"target": target, "check": result, "text": target_text(target, result)})
    return {
        "institution": inst,
        "group": str(dict(EvaluationGroup.choices).get(inst["evaluation_group"], "")),
        "kind": str(dict(InstitutionKind.choices).get(inst["kind"], "")),
        "cells": cells,
        "failing": failing,
    }


def institution_table(user, *, year=None, month=None, live: bool = False) -> dict:
    """Every indicator of every institution the user may see, for one month, with the targets each misses."""
    visible = selectors.visible_institution_rows(user)
    choices = selectors.month_choices()
    if year is None or month is None:
        picked = selectors.default_month(choices)
        if picked is None:
            return {"empty": True, "choices": choices, "as_of": as_of(None), "rows": []}
        year, month = picked
    ids = [v["pk"] for v in visible]
    table = selectors.institution_month_values(ids, year, month, live=live)
    targets = selectors.targets_for(year)
    return {
        "empty": False,
        "year": year,
        "month": month,
        "live": live,
        "choices": choices,
        "as_of": as_of(year),
        "indicators": list(ind.INDICATORS),
        "groups": [(g, len(items)) for g, items in ind.by_group()],
        "rows": [_table_row(table, inst, targets, year, month) for inst in visible],
        "supervision": selectors.table_supervision(user, ids),
    }
