"""The 2021 Hubei result table (附件1 of 武银〔2022〕45号) as the engine's reference.

附件1 publishes, per institution, its group, grade (组间评估结果), 总分 and five item scores rounded to two
decimals — not the indicators behind the two 定量 items, nor the formula, nor the grade cut-offs.

What the table shows, and what this module does with it:

1. **定量 formula.** In each group and for each 定量 item, exactly the lowest scorer sits on 12.00 and the
   best on 20.00 = 60% and 100% of the weight: linear interpolation within the group between a 60% floor and
   the full weight (`linear`, floor_share 0.6). That formula is invariant under any increasing affine change
   of the indicator, so the only thing the table tells about an institution's indicator is its position in
   its group's range — which is its score. We therefore load each institution's **score-equivalent value**
   (an indicator on the score's own scale, source "附件1反推") as the 定量 input, and the engine's `linear`
   method turns it back into the score within the group. We do not invent growth rates.

2. **Unrounded parts.** 总分 is the sum of unrounded parts: in three rows (中信银行 +0.01, 平安银行 -0.01,
   武汉农商行 -0.01) it differs from the sum of the rounded parts. The 定性 scores are whole points, so the
   missing digits are in the two 定量 scores. For those rows we place both 定量 scores δ = ±0.00375 from
   their published figure — the middle of the only interval [±0.0025, ±0.005) where an equal shift of both
   makes the total round to the published 总分 while each score still rounds to its published figure — and
   `reconstruct` verifies both conditions. The group's lowest and best scorers (12.00 / 20.00) anchor the
   interpolation and are never shifted; every other row keeps its published figures exactly.

3. **Grades.** `grading.analyse` tries the three rules on the table. Absolute cut-offs cannot fit
   (建设银行 84.00 is 一般 while 浙商银行 76.57 is 良好); rank quotas cannot fit (第1组 and 第3组 both have 5
   members, but 第1组 has 3 一般 and no 勉励 while 第3组 has 2 一般 and 1 勉励). Cut-offs relative to the
   group mean of the published totals fit, within 优秀 ∈ (+3.86, +5.62], 良好 ∈ (-1.09, +0.17],
   一般 ∈ (-5.60, -4.54] points; the round numbers inside are **优秀 ≥ mean + 5, 良好 ≥ mean,
   一般 ≥ mean - 5, else 勉励** — `GRADING_2021`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from . import grading, scoring
from .scoring import QUALITATIVE, QUANTITATIVE, Criterion, ItemSpec, Scheme

TITLE_2021 = "2021年湖北省小微企业“四张清单”工作评估"
GRADING_2021 = grading.GradingSpec(
    method=grading.RELATIVE_MEAN, thresholds=(Decimal(5), Decimal(0), Decimal(-5))
)
GROUPS = (("G1", "第1组"), ("G2", "第2组"), ("G3", "第3组"))
FLOOR_SHARE = Decimal("0.6")
SHIFT = Decimal("0.00375")


@dataclass(frozen=True, kw_only=True)
class ItemDef:
    """An item of the 2021 scheme: the CSV header names it; indicator/criteria configure the portal's copy."""

    code: str
    name: str
    kind: str
    weight: Decimal
    indicator: str = ""
    criteria: tuple[Criterion, ...] = ()


# 附件1's columns. Sub-criteria are the portal's scoring aid (004 §(十二): 公示全覆盖, 审批权限下放, 办贷环节压缩,
# 逐笔回告, 免责比例); the 2021 scores were published per item, so the reference loads them per item.
ITEMS_2021 = (
    ItemDef(
        code="authorization",
        name="授权、授信清单",
        kind=QUALITATIVE,
        weight=Decimal(25),
        criteria=(
            Criterion(code="completeness", name="清单内容完整规范", max_points=Decimal(8)),
            Criterion(code="delegation", name="审批权限下放", max_points=Decimal(7)),
            Criterion(code="streamlining", name="办贷环节压缩", max_points=Decimal(5)),
            Criterion(code="channels", name="公示渠道", max_points=Decimal(5)),
        ),
    ),
    ItemDef(
        code="acceptance",
        name="受理回告清单",
        kind=QUALITATIVE,
        weight=Decimal(15),
        criteria=(
            Criterion(code="each_reply", name="逐笔回告", max_points=Decimal(8)),
            Criterion(code="timeliness", name="回告时限", max_points=Decimal(4)),
            Criterion(code="channels", name="公示渠道", max_points=Decimal(3)),
        ),
    ),
    ItemDef(
        code="exemption",
        name="尽职免责清单",
        kind=QUALITATIVE,
        weight=Decimal(20),
        criteria=(
            Criterion(code="situations", name="免责情形明确", max_points=Decimal(6)),
            Criterion(code="ratio", name="免责比例", max_points=Decimal(8)),
            Criterion(code="channels", name="公示渠道", max_points=Decimal(6)),
        ),
    ),
    ItemDef(
        code="growth_ytd",
        name="普惠小微贷款比年初增长",
        kind=QUANTITATIVE,
        weight=Decimal(20),
        indicator="loan_growth_ytd",
    ),
    ItemDef(
        code="growth_yoy", name="同比增速", kind=QUANTITATIVE, weight=Decimal(20), indicator="loan_growth_yoy"
    ),
)


def scheme_2021(grading_spec: grading.GradingSpec = GRADING_2021) -> Scheme:
    return Scheme(
        total_weight=Decimal(100),
        items=tuple(
            ItemSpec(
                code=d.code,
                name=d.name,
                kind=d.kind,
                weight=d.weight,
                method=scoring.LINEAR if d.kind == QUANTITATIVE else "",
                floor_share=FLOOR_SHARE if d.kind == QUANTITATIVE else Decimal(0),
                criteria=d.criteria,
            )
            for d in ITEMS_2021
        ),
        groups=GROUPS,
        grading=grading_spec,
    )


class ReferenceError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Row:
    name: str
    group: str
    grade: str
    total: Decimal
    scores: dict[str, Decimal]
    line: int


@dataclass
class Table:
    rows: list[Row]

    def frame(self) -> pd.DataFrame:
        """name (index), group, grade, total — the published columns, for `grading.analyse`."""
        return pd.DataFrame(
            {
                "name": [r.name for r in self.rows],
                "group": [r.group for r in self.rows],
                "grade": [r.grade for r in self.rows],
                "total": pd.Series([r.total for r in self.rows], dtype=object).to_numpy(),
            },
            index=[r.name for r in self.rows],
        )


_HEADER = re.compile(r"^(.+?)[（(]\s*(\d+(?:\.\d+)?)\s*[)）]$")
_GROUP = re.compile(r"^第\s*(\d+)\s*组$")


def _decimal(text: str, where: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ReferenceError(f"{where}：“{text}”不是数字") from None


def read_table(path: str | Path) -> Table:
    """Read 附件1 as transcribed (机构, 分组, 组间评估结果, 总分, then one column per item with its weight)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            body = list(reader)
    except OSError as exc:
        raise ReferenceError(f"无法读取 {path}：{exc.strerror or exc}") from None
    except (StopIteration, UnicodeDecodeError):
        raise ReferenceError(f"{path} 不是 UTF-8 编码的附件1 CSV") from None
    fixed = ["机构", "分组", "组间评估结果", "总分"]
    if header[:4] != fixed:
        raise ReferenceError(f"{path} 的前四列应为 {'、'.join(fixed)}，实际为 {'、'.join(header[:4])}")
    expected = [(d.name, d.weight) for d in ITEMS_2021]
    found = []
    for label in header[4:]:
        match = _HEADER.match(label.strip())
        if not match:
            raise ReferenceError(f"列名“{label}”应为“项目名称（分值）”")
        found.append((match.group(1), Decimal(match.group(2))))
    if found != expected:
        raise ReferenceError(
            "评估项目列与 2021 年方案不符：应为 "
            + "、".join(f"{n}（{w}）" for n, w in expected)
            + "；实际为 "
            + "、".join(f"{n}（{w}）" for n, w in found)
        )
    rows = []
    for line, cells in enumerate(body, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ReferenceError(f"第 {line} 行有 {len(cells)} 列，应为 {len(header)} 列")
        name, group, grade, total = (c.strip() for c in cells[:4])
        match = _GROUP.match(group)
        if not match or f"G{match.group(1)}" not in dict(GROUPS):
            raise ReferenceError(f"第 {line} 行（{name}）：分组“{group}”应为第1组、第2组或第3组")
        if grade not in grading.LABEL_GRADES:
            raise ReferenceError(f"第 {line} 行（{name}）：评估结果“{grade}”应为优秀、良好、一般或勉励")
        rows.append(
            Row(
                name=name,
                group=f"G{match.group(1)}",
                grade=grading.LABEL_GRADES[grade],
                total=_decimal(total, f"第 {line} 行（{name}）总分"),
                scores={
                    d.code: _decimal(cell, f"第 {line} 行（{name}）{d.name}")
                    for d, cell in zip(ITEMS_2021, cells[4:], strict=True)
                },
                line=line,
            )
        )
    names = [r.name for r in rows]
    if len(set(names)) != len(names):
        raise ReferenceError("附件1 中有重复的机构")
    return Table(rows)


# --- reconstruction of the unrounded 定量 scores ----------------------------------------------------------------


@dataclass
class Reconstruction:
    values: dict[tuple[str, str], Decimal]  # (institution, item) → score-equivalent value
    adjusted: dict[str, Decimal] = field(default_factory=dict)  # institution → δ applied to both 定量 scores


def reconstruct(table: Table) -> Reconstruction:
    """The 定量 inputs (score-equivalent values) consistent with every published figure; see the module doc."""
    quantitative = [d for d in ITEMS_2021 if d.kind == QUANTITATIVE]
    qualitative = [d for d in ITEMS_2021 if d.kind == QUALITATIVE]
    values, adjusted = {}, {}
    half = Decimal("0.005")
    for row in table.rows:
        parts = sum(row.scores.values(), Decimal(0))
        gap = row.total - parts
        if abs(gap) > Decimal("0.01"):
            raise ReferenceError(
                f"{row.name}：总分 {row.total} 与各项得分之和 {parts} 相差 {gap}，超出四舍五入所能解释的范围"
            )
        delta = Decimal(0)
        if gap:
            anchored = [
                d.name for d in quantitative if row.scores[d.code] in (d.weight * FLOOR_SHARE, d.weight)
            ]
            if anchored:
                raise ReferenceError(
                    f"{row.name}：总分与各项得分之和相差 {gap}，但“{'、'.join(anchored)}”处于保底分或满分，无法还原未舍入得分"
                )
            delta = SHIFT if gap > 0 else -SHIFT
            adjusted[row.name] = delta
        for d in quantitative:
            value = row.scores[d.code] + delta
            if scoring.half_up(value) != row.scores[d.code] or abs(value - row.scores[d.code]) >= half:
                raise ReferenceError(
                    f"{row.name}：还原的“{d.name}”得分 {value} 不再舍入为 {row.scores[d.code]}"
                )
            values[(row.name, d.code)] = value
        total = sum((row.scores[d.code] for d in qualitative), Decimal(0)) + sum(
            values[(row.name, d.code)] for d in quantitative
        )
        if scoring.half_up(total) != row.total:
            raise ReferenceError(f"{row.name}：还原后的总分 {total} 不舍入为附件1的 {row.total}")
    return Reconstruction(values, adjusted)


def engine_inputs(table: Table, rebuilt: Reconstruction):
    """members, qualitative, quantitative frames for `scoring.evaluate`, keyed by institution name."""
    members = pd.DataFrame(
        {
            "institution": [r.name for r in table.rows],
            "name": [r.name for r in table.rows],
            "group": [r.group for r in table.rows],
            "order": list(range(len(table.rows))),
        }
    )
    qualitative = pd.DataFrame(
        [(r.name, d.code, r.scores[d.code]) for r in table.rows for d in ITEMS_2021 if d.kind == QUALITATIVE],
        columns=["institution", "item", "score"],
    )
    quantitative = pd.DataFrame(
        [
            (r.name, d.code, rebuilt.values[(r.name, d.code)], "")
            for r in table.rows
            for d in ITEMS_2021
            if d.kind == QUANTITATIVE
        ],
        columns=["institution", "item", "value", "reason"],
    )
    return members, qualitative, quantitative


# --- the comparison --------------------------------------------------------------------------------------------


@dataclass
class Line:
    row: Row
    total: Decimal  # engine, unrounded
    grade: str  # engine
    scores: dict[str, Decimal]  # engine, unrounded

    @property
    def shown_total(self) -> Decimal:
        return scoring.half_up(self.total)

    @property
    def total_ok(self) -> bool:
        return abs(self.shown_total - self.row.total) < Decimal("0.01")

    @property
    def grade_ok(self) -> bool:
        return self.grade == self.row.grade

    @property
    def items_ok(self) -> bool:
        return all(scoring.half_up(self.scores[c]) == v for c, v in self.row.scores.items())

    @property
    def ok(self) -> bool:
        return self.total_ok and self.grade_ok and self.items_ok


@dataclass
class Comparison:
    lines: list[Line]
    outcome: scoring.Outcome
    reconstruction: Reconstruction

    @property
    def differences(self) -> list[Line]:
        return [line for line in self.lines if not line.ok]


def compare(table: Table, grading_spec: grading.GradingSpec = GRADING_2021) -> Comparison:
    """Run the engine on the table's parts and set its totals and grades beside the published ones."""
    rebuilt = reconstruct(table)
    members, qualitative, quantitative = engine_inputs(table, rebuilt)
    outcome = scoring.evaluate(
        scheme=scheme_2021(grading_spec), members=members, qualitative=qualitative, quantitative=quantitative
    )
    frame = outcome.frame
    codes = [d.code for d in ITEMS_2021]
    lines = [
        Line(
            row=row,
            total=frame.loc[row.name, "total"],
            grade=frame.loc[row.name, "grade"],
            scores={c: frame.loc[row.name, c] for c in codes},
        )
        for row in table.rows
    ]
    return Comparison(lines, outcome, rebuilt)
