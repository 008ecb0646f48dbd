"""The 四张清单 scoring engine: pure pandas over plain frames, no ORM (selectors build the frames).

Every score is a `Decimal`, kept unrounded (to 12 decimals) from the item scores to the total; only what is
shown is rounded, half-up to two decimals (`half_up`). Totals are sums of the unrounded parts, which is how
附件1 was computed: three of its rows differ by 0.01 from the sum of their rounded parts.

定量 methods (`score_item`), each applied within the institution's group (w = weight, f = floor_share × w,
x = the institution's indicator value; the group's lowest scorer gets f, its best w):

- ``linear``        f + (w - f) × (x - min) ÷ (max - min)                         (组内线性插值)
- ``linear_target`` the same with x capped at the target: x ≥ target gets w        (达到目标值即满分)
- ``ratio_best``    f + (w - f) × x ÷ max, the ratio clipped to [0, 1]              (与组内最优值之比)
- ``rank``          f + (w - f) × (n - rank) ÷ (n - 1); ties share the better rank  (按组内排名)
- ``steps``         w × share of the highest step whose minimum x reaches, else f   (分档计分)

When everyone in a group has the same value — a group of one included — nobody is behind the best, and
everyone gets w (no zero denominator is ever divided by). ``ratio_best`` needs a positive best value; a
group whose best is ≤ 0 is refused with a message, never scored as 0.

Bad input is never half-computed: `evaluate` first collects every problem (weights that don't add up to the
scheme's total, a group without members, a missing or out-of-bounds score, an indicator without a value)
and raises `ScoringError` with all of them, in Chinese, naming the institution, item and reason.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pandas as pd

from . import grading

QUALITATIVE, QUANTITATIVE = "qualitative", "quantitative"
LINEAR, LINEAR_TARGET, RATIO_TO_BEST, RANK, STEPS = "linear", "linear_target", "ratio_best", "rank", "steps"
METHODS = (LINEAR, LINEAR_TARGET, RATIO_TO_BEST, RANK, STEPS)
METHOD_LABELS = {
    LINEAR: "组内线性插值",
    LINEAR_TARGET: "组内线性插值（达到目标值即满分）",
    RATIO_TO_BEST: "与组内最优值之比",
    RANK: "按组内排名",
    STEPS: "分档计分",
}

SCORE_PLACES = 12
QUANTUM = Decimal(1).scaleb(-SCORE_PLACES)
CENT = Decimal("0.01")
ZERO, ONE = Decimal(0), Decimal(1)


def half_up(value, places: int = 2) -> Decimal | None:
    """The figure people see: rounded half-up (15.155 → 15.16), never half-even; undefined stays None."""
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def text(value, places: int = 2) -> str:
    """ "15.16", or "—" when undefined."""
    shown = half_up(value, places)
    return "—" if shown is None else f"{shown:.{places}f}"


def item_text(value, *, qualitative: bool) -> str:
    """A score as 附件1 prints it: a 定性 score as the officers gave it — "18", "17.5" — a 定量 score (and a
    total) with two decimals, "15.61", "12.00"; "—" when undefined."""
    if not qualitative:
        return text(value)
    shown = half_up(value)
    if shown is None:
        return "—"
    return f"{shown:.0f}" if shown == shown.to_integral_value() else f"{shown.normalize():f}"


def item_number_format(value, *, qualitative: bool) -> str:
    """The Excel number format that shows a score as `item_text` does."""
    shown = half_up(value)
    if not qualitative or shown is None:
        return "0.00"
    if shown == shown.to_integral_value():
        return "0"
    return "0.0" if shown * 10 == (shown * 10).to_integral_value() else "0.00"


class ScoringError(Exception):
    """The evaluation cannot be computed; `problems` says which institution/item/group and why (Chinese)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        self.message = "评估无法计算：" + "；".join(self.problems)
        super().__init__(self.message)


# --- the scheme --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Criterion:
    code: str
    name: str
    max_points: Decimal


@dataclass(frozen=True, kw_only=True)
class ItemSpec:
    code: str
    name: str
    kind: str
    weight: Decimal
    method: str = ""
    floor_share: Decimal = ZERO
    target: Decimal | None = None
    steps: tuple[tuple[Decimal, Decimal], ...] = ()  # (minimum value, share of the weight)
    criteria: tuple[Criterion, ...] = ()

    @property
    def floor(self) -> Decimal:
        return self.weight * self.floor_share

    @property
    def heading(self) -> str:
        return f"{self.name}（{self.weight.normalize():f}）"


@dataclass(frozen=True, kw_only=True)
class Scheme:
    total_weight: Decimal
    items: tuple[ItemSpec, ...]
    groups: tuple[tuple[str, str], ...]  # (code, name), in the order of the result table
    grading: grading.GradingSpec

    def item(self, code: str) -> ItemSpec:
        return next(i for i in self.items if i.code == code)

    @property
    def qualitative(self) -> tuple[ItemSpec, ...]:
        return tuple(i for i in self.items if i.kind == QUALITATIVE)

    @property
    def quantitative(self) -> tuple[ItemSpec, ...]:
        return tuple(i for i in self.items if i.kind == QUANTITATIVE)


def scheme_problems(scheme: Scheme) -> list[str]:
    """What is wrong with the scheme itself, whatever the data."""
    problems = []
    total = sum((i.weight for i in scheme.items), ZERO)
    if total != scheme.total_weight:
        parts = " + ".join(f"{i.name} {i.weight.normalize():f}" for i in scheme.items) or "无评估项目"
        problems.append(
            f"各项目分值合计 {total.normalize():f} 分（{parts}），与满分 {scheme.total_weight.normalize():f} 分不符，"
            "请调整分值"
        )
    for item in scheme.items:
        if item.weight <= 0:
            problems.append(f"“{item.name}”的分值必须大于零")
        if item.kind == QUALITATIVE:
            if item.criteria:
                points = sum((c.max_points for c in item.criteria), ZERO)
                if points != item.weight:
                    problems.append(
                        f"“{item.name}”各评分要点分值合计 {points.normalize():f} 分，与项目分值 "
                        f"{item.weight.normalize():f} 分不符"
                    )
            continue
        if item.method not in METHODS:
            problems.append(f"“{item.name}”未设置有效的计分方法")
        if not ZERO <= item.floor_share <= ONE:
            problems.append(f"“{item.name}”的保底得分比例应在 0 到 1 之间（60% 填 0.6）")
        if item.method == LINEAR_TARGET and item.target is None:
            problems.append(f"“{item.name}”按目标值计分，但未设置目标值")
        if item.method == STEPS:
            if not item.steps:
                problems.append(f"“{item.name}”按分档计分，但未设置分档")
            for minimum, share in item.steps:
                if not item.floor_share <= share <= ONE:
                    problems.append(
                        f"“{item.name}”分档（指标 ≥ {minimum.normalize():f}）的得分比例 {share.normalize():f} "
                        f"应在保底比例 {item.floor_share.normalize():f} 与 1 之间"
                    )
            if len({m for m, _s in item.steps}) != len(item.steps):
                problems.append(f"“{item.name}”有重复的分档下限")
    problems += grading.spec_problems(scheme.grading)
    return problems


# --- 定量 methods ---------------------------------------------------------------------------------------------


def _dec(series: pd.Series) -> pd.Series:
    return series.astype(object)


def _linear(x: pd.Series, groups: pd.Series, w: Decimal, f: Decimal) -> pd.Series:
    lo = x.groupby(groups).transform("min")
    hi = x.groupby(groups).transform("max")
    span = _dec(hi - lo)
    flat = (span == ZERO).to_numpy(dtype=bool)
    fraction = _dec(x - lo) / _dec(span.where(~flat, ONE))
    return _dec((f + (w - f) * fraction).where(~flat, w))


def score_item(
    item: ItemSpec, values: pd.Series, groups: pd.Series, group_names: dict | None = None
) -> pd.Series:
    """The item's unrounded score for every institution (index of `values`), within `groups`."""
    x = _dec(values)
    w, f = item.weight, item.floor
    with localcontext() as ctx:
        ctx.prec = 34
        if item.method == LINEAR:
            scores = _linear(x, groups, w, f)
        elif item.method == LINEAR_TARGET:
            scores = _linear(_dec(x.map(lambda v: min(v, item.target))), groups, w, f)
        elif item.method == RATIO_TO_BEST:
            best = x.groupby(groups).transform("max")
            flat = (_dec(best - x.groupby(groups).transform("min")) == ZERO).to_numpy(dtype=bool)
            bad = (~flat) & (best <= ZERO).to_numpy(dtype=bool)
            if bad.any():
                names = group_names or {}
                raise ScoringError(
                    [
                        f"“{item.name}”按与组内最优值之比计分，但{names.get(g, g)}的最优值为 {text(b, 4)}，"
                        "不大于零，比值无意义：请改用组内线性插值或按排名计分"
                        for g, b in sorted(set(zip(groups[bad], best[bad], strict=True)))
                    ]
                )
            ratio = _dec(x / _dec(best.where(~flat, ONE))).map(lambda r: min(max(r, ZERO), ONE))
            scores = _dec((f + (w - f) * ratio).where(~flat, w))
        elif item.method == RANK:
            rank = x.groupby(groups).rank(method="min", ascending=False).astype(int).map(Decimal)
            size = groups.map(groups.value_counts()).astype(int).map(Decimal)
            single = (size == ONE).to_numpy(dtype=bool)
            scores = _dec(
                (f + (w - f) * (size - rank) / _dec(size - ONE).where(~single, ONE)).where(~single, w)
            )
        elif item.method == STEPS:
            scores = pd.Series([f] * len(x), index=x.index, dtype=object)
            for minimum, share in sorted(item.steps):
                scores = _dec(scores.where(~(x >= minimum).to_numpy(dtype=bool), w * share))
        else:
            raise ScoringError([f"“{item.name}”的计分方法“{item.method}”无效"])
    return scores.map(lambda d: Decimal(d).quantize(QUANTUM))


# --- the whole evaluation ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """Scores per institution (index: institution key): group, name, order, one column per item (unrounded
    Decimal), total (unrounded), shown (total rounded half-up), rank, group_mean, computed_grade, grade,
    override_reason. `inputs` holds the indicator value behind each 定量 score."""

    scheme: Scheme
    frame: pd.DataFrame
    inputs: pd.DataFrame = field(default_factory=pd.DataFrame)

    def group_stats(self) -> dict[tuple[str, str], dict[str, Decimal]]:
        """{(group, item or "total"): {"mean", "best", "count"}} over the group's members, unrounded."""
        out = {}
        for group, rows in self.frame.groupby("group", sort=False):
            for column in [i.code for i in self.scheme.items] + ["total"]:
                values = list(rows[column])
                out[(group, column)] = {
                    "mean": sum(values, ZERO) / len(values),
                    "best": max(values),
                    "count": len(values),
                }
        return out

    def ordered(self, order: str = "listed") -> pd.DataFrame:
        """Rows grouped in the scheme's group order; within a group by listing order or by total."""
        position = {code: i for i, (code, _name) in enumerate(self.scheme.groups)}
        frame = self.frame.assign(_g=self.frame["group"].map(position))
        keys = ["_g", "rank", "order"] if order == "score" else ["_g", "order"]
        return frame.sort_values(keys, kind="stable").drop(columns="_g")


def _frame(rows, columns) -> pd.DataFrame:
    return rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=columns)


def problems(
    scheme: Scheme, members: pd.DataFrame, qualitative: pd.DataFrame, quantitative: pd.DataFrame
) -> list[str]:
    """Everything that stops the evaluation from being computed, each naming what and why."""
    out = scheme_problems(scheme)
    names = dict(zip(members["institution"], members["name"], strict=True))
    group_names = dict(scheme.groups)
    counts = members["group"].value_counts()
    for code, name in scheme.groups:
        if counts.get(code, 0) == 0:
            out.append(f"{name}没有参评机构：请为该组添加机构，或删除该组")
    strays = sorted(set(members["group"]) - set(group_names))
    for code in strays:
        out.append(f"有机构被分在不存在的分组“{code}”")
    duplicated = members["institution"][members["institution"].duplicated()]
    for key in duplicated:
        out.append(f"{names.get(key, key)}被分在多个组")

    scores = {(r.institution, r.item): r.score for r in qualitative.itertuples(index=False)}
    for item in scheme.qualitative:
        for key in members["institution"]:
            value = scores.get((key, item.code))
            if value is None:
                out.append(f"{names[key]}的“{item.name}”尚未评分")
            elif not ZERO <= value <= item.weight:
                out.append(
                    f"{names[key]}的“{item.name}”得分 {text(value)} 超出范围（0–{item.weight.normalize():f} 分）"
                )
    inputs = {(r.institution, r.item): (r.value, r.reason) for r in quantitative.itertuples(index=False)}
    for item in scheme.quantitative:
        for key in members["institution"]:
            value, reason = inputs.get((key, item.code), (None, "尚未取数"))
            if value is None or (isinstance(value, float) and np.isnan(value)):
                out.append(f"{names[key]}的“{item.name}”没有指标值（{reason or '无数据'}），无法计算定量得分")
    return out


def evaluate(
    *,
    scheme: Scheme,
    members,
    qualitative,
    quantitative,
    overrides: dict | None = None,
) -> Outcome:
    """Score every member on every item, total, rank and grade them within their groups.

    members: institution (any hashable key), name, group (code), order (listing order).
    qualitative: institution, item (code), score (Decimal) — one row per 定性 item and institution.
    quantitative: institution, item (code), value (Decimal or None), reason — the indicator behind a 定量 item.
    overrides: {institution: (grade, reason)} — an officer's grade instead of the rule's, with the reason.
    """
    members = _frame(members, ["institution", "name", "group", "order"])
    qualitative = _frame(qualitative, ["institution", "item", "score"])
    quantitative = _frame(quantitative, ["institution", "item", "value", "reason"])
    found = problems(scheme, members, qualitative, quantitative)
    if found:
        raise ScoringError(found)

    frame = members.set_index("institution")[["name", "group", "order"]].copy()
    groups = frame["group"]
    group_names = dict(scheme.groups)
    wide_q = (
        qualitative.pivot(index="institution", columns="item", values="score") if len(qualitative) else None
    )
    wide_x = (
        quantitative.pivot(index="institution", columns="item", values="value") if len(quantitative) else None
    )
    inputs = pd.DataFrame(index=frame.index)
    for item in scheme.items:
        if item.kind == QUALITATIVE:
            frame[item.code] = _dec(wide_q[item.code].reindex(frame.index)).map(
                lambda d: Decimal(d).quantize(QUANTUM)
            )
        else:
            values = _dec(wide_x[item.code].reindex(frame.index)).map(Decimal)
            inputs[item.code] = values
            frame[item.code] = score_item(item, values, groups, group_names)
    frame["total"] = functools.reduce(operator.add, [frame[i.code] for i in scheme.items])
    graded = grading.grade(frame[["group", "total"]], scheme.grading)
    frame = frame.join(graded)
    frame["grade"] = frame["computed_grade"]
    frame["override_reason"] = ""
    for key, (grade, reason) in (overrides or {}).items():
        if key in frame.index:
            frame.loc[key, "grade"] = grade
            frame.loc[key, "override_reason"] = reason
    return Outcome(scheme=scheme, frame=frame, inputs=inputs)
