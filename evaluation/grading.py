"""Grading within each group (组间评估结果: 优秀 / 良好 / 一般 / 勉励), and the analysis that finds which rule
fits a published result table. Pure pandas; no ORM.

A grade is decided on the total as published — rounded half-up to two decimals — so anyone can check it
against the table; the group mean is the mean of those published totals, and ranks tie on them too.

Three rules, configured per evaluation by three cut-offs (t优秀, t良好, t一般; 勉励 takes the rest):

- ``absolute``       total ≥ t                                   (points)
- ``relative_mean``  total - group mean ≥ t                      (points above the mean; negative: below)
- ``rank_quota``     rank ≤ round_half_up(cumulative share × n)   (t = the share of the group, 0.2 = 20%);
                     tied institutions share the better rank, so ties never split across two grades.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

ABSOLUTE, RELATIVE_MEAN, RANK_QUOTA = "absolute", "relative_mean", "rank_quota"
METHODS = (ABSOLUTE, RELATIVE_MEAN, RANK_QUOTA)
METHOD_LABELS = {ABSOLUTE: "按总分分数线", RELATIVE_MEAN: "按与组内平均分之差", RANK_QUOTA: "按组内排名比例"}
EXCELLENT, GOOD, FAIR, ENCOURAGED = "excellent", "good", "fair", "encouraged"
GRADES = (EXCELLENT, GOOD, FAIR, ENCOURAGED)
GRADE_LABELS = {EXCELLENT: "优秀", GOOD: "良好", FAIR: "一般", ENCOURAGED: "勉励"}
LABEL_GRADES = {v: k for k, v in GRADE_LABELS.items()}
CENT = Decimal("0.01")
ZERO, ONE = Decimal(0), Decimal(1)


@dataclass(frozen=True, kw_only=True)
class GradingSpec:
    method: str
    thresholds: tuple[Decimal, Decimal, Decimal]  # cut-offs of 优秀, 良好, 一般

    def describe(self) -> str:
        """The rule in a sentence, as printed under the result table."""
        t = [Decimal(x) for x in self.thresholds]
        if self.method == RANK_QUOTA:
            shares = "、".join(f"{GRADE_LABELS[g]}{_pct(s)}" for g, s in zip(GRADES, t, strict=False))
            return f"按组内排名比例：{shares}，其余为勉励（名额 = 比例 × 组内机构数，四舍五入；同分同档）"
        unit = "组内平均分" if self.method == RELATIVE_MEAN else ""
        parts = []
        for grade, cut in zip(GRADES, t, strict=False):
            if self.method == RELATIVE_MEAN:
                parts.append(f"{GRADE_LABELS[grade]}：总分 ≥ {unit}{_signed(cut)}")
            else:
                parts.append(f"{GRADE_LABELS[grade]}：总分 ≥ {cut.normalize():f}")
        return "；".join(parts) + "；其余为勉励"


def _pct(share: Decimal) -> str:
    return f"{(share * 100).normalize():f}%"


def _signed(points: Decimal) -> str:
    if points == 0:
        return ""
    return f" {'+' if points > 0 else '-'} {abs(points).normalize():f} 分"


def spec_problems(spec: GradingSpec) -> list[str]:
    if spec.method not in METHODS:
        return [f"评级方法“{spec.method}”无效"]
    t = [Decimal(x) for x in spec.thresholds]
    if spec.method == RANK_QUOTA:
        out = []
        if any(x < 0 or x > 1 for x in t):
            out.append("排名比例应在 0 到 1 之间（20% 填 0.2）")
        if sum(t, ZERO) > 1:
            out.append(f"优秀、良好、一般的比例合计 {_pct(sum(t, ZERO))}，超过 100%")
        return out
    if not t[0] >= t[1] >= t[2]:
        return [
            f"评级分数线应从高到低：优秀线 {t[0].normalize():f} ≥ 良好线 {t[1].normalize():f} ≥ "
            f"一般线 {t[2].normalize():f}"
        ]
    return []


def _round(value: Decimal, places: int = 2) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def published_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """shown (total rounded half-up), rank (1 = best, ties share the better rank), group_size, group_mean."""
    shown = frame["total"].map(_round).astype(object)
    groups = frame["group"]
    size = groups.map(groups.value_counts()).astype(int)
    sums = shown.groupby(groups).transform(lambda s: sum(s, ZERO))
    mean = pd.Series([s / n for s, n in zip(sums, size, strict=True)], index=frame.index, dtype=object)
    rank = shown.groupby(groups).rank(method="min", ascending=False).astype(int)
    return pd.DataFrame(
        {"shown": shown, "rank": rank, "group_size": size, "group_mean": mean}, index=frame.index
    )


def grade(frame: pd.DataFrame, spec: GradingSpec) -> pd.DataFrame:
    """frame: group, total (unrounded Decimal) → shown, rank, group_size, group_mean, computed_grade."""
    out = published_totals(frame)
    t = [Decimal(x) for x in spec.thresholds]
    result = pd.Series(ENCOURAGED, index=frame.index, dtype=object)
    decided = pd.Series(False, index=frame.index)
    if spec.method == RANK_QUOTA:
        cumulative = ZERO
        for g, share in zip(GRADES, t, strict=False):
            cumulative += share
            places = (out["group_size"].map(lambda n, c=cumulative: _round(c * n, 0))).astype(int)
            hit = (out["rank"] <= places) & ~decided
            result[hit] = g
            decided |= hit
    else:
        measure = (
            out["shown"] if spec.method == ABSOLUTE else (out["shown"] - out["group_mean"]).astype(object)
        )
        for g, cut in zip(GRADES, t, strict=False):
            hit = (measure >= cut).astype(bool) & ~decided
            result[hit] = g
            decided |= hit
    out["computed_grade"] = result
    return out


# --- which rule fits a published table ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Bound:
    """The cut-off of `grade` must lie in (low, high] (None: unbounded); `suggested` is a round value in it."""

    grade: str
    low: Decimal | None
    high: Decimal | None
    suggested: Decimal | None


@dataclass(frozen=True, kw_only=True)
class Fit:
    method: str
    feasible: bool
    bounds: tuple[Bound, ...] = ()
    reason: str = ""

    @property
    def spec(self) -> GradingSpec | None:
        if not self.feasible:
            return None
        return GradingSpec(method=self.method, thresholds=tuple(b.suggested for b in self.bounds))


def _suggest(low: Decimal | None, high: Decimal | None) -> Decimal:
    """The value of (low, high] a person would pick: a multiple of 5 points if there is one, else the
    integer nearest zero, else the midpoint rounded to two decimals."""
    if low is None and high is None:
        return ZERO
    if low is None:
        return Decimal(int(high // 1))
    if high is None:
        return Decimal(int(low // 1) + 1)
    candidates = [Decimal(n) for n in range(int(low // 1), int(high // 1) + 2) if low < n <= high]
    if candidates:
        fives = [n for n in candidates if n % 5 == 0]
        return min(fives or candidates, key=abs)
    return _round((low + high) / 2)


def _threshold_fit(method: str, table: pd.DataFrame, measure: pd.Series, names: pd.Series) -> Fit:
    bounds = []
    level = table["grade"].map(GRADES.index)
    for k, g in enumerate(GRADES[:3]):
        better, worse = level <= k, level > k
        low = max(measure[worse]) if worse.any() else None
        high = min(measure[better]) if better.any() else None
        if low is not None and high is not None and not low < high:
            top = measure[worse].astype(float).idxmax()
            bottom = measure[better].astype(float).idxmin()
            what = "总分" if method == ABSOLUTE else "总分与组内平均分之差"
            return Fit(
                method=method,
                feasible=False,
                reason=(
                    f"{names[bottom]}（{GRADE_LABELS[table.loc[bottom, 'grade']]}，{what} {_round(measure[bottom])}）"
                    f"不高于{names[top]}（{GRADE_LABELS[table.loc[top, 'grade']]}，{what} {_round(measure[top])}），"
                    f"不存在同一条{GRADE_LABELS[g]}线"
                ),
            )
        bounds.append(Bound(grade=g, low=low, high=high, suggested=_suggest(low, high)))
    return Fit(method=method, feasible=True, bounds=tuple(bounds))


def _quota_fit(table: pd.DataFrame, names: pd.Series, group_names: dict) -> Fit:
    totals = published_totals(table)
    level = table["grade"].map(GRADES.index)
    for group, rows in table.groupby("group", sort=False):
        ranks = totals.loc[rows.index, "rank"]
        for a in rows.index:
            for b in rows.index:
                if ranks[a] < ranks[b] and level[a] > level[b]:
                    return Fit(
                        method=RANK_QUOTA,
                        feasible=False,
                        reason=f"{group_names.get(group, group)}中{names[a]}排名高于{names[b]}，评估结果却更低，与任何排名比例都不符",
                    )
    bounds, previous = [], ZERO
    for k, g in enumerate(GRADES[:3]):
        low, high, why = ZERO, ONE + ONE, []
        for group, rows in table.groupby("group", sort=False):
            n = len(rows)
            c = int((level[rows.index] <= k).sum())
            # round_half_up(S × n) = c  ⟺  (c - ½) / n ≤ S < (c + ½) / n
            lo, hi = (Decimal(c) - Decimal("0.5")) / n, (Decimal(c) + Decimal("0.5")) / n
            why.append(
                f"{group_names.get(group, group)} {n} 家中{c}家为{GRADE_LABELS[g]}及以上（累计比例需在 [{_pct(_round(max(lo, ZERO), 4))}, {_pct(_round(hi, 4))})）"
            )
            low, high = max(low, lo), min(high, hi)
        if not low < high:
            return Fit(method=RANK_QUOTA, feasible=False, reason="；".join(why) + "：不存在同一个比例")
        share = _round((low + high) / 2 - previous, 4)
        bounds.append(Bound(grade=g, low=low, high=high, suggested=share))
        previous += share
    return Fit(method=RANK_QUOTA, feasible=True, bounds=tuple(bounds))


def analyse(table: pd.DataFrame, group_names: dict | None = None) -> list[Fit]:
    """table: group, total (published, Decimal), grade (code), name — for each rule, whether some cut-offs
    reproduce every grade, within which bounds (for rank quotas: of the cumulative share), or the
    institutions that rule it out."""
    totals = published_totals(table)
    names = table["name"]
    absolute = _threshold_fit(ABSOLUTE, table, totals["shown"], names)
    relative = _threshold_fit(
        RELATIVE_MEAN, table, (totals["shown"] - totals["group_mean"]).astype(object), names
    )
    return [relative, _quota_fit(table, names, group_names or {}), absolute]
