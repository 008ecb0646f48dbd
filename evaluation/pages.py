"""The report cards (评估报告) of the 四张清单 evaluation, built from the reads of `evaluation.selectors` and of
the indicators app: one institution's scores beside its group's mean and best, how each 定量 input is worded,
its indicators against the year's targets, and the trend charts. The page, the PDF and the batch of cards
(evaluation.tasks) all show this one `Card`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404

from indicators import indicators as ind
from indicators import pages as ipages
from indicators import selectors as isel
from institutions.models import Institution
from portal import pdf

from . import scoring
from .models import Disclosure, Evaluation, Item, ItemKind
from .selectors import (
    ResultTable,
    Row,
    disclosure_for,
    grading_spec,
    indicator_series_many,
    inputs_for,
    institution_indicators,
    results,
    scores_for,
)


@dataclass
class CardItem:
    item: Item
    score: Decimal
    mean: Decimal
    best: Decimal
    input_text: str = ""
    input_note: str = ""
    comment: str = ""
    criteria: list = field(default_factory=list)  # [(name, points, max_points)]
    scored_by: str = ""


@dataclass
class Card:
    """One institution's report card (评估报告): its scores beside its group's mean and best, its grade, its
    indicators against the year's targets, the trend of the 定量 indicators, and the officers' comments."""

    evaluation: Evaluation
    institution: Institution
    row: Row
    group_size: int
    total_mean: Decimal
    total_best: Decimal
    items: list[CardItem]
    targets: list[dict]
    charts: list
    disclosure: Disclosure | None = None

    @property
    def rule(self) -> str:
        return grading_spec(self.evaluation).describe()

    @property
    def families(self) -> list[tuple[str, list[CardItem]]]:
        out = []
        for kind, label in ItemKind.choices:
            members = [c for c in self.items if c.item.kind == kind]
            if members:
                out.append((str(label), members))
        return out


def _input_text(item: Item, value, source: str) -> tuple[str, str]:
    if value is None:
        return "—", ""
    if source == "reference":
        return f"{scoring.text(value)}", "得分等价值：附件1 未公布指标原值"
    indicator = ind.REGISTRY.get(item.indicator_code)
    shown = indicator.text(Decimal(value), with_unit=True) if indicator else scoring.text(value)
    return shown, f"{item.indicator_year}年{item.indicator_month}月末"


def _targets(institution: Institution, year: int, month: int) -> list[dict]:
    """The year's institution targets from the indicators app, checked at `month` (empty if it has none)."""

    targets = isel.applicable_targets(
        isel.targets_for(year), {"id": institution.pk, "local": institution.is_local_legal_person}
    )
    if not targets:
        return []
    table = institution_indicators(institution, year)
    out = []
    for target in targets:
        result = isel.check(table, target, "institution", str(institution.pk), year, month)
        value = table.get("institution", str(institution.pk), year, month, target.indicator)
        out.append(
            {
                "label": target.label,
                "actual": ind.get(target.indicator).text(value.value, with_unit=True),
                "target": ipages.target_text(target, result),
                "status": result.status,
                "met": result.met,
                "reason": result.reason,
            }
        )
    return out


def _charts(evaluation: Evaluation, institution: Institution, items: list[Item]) -> list:
    """The monthly trend over the evaluated year: the institution's 普惠小微贷款余额, then each 定量 item's
    indicator for the institution beside its group's aggregate (one query)."""

    quantitative = [
        (item, ind.REGISTRY[item.indicator_code])
        for item in items
        if item.is_quantitative and item.indicator_year and item.indicator_code in ind.REGISTRY
    ]
    year = quantitative[0][0].indicator_year if quantitative else evaluation.year
    mine, group = ("institution", str(institution.pk)), ("group", institution.evaluation_group)
    group_label = f"{institution.get_evaluation_group_display()}合计"
    codes = ["loan_balance"] + [indicator.code for _item, indicator in quantitative]
    series = indicator_series_many(codes=codes, year=year, scopes=[mine, group])
    balance = ind.get("loan_balance")
    charts = [
        pdf.trend_svg(
            f"{balance.label}（{year}年逐月，{balance.unit}）",
            [(institution.short_name, series[("loan_balance", mine)], "#a4161a", False)],
            percent=False,
        )
    ]
    for item, indicator in quantitative:
        charts.append(
            pdf.trend_svg(
                f"{indicator.label}（{item.indicator_year}年逐月）",
                [
                    (institution.short_name, series[(indicator.code, mine)], "#a4161a", False),
                    (group_label, series[(indicator.code, group)], "#5f6b7a", True),
                ],
                percent=indicator.share,
            )
        )
    return charts


def _card_item(item: Item, position: int, row: Row, stat: dict, scores: dict, inputs: dict) -> CardItem:
    """An item of the card: its score, the group's mean and best, and the 定量 input as worded or the 定性
    officer's comment, criteria and name."""
    entry = CardItem(item=item, score=row.scores[position], mean=stat["mean"], best=stat["best"])
    if item.is_quantitative:
        source = inputs.get(item.pk)
        entry.input_text, entry.input_note = _input_text(
            item, row.inputs.get(item.code), source.source if source else "indicator"
        )
        return entry
    s = scores.get(item.pk)
    if s is not None:
        entry.comment = s.comment
        entry.scored_by = str(s.scored_by) if s.scored_by else ""
        given = s.criteria or {}  # jsonb keeps no key order: list them in the item's order
        entry.criteria = [
            (c.name, Decimal(given[c.code]), c.max_points) for c in item.criteria.all() if c.code in given
        ]
    return entry


def report_card(evaluation: Evaluation, institution: Institution, table: ResultTable | None = None) -> Card:
    table = table or results(evaluation)
    row = table.row_for(institution.pk)
    if row is None:
        raise Http404("该机构没有评估结果（评估尚不能计算，或该机构未参评）。")
    items = table.ordered_items
    stats = table.stats
    scores = scores_for(evaluation, institution)
    inputs = inputs_for(evaluation, institution)
    card_items = [
        _card_item(item, position, row, stats[(row.group, item.code)], scores, inputs)
        for position, item in enumerate(items)
    ]
    total = stats[(row.group, "total")]
    month = next((i.indicator_month for i in items if i.is_quantitative and i.indicator_month), 12)
    return Card(
        evaluation=evaluation,
        institution=institution,
        row=row,
        group_size=total["count"],
        total_mean=total["mean"],
        total_best=total["best"],
        items=card_items,
        targets=_targets(institution, evaluation.year, month),
        charts=_charts(evaluation, institution, items),
        disclosure=disclosure_for(evaluation, institution),
    )
