"""The campaign's indicators (DOMAIN.md "Indicators the portal computes"), each written once.

Every `Indicator` is a vectorised function of *components*: additive quantities read from an institution's
附件4 sheet for the month (余额, 新发放金额, 户数 …), from its sheet of another month (年初 = the previous
December, 上年同期, 上年年初, 上季末), or from reference data (the month's 1-year LPR, the 附件3 plan).

The same function gives an institution's value from its own components and an aggregate's value (评估分组,
机构类型, 全省) from the *sums* of its members' components — every aggregate ratio is a ratio of sums, never
an average of ratios. A member counts towards an aggregate indicator only when all of that indicator's
components are defined for it (a matched panel): an institution without a 年初 figure, e.g. one that joined
mid-year, cannot distort 比年初增加额; `contributors` / `members` say how many took part.

A value that cannot be computed is NaN here, "—" on screen, always with a reason: the sheet that is missing
or not yet approved, the field that is empty or absent from the edition of the sheet, or the denominator
that is zero. Nothing in this module touches the ORM: `indicators.selectors.load_inputs` reads the rows
(one query for the sheets), `indicators.services.refresh` stores the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from reporting.definitions import EDITIONS, NPL_WRITE_OFFS, TOTAL_LOAN_BALANCE, definition_for

# --- the sheet's fields: every field of every edition of 附件4 ----------------------------------------------

MONITORING_EDITIONS = {
    edition: d
    for (form, edition), d in sorted(EDITIONS.items(), key=lambda kv: kv[0][1])
    if form == "monitoring"
}
FIELD_LABELS: dict[str, str] = {}
for _edition in MONITORING_EDITIONS.values():
    for _f in _edition.fields:
        FIELD_LABELS.setdefault(_f.code, _f.label.replace("X月末", ""))
# 两增 (seed 003) compares 普惠型小微贷款增速 with 各项贷款增速 (2023 edition on); 核销还原 (seed 004 §(三)) adds
# the year's 普惠小微不良贷款核销 back to the increase. A sheet of the 2022 edition has neither: "—" with why.
TOTAL_LOANS = TOTAL_LOAN_BALANCE
WRITE_OFFS = NPL_WRITE_OFFS
SHEET_FIELDS = tuple(FIELD_LABELS)

STATUS_LABELS = {"draft": "草稿", "submitted": "已提交", "returned": "已退回", "approved": "已通过"}

# --- offsets: which month's sheet a component is read from; t = year * 12 + month - 1 ------------------------


@dataclass(frozen=True, kw_only=True)
class Offset:
    key: str
    label: str
    shift: Callable[[np.ndarray], np.ndarray]


OFFSETS = {
    "": Offset(key="", label="本月", shift=lambda t: t),
    "start": Offset(key="start", label="年初", shift=lambda t: (t // 12) * 12 - 1),  # previous December
    "ly": Offset(key="ly", label="上年同期", shift=lambda t: t - 12),
    "ly_start": Offset(key="ly_start", label="上年年初", shift=lambda t: (t // 12) * 12 - 13),
    "qstart": Offset(key="qstart", label="上季末", shift=lambda t: (t // 12) * 12 + ((t % 12) // 3) * 3 - 1),
}


def month_index(year, month):
    return year * 12 + month - 1


def period_of(t: int) -> tuple[int, int]:
    return int(t) // 12, int(t) % 12 + 1


# --- components ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Derived:
    """A per-institution product of two fields, evaluated at the component's offset before any summing."""

    label: str
    parts: tuple[str, ...]


DERIVED: dict[str, Derived] = {
    "rate_x_new": Derived(label="加权平均利率×新发放金额", parts=("weighted_rate", "new_loans")),
    "ftp_x_balance": Derived(label="FTP优惠点数×贷款余额", parts=("ftp_discount_bp", "loan_balance")),
}
REFERENCE = {
    "lpr": "一年期LPR（%）",
    "plan_increase": "附件3 全省预计新增额",
    "quarter_plan": "附件3 本季度计划（一季度为实际）新增额",
    "ewr_base": "普惠小微贷款余额比年初增量（负数按0计，仅地方法人银行）",
}
CONSTANT_COMPONENTS = {"lpr"}  # the same for every member: an aggregate takes it as is, not summed
PLAN_COLUMNS = ("planned_increase", "q1_actual", "q2_plan", "q3_plan", "q4_plan")
PLAN_ROW = "420000"  # 附件3's 全省 row


def split(name: str) -> tuple[str, str]:
    base, _sep, offset = name.partition("@")
    return base, offset


def component_label(name: str) -> str:
    base, offset = split(name)
    derived = DERIVED.get(base)
    label = FIELD_LABELS.get(base) or (derived.label if derived else None) or REFERENCE.get(base, base)
    return f"{label}（{OFFSETS[offset].label}）" if offset else label


# --- the registry --------------------------------------------------------------------------------------------

GROUP_INCREMENT, GROUP_COVERAGE, GROUP_PRICE = "增量", "扩面", "降价"
GROUP_TWO, GROUP_PLAN, GROUP_POLICY = "两增", "计划完成", "政策资金"
GROUPS = (GROUP_INCREMENT, GROUP_COVERAGE, GROUP_PRICE, GROUP_TWO, GROUP_PLAN, GROUP_POLICY)


@dataclass(frozen=True, kw_only=True)
class Indicator:
    """One indicator: code, Chinese label, unit, the formula in words, its components and the function."""

    code: str
    label: str
    unit: str  # 亿元 / 户 / % / BP / 个百分点 / 万元; "" for a 达标 test
    group: str
    formula: str
    needs: tuple[str, ...]
    fn: Callable[[pd.DataFrame], pd.Series]
    share: bool = False  # stored as a fraction, shown as a percentage
    places: int = 2
    better: str | None = "high"  # ranking direction: "high", "low" or None (not ranked)
    test: bool = False  # value 1 = 达标, 0 = 未达标
    cumulative: bool = False  # grows from 年初: a target's 时序进度 (month / 12) applies
    zero_reason: str = "分母为零，比率无定义"
    note: str = ""  # assumptions and scope, shown beside the formula
    # an aggregate is "—" when any member's sheet lacks one of the fields (an older edition, an empty cell):
    # a verdict or growth rate over only the members that carry the field is not the scope's; a test's
    # aggregate (两增) is "—" as well while any member's sheet is not yet approved
    whole_scope: bool = False

    @property
    def unit_label(self) -> str:
        return "%" if self.share else self.unit

    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-(self.places + (2 if self.share else 0)))

    def rounded(self, value: Decimal | None) -> Decimal | None:
        """The value as shown on screen and written to Excel: half-up at the shown decimals."""
        if value is None:
            return None
        if self.test:
            return Decimal(1) if value >= Decimal("0.5") else Decimal(0)
        return Decimal(value).quantize(self.quantum(), rounding=ROUND_HALF_UP)

    def text(self, value: Decimal | None, *, with_unit: bool = False, compact: bool = False) -> str:
        """E.g. "1,234.57", "25.31%", "达标"; "—" when undefined. The same rounding as `rounded`; `compact`
        drops trailing zeros (targets people state as round numbers: "≥ 1,700亿元", "≥ 30%")."""
        r = self.rounded(value)
        if r is None:
            return "—"
        if self.test:
            return "达标" if r == 1 else "未达标"
        shown = f"{r * 100:.{self.places}f}%" if self.share else f"{r:,.{self.places}f}"
        if compact and "." in shown:
            number, suffix = (shown[:-1], "%") if shown.endswith("%") else (shown, "")
            shown = number.rstrip("0").rstrip(".") + suffix
        if r == 0:
            shown = shown.lstrip("-")
        return shown + self.unit if with_unit and not self.share else shown

    @property
    def excel_format(self) -> str:
        if self.test:
            return "General"
        decimals = "." + "0" * self.places if self.places else ""
        if self.share:
            return f"0{decimals}%"
        return f"#,##0{decimals}"


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    """a / b, NaN where b is zero: an undefined ratio is never 0 and never an error."""
    return a / b.where(b != 0)


def _test(condition: pd.Series, defined: pd.Series) -> pd.Series:
    return condition.astype(float).where(defined)


def _increase(c, f="loan_balance"):
    return c[f] - c[f"{f}@start"]


def _rate(c, offset=""):
    suffix = f"@{offset}" if offset else ""
    return _ratio(c[f"rate_x_new{suffix}"], c[f"new_loans{suffix}"])


RESTORED_NOTE = (
    "核销还原（seed 001、004 §(三)）：把年初至今核销的普惠小微不良贷款加回比年初增加额；"
    "2023年版监测表起有核销金额，2022年版的月份为“—”。"
)

RATE_NOTE = (
    "加权平均利率按新发放金额（年初至今）加权汇总：单个机构即其填报值；分组、全省为 Σ(利率×新发放金额)/Σ新发放金额"
    "（假设：监测表利率为新发放贷款利率）。"
)

INDICATORS: tuple[Indicator, ...] = (
    # 增量
    Indicator(
        code="loan_balance",
        label="普惠小微贷款余额",
        unit="亿元",
        group=GROUP_INCREMENT,
        formula="月末普惠小微贷款余额",
        needs=("loan_balance",),
        fn=lambda c: c["loan_balance"],
    ),
    Indicator(
        code="loan_increase_ytd",
        label="普惠小微贷款比年初增加额",
        unit="亿元",
        group=GROUP_INCREMENT,
        formula="余额(本月) − 余额(上年12月)",
        needs=("loan_balance", "loan_balance@start"),
        fn=_increase,
        cumulative=True,
    ),
    Indicator(
        code="loan_growth_ytd",
        label="普惠小微贷款比年初增长率",
        unit="%",
        group=GROUP_INCREMENT,
        formula="比年初增加额 ÷ 余额(上年12月)",
        needs=("loan_balance", "loan_balance@start"),
        fn=lambda c: _ratio(_increase(c), c["loan_balance@start"]),
        share=True,
        cumulative=True,
    ),
    Indicator(
        code="loan_growth_yoy",
        label="普惠小微贷款同比增速",
        unit="%",
        group=GROUP_INCREMENT,
        formula="余额(本月) ÷ 余额(上年同月) − 1",
        needs=("loan_balance", "loan_balance@ly"),
        fn=lambda c: _ratio(c["loan_balance"], c["loan_balance@ly"]) - 1,
        share=True,
    ),
    Indicator(
        code="loan_increase_yoy",
        label="增量同比（比上年同期多增）",
        unit="亿元",
        group=GROUP_INCREMENT,
        formula="比年初增加额(本年) − 比年初增加额(上年同期)；不小于0即“增量不低于上年”",
        needs=("loan_balance", "loan_balance@start", "loan_balance@ly", "loan_balance@ly_start"),
        fn=lambda c: _increase(c) - (c["loan_balance@ly"] - c["loan_balance@ly_start"]),
    ),
    Indicator(
        code="credit_loan_balance",
        label="普惠小微信用贷款余额",
        unit="亿元",
        group=GROUP_INCREMENT,
        formula="月末普惠小微信用贷款余额",
        needs=("credit_loan_balance",),
        fn=lambda c: c["credit_loan_balance"],
    ),
    Indicator(
        code="credit_increase_ytd",
        label="普惠小微信用贷款比年初增加额",
        unit="亿元",
        group=GROUP_INCREMENT,
        formula="信用贷款余额(本月) − 信用贷款余额(上年12月)",
        needs=("credit_loan_balance", "credit_loan_balance@start"),
        fn=lambda c: _increase(c, "credit_loan_balance"),
        cumulative=True,
    ),
    Indicator(
        code="credit_share",
        label="信用贷款占比",
        unit="%",
        group=GROUP_INCREMENT,
        formula="普惠小微信用贷款余额 ÷ 普惠小微贷款余额（A3302 口径，004 脚注1）",
        needs=("credit_loan_balance", "loan_balance"),
        fn=lambda c: _ratio(c["credit_loan_balance"], c["loan_balance"]),
        share=True,
    ),
    Indicator(
        code="credit_share_change_ytd",
        label="信用贷款占比较年初变化",
        unit="个百分点",
        group=GROUP_INCREMENT,
        formula="(信用贷款占比(本月) − 信用贷款占比(上年12月)) × 100",
        needs=("credit_loan_balance", "loan_balance", "credit_loan_balance@start", "loan_balance@start"),
        fn=lambda c: (
            (
                _ratio(c["credit_loan_balance"], c["loan_balance"])
                - _ratio(c["credit_loan_balance@start"], c["loan_balance@start"])
            )
            * 100
        ),
    ),
    Indicator(
        code="new_loans",
        label="新发放普惠小微贷款金额（年初至今）",
        unit="亿元",
        group=GROUP_INCREMENT,
        formula="新发放普惠小微贷款金额，年初至本月末累计（1月重新起算）",
        needs=("new_loans",),
        fn=lambda c: c["new_loans"],
        cumulative=True,
    ),
    Indicator(
        code="new_credit_loans",
        label="新发放普惠小微信用贷款金额（年初至今）",
        unit="亿元",
        group=GROUP_INCREMENT,
        formula="新发放普惠小微信用贷款金额，年初至本月末累计",
        needs=("new_credit_loans",),
        fn=lambda c: c["new_credit_loans"],
        cumulative=True,
    ),
    Indicator(
        code="new_credit_share",
        label="新发放信用贷款占比",
        unit="%",
        group=GROUP_INCREMENT,
        formula="新发放普惠小微信用贷款金额 ÷ 新发放普惠小微贷款金额（年初至今）",
        needs=("new_credit_loans", "new_loans"),
        fn=lambda c: _ratio(c["new_credit_loans"], c["new_loans"]),
        share=True,
    ),
    # 扩面
    Indicator(
        code="borrowers",
        label="普惠小微贷款户数",
        unit="户",
        group=GROUP_COVERAGE,
        formula="月末普惠小微贷款户数",
        needs=("borrowers",),
        fn=lambda c: c["borrowers"],
        places=0,
    ),
    Indicator(
        code="borrowers_increase_ytd",
        label="贷款户数比年初增加",
        unit="户",
        group=GROUP_COVERAGE,
        formula="户数(本月) − 户数(上年12月)",
        needs=("borrowers", "borrowers@start"),
        fn=lambda c: _increase(c, "borrowers"),
        places=0,
        cumulative=True,
    ),
    Indicator(
        code="new_borrowers",
        label="新发放小微企业贷款户数（年初至今）",
        unit="户",
        group=GROUP_COVERAGE,
        formula="新发放小微企业贷款户数，年初至本月末累计",
        needs=("new_borrowers",),
        fn=lambda c: c["new_borrowers"],
        places=0,
        cumulative=True,
    ),
    Indicator(
        code="first_loan_borrowers",
        label="拓展首贷户数（年初至今）",
        unit="户",
        group=GROUP_COVERAGE,
        formula="拓展首贷户数，年初至本月末累计",
        needs=("first_loan_borrowers",),
        fn=lambda c: c["first_loan_borrowers"],
        places=0,
        cumulative=True,
    ),
    Indicator(
        code="first_loan_share",
        label="首贷户比重",
        unit="%",
        group=GROUP_COVERAGE,
        formula="拓展首贷户数 ÷ 新发放小微企业贷款户数（年初至今，004 脚注2）",
        needs=("first_loan_borrowers", "new_borrowers"),
        fn=lambda c: _ratio(c["first_loan_borrowers"], c["new_borrowers"]),
        share=True,
    ),
    Indicator(
        code="first_loan_share_change_yoy",
        label="首贷户比重较上年同期变化",
        unit="个百分点",
        group=GROUP_COVERAGE,
        formula="(首贷户比重(本年) − 首贷户比重(上年同期)) × 100",
        needs=("first_loan_borrowers", "new_borrowers", "first_loan_borrowers@ly", "new_borrowers@ly"),
        fn=lambda c: (
            (
                _ratio(c["first_loan_borrowers"], c["new_borrowers"])
                - _ratio(c["first_loan_borrowers@ly"], c["new_borrowers@ly"])
            )
            * 100
        ),
    ),
    Indicator(
        code="first_loan_amount",
        label="首贷金额（年初至今）",
        unit="亿元",
        group=GROUP_COVERAGE,
        formula="首贷金额，年初至本月末累计",
        needs=("first_loan_amount",),
        fn=lambda c: c["first_loan_amount"],
        cumulative=True,
    ),
    # 降价
    Indicator(
        code="weighted_rate",
        label="普惠小微贷款加权平均利率",
        unit="%",
        group=GROUP_PRICE,
        formula="Σ(加权平均利率 × 新发放金额) ÷ Σ新发放金额",
        needs=("rate_x_new", "new_loans"),
        fn=_rate,
        better="low",
        zero_reason="新发放金额为零，无法作为利率权重",
        note=RATE_NOTE,
    ),
    Indicator(
        code="rate_change_ytd",
        label="加权平均利率较年初变化",
        unit="BP",
        group=GROUP_PRICE,
        formula="(加权平均利率(本月) − 加权平均利率(上年12月)) × 100",
        needs=("rate_x_new", "new_loans", "rate_x_new@start", "new_loans@start"),
        fn=lambda c: (_rate(c) - _rate(c, "start")) * 100,
        better="low",
        zero_reason="新发放金额为零，无法作为利率权重",
        note=RATE_NOTE,
    ),
    Indicator(
        code="rate_change_yoy",
        label="加权平均利率较上年同期变化",
        unit="BP",
        group=GROUP_PRICE,
        formula="(加权平均利率(本月) − 加权平均利率(上年同月)) × 100",
        needs=("rate_x_new", "new_loans", "rate_x_new@ly", "new_loans@ly"),
        fn=lambda c: (_rate(c) - _rate(c, "ly")) * 100,
        better="low",
        zero_reason="新发放金额为零，无法作为利率权重",
        note=RATE_NOTE,
    ),
    Indicator(
        code="rate_spread_lpr",
        label="加权平均利率较一年期LPR加点",
        unit="BP",
        group=GROUP_PRICE,
        formula="(加权平均利率 − 当月一年期LPR) × 100",
        needs=("rate_x_new", "new_loans", "lpr"),
        fn=lambda c: (_rate(c) - c["lpr"]) * 100,
        better="low",
        zero_reason="新发放金额为零，无法作为利率权重",
        note=RATE_NOTE + "一年期LPR取管理员维护的当月报价。",
    ),
    Indicator(
        code="ftp_discount_bp",
        label="一年期普惠小微贷款FTP优惠点数",
        unit="BP",
        group=GROUP_PRICE,
        formula="Σ(FTP优惠点数 × 贷款余额) ÷ Σ贷款余额",
        needs=("ftp_x_balance", "loan_balance"),
        fn=lambda c: _ratio(c["ftp_x_balance"], c["loan_balance"]),
        zero_reason="贷款余额为零，无法作为FTP权重",
        note="单个机构即其填报值；分组、全省按贷款余额加权。",
    ),
    Indicator(
        code="ftp_gap_50bp",
        label="FTP优惠较50BP要求",
        unit="BP",
        group=GROUP_PRICE,
        formula="FTP优惠点数 − 50（004 §(七)：全国性银行在鄂分支机构争取不低于50BP）",
        needs=("ftp_x_balance", "loan_balance"),
        fn=lambda c: _ratio(c["ftp_x_balance"], c["loan_balance"]) - 50,
        zero_reason="贷款余额为零，无法作为FTP权重",
    ),
    Indicator(
        code="fee_relief",
        label="小微企业累计减费让利金额",
        unit="亿元",
        group=GROUP_PRICE,
        formula="小微企业累计减费让利金额，年初至本月末",
        needs=("fee_relief",),
        fn=lambda c: c["fee_relief"],
        cumulative=True,
    ),
    Indicator(
        code="loan_increase_restored_ytd",
        label="核销还原后普惠小微贷款比年初增加额",
        unit="亿元",
        group=GROUP_INCREMENT,
        formula="余额(本月) − 余额(上年12月) + 普惠小微不良贷款核销金额(年初至今)",
        needs=("loan_balance", "loan_balance@start", WRITE_OFFS),
        fn=lambda c: _increase(c) + c[WRITE_OFFS],
        cumulative=True,
        note=RESTORED_NOTE,
    ),
    Indicator(
        code="loan_growth_restored_ytd",
        label="核销还原后普惠小微贷款比年初增长率",
        unit="%",
        group=GROUP_INCREMENT,
        formula="(比年初增加额 + 年初至今核销金额) ÷ 余额(上年12月)",
        needs=("loan_balance", "loan_balance@start", WRITE_OFFS),
        fn=lambda c: _ratio(_increase(c) + c[WRITE_OFFS], c["loan_balance@start"]),
        share=True,
        cumulative=True,
        note=RESTORED_NOTE,
    ),
    Indicator(
        code="npl_write_offs",
        label="普惠小微不良贷款核销金额（年初至今）",
        unit="亿元",
        group=GROUP_INCREMENT,
        formula="普惠小微不良贷款核销金额，年初至本月末累计（2023年版监测表起）",
        needs=(WRITE_OFFS,),
        fn=lambda c: c[WRITE_OFFS],
        better=None,
        cumulative=True,
    ),
    # 两增 (seed 003)
    Indicator(
        code="total_loan_balance",
        label="各项贷款余额",
        unit="亿元",
        group=GROUP_TWO,
        formula="月末各项贷款余额（2023年版监测表起）",
        needs=(TOTAL_LOANS,),
        fn=lambda c: c[TOTAL_LOANS],
        better=None,
    ),
    Indicator(
        code="total_loan_growth_ytd",
        label="各项贷款比年初增长率",
        unit="%",
        group=GROUP_TWO,
        formula="各项贷款余额(本月) ÷ 各项贷款余额(上年12月) − 1",
        needs=(TOTAL_LOANS, f"{TOTAL_LOANS}@start"),
        fn=lambda c: _ratio(c[TOTAL_LOANS], c[f"{TOTAL_LOANS}@start"]) - 1,
        share=True,
        better=None,
        whole_scope=True,
        cumulative=True,
    ),
    Indicator(
        code="total_loan_growth_yoy",
        label="各项贷款同比增速",
        unit="%",
        group=GROUP_TWO,
        formula="各项贷款余额(本月) ÷ 各项贷款余额(上年同月) − 1",
        needs=(TOTAL_LOANS, f"{TOTAL_LOANS}@ly"),
        fn=lambda c: _ratio(c[TOTAL_LOANS], c[f"{TOTAL_LOANS}@ly"]) - 1,
        share=True,
        better=None,
        whole_scope=True,
    ),
    Indicator(
        code="two_increases_growth",
        label="两增①：普惠型小微贷款增速不低于各项贷款增速",
        unit="",
        group=GROUP_TWO,
        formula="余额(本月)÷余额(年初) − 1 ≥ 各项贷款余额(本月)÷各项贷款余额(年初) − 1",
        needs=("loan_balance", "loan_balance@start", TOTAL_LOANS, f"{TOTAL_LOANS}@start"),
        fn=lambda c: _test(
            _ratio(c["loan_balance"], c["loan_balance@start"])
            >= _ratio(c[TOTAL_LOANS], c[f"{TOTAL_LOANS}@start"]),
            _ratio(c["loan_balance"], c["loan_balance@start"]).notna()
            & _ratio(c[TOTAL_LOANS], c[f"{TOTAL_LOANS}@start"]).notna(),
        ),
        test=True,
        whole_scope=True,
        better=None,
        note="各项贷款余额自2023年版监测表起填报：年初（上年12月）的监测表也须为2023年版或更新，"
        "此前为“—”并注明原因。",
    ),
    Indicator(
        code="two_increases_borrowers",
        label="两增②：有贷款余额户数不低于年初",
        unit="",
        group=GROUP_TWO,
        formula="户数(本月) ≥ 户数(上年12月)",
        needs=("borrowers", "borrowers@start"),
        fn=lambda c: _test(c["borrowers"] >= c["borrowers@start"], c["borrowers"].notna()),
        test=True,
        whole_scope=True,
        better=None,
    ),
    # 计划完成 (附件3)
    Indicator(
        code="plan_increase",
        label="附件3计划新增额",
        unit="亿元",
        group=GROUP_PLAN,
        formula="附件3 投放计划表全省行“预计新增额”",
        needs=("plan_increase",),
        fn=lambda c: c["plan_increase"],
        better=None,
    ),
    Indicator(
        code="plan_completion",
        label="年度投放计划完成率",
        unit="%",
        group=GROUP_PLAN,
        formula="比年初增加额 ÷ 附件3 预计新增额",
        needs=("loan_balance", "loan_balance@start", "plan_increase"),
        fn=lambda c: _ratio(_increase(c), c["plan_increase"]),
        share=True,
        cumulative=True,
        zero_reason="计划新增额为零，完成率无定义",
    ),
    Indicator(
        code="quarter_increase",
        label="本季度新增额（季初至今）",
        unit="亿元",
        group=GROUP_PLAN,
        formula="余额(本月) − 余额(上季末)",
        needs=("loan_balance", "loan_balance@qstart"),
        fn=lambda c: c["loan_balance"] - c["loan_balance@qstart"],
    ),
    Indicator(
        code="quarter_plan",
        label="本季度计划新增额",
        unit="亿元",
        group=GROUP_PLAN,
        formula="附件3 全省行本季度预计新增额（一季度取“一季度实际新增额”）",
        needs=("quarter_plan",),
        fn=lambda c: c["quarter_plan"],
        better=None,
    ),
    Indicator(
        code="quarter_plan_completion",
        label="本季度计划完成率",
        unit="%",
        group=GROUP_PLAN,
        formula="本季度新增额 ÷ 本季度计划新增额",
        needs=("loan_balance", "loan_balance@qstart", "quarter_plan"),
        fn=lambda c: _ratio(c["loan_balance"] - c["loan_balance@qstart"], c["quarter_plan"]),
        share=True,
        zero_reason="本季度计划新增额为零，完成率无定义",
    ),
    # 政策资金 (004 §(五)(六))
    Indicator(
        code="first_loan_subsidy",
        label="首贷奖补（测算）",
        unit="万元",
        group=GROUP_POLICY,
        formula="首贷金额（年初至今，亿元）× 0.5‰ × 10000",
        needs=("first_loan_amount",),
        fn=lambda c: c["first_loan_amount"] * 0.0005 * 10000,
        better=None,
        cumulative=True,
        note="004 §(六)：按当年新发放普惠小微首次贷款额度的0.5‰奖励经办金融机构。",
    ),
    Indicator(
        code="ewr_reward",
        label="鄂微融奖励（测算）",
        unit="万元",
        group=GROUP_POLICY,
        formula="max(比年初增加额, 0)（亿元）× 1% × 10000，仅地方法人银行",
        needs=("ewr_base",),
        fn=lambda c: c["ewr_base"] * 0.01 * 10000,
        better=None,
        cumulative=True,
        note="004 §(五)：对地方法人金融机构普惠小微贷款余额增量的1%发放奖励；分组、全省为地方法人银行逐家测算后的合计。",
    ),
)

REGISTRY: dict[str, Indicator] = {i.code: i for i in INDICATORS}
CODES = tuple(REGISTRY)


def get(code: str) -> Indicator:
    return REGISTRY[code]


def by_group() -> list[tuple[str, list[Indicator]]]:
    return [(g, [i for i in INDICATORS if i.group == g]) for g in GROUPS]


# --- inputs and results --------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """What the engine reads, as plain frames (built by selectors.load_inputs from one query's rows).

    sheets: institution_id, year, month, status, usable, provisional, edition, filing_id, period_id, version,
            and one float column per SHEET_FIELDS code (NaN when empty or when the sheet is not usable);
    institutions: id, short_name, group, kind, local, active_from, active_to;
    months: the (year, month) to compute;
    lpr: {(year, month): rate in %};
    plans: institution_id, year, status, usable, provisional, filing_id and one float column per PLAN_COLUMNS.
    """

    sheets: pd.DataFrame
    institutions: pd.DataFrame
    months: list[tuple[int, int]]
    lpr: dict[tuple[int, int], float] = field(default_factory=dict)
    plans: pd.DataFrame | None = None


SHEET_COLUMNS = (
    "institution_id",
    "year",
    "month",
    "status",
    "usable",
    "provisional",
    "edition",
    "filing_id",
    "period_id",
    "version",
    *SHEET_FIELDS,
)
INSTITUTION_COLUMNS = ("id", "short_name", "group", "kind", "local", "active_from", "active_to")
PLAN_FRAME_COLUMNS = (
    "institution_id",
    "year",
    "status",
    "usable",
    "provisional",
    "filing_id",
    "period_id",
    "version",
    *PLAN_COLUMNS,
)


@dataclass
class Column:
    """A component aligned with the panel's rows: values, whether each came from an unapproved sheet, and
    (lazily) why a value is missing."""

    values: np.ndarray
    provisional: np.ndarray
    reasons: Callable[[np.ndarray], np.ndarray]  # positions → reason texts
    applicable: np.ndarray | None = None  # rows the component applies to at all (None: every row)
    # a sheet field's rows whose sheet is usable but lacks the field, and the edition each sheet was filed on;
    # rows whose sheet is due but not approved yet (not filed, or filed and awaiting review)
    absent: np.ndarray | None = None
    editions: np.ndarray | None = None
    unsettled: np.ndarray | None = None
    _explained: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def explain(self, positions: np.ndarray) -> np.ndarray:
        """`reasons` of undefined rows, worked out once for all of them: a component such as 余额(年初) is
        part of a dozen indicators, each asking why the same rows are missing."""
        if self._explained is None and len(positions) * 8 < len(self.values):
            # a few rows (an incremental refresh explains one institution's): just those
            return np.asarray(self.reasons(positions), dtype=object)
        if self._explained is None:
            missing = np.flatnonzero(np.isnan(self.values))
            texts = self.reasons(missing) if len(missing) else np.array([], dtype=object)
            self._explained = (missing, np.asarray(texts, dtype=object))
        missing, texts = self._explained
        return texts[np.searchsorted(missing, positions)]


SCOPE_KEYS = {"group": "group", "kind": "kind", "province": None}


@dataclass
class Result:
    """Institution-level values (one row per expected institution-month, one column per indicator) and the
    aggregates (long: scope_kind, scope_key, year, month, code, value, reason, contributors, members,
    provisional)."""

    grid: pd.DataFrame
    values: pd.DataFrame
    provisional: pd.DataFrame
    reasons: dict[str, pd.Series]
    aggregates: pd.DataFrame
    applicable: pd.DataFrame

    def institution_rows(self) -> pd.DataFrame:
        """The institution-level results in the aggregates' long shape."""
        frames = []
        base = self.grid[["institution_id", "year", "month"]].reset_index(drop=True)
        for code in self.values.columns:
            v = self.values[code].to_numpy()
            reason = np.full(len(v), None, dtype=object)
            r = self.reasons.get(code)
            if r is not None and len(r):
                reason[r.index.to_numpy()] = r.to_numpy()
            defined = ~np.isnan(v)
            frames.append(
                pd.DataFrame(
                    {
                        "scope_kind": "institution",
                        "scope_key": base["institution_id"].astype(str).to_numpy(),
                        "year": base["year"].to_numpy(),
                        "month": base["month"].to_numpy(),
                        "code": code,
                        "value": v,
                        "reason": reason,
                        "contributors": defined.astype(int),
                        "members": self.applicable[code].to_numpy().astype(int),
                        "provisional": self.provisional[code].to_numpy() & defined,
                    }
                )
            )
        if not frames:
            return self.aggregates.iloc[0:0]
        return pd.concat(frames, ignore_index=True)

    def rows(self) -> pd.DataFrame:
        return pd.concat([self.institution_rows(), self.aggregates], ignore_index=True)


# --- the engine ----------------------------------------------------------------------------------------------


def _format_unique(keys: list, fmt: Callable[..., str]) -> np.ndarray:
    """Format a reason once per distinct key tuple and spread it (a handful of texts for many rows)."""
    n = len(keys[0])
    if not n:
        return np.array([], dtype=object)
    combined = np.zeros(n, dtype=np.int64)
    factorized = []
    for key in keys:
        codes, uniques = pd.factorize(np.asarray(key))
        combined = combined * (len(uniques) + 1) + codes
        factorized.append((codes, np.asarray(uniques, dtype=object)))
    _u, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    texts = np.array([fmt(*(u[c[i]] for c, u in factorized)) for i in first], dtype=object)
    return texts[inverse.ravel()]


def _text_or_empty(values) -> np.ndarray:
    out = np.asarray(values, dtype=object).copy()
    out[pd.isna(out)] = ""
    return out


def _plain(column: pd.Series, *, number: bool = False) -> np.ndarray:
    """A sheet column as a numpy array: numbers (a sheet field always) float with NaN, flags bool, texts
    object with None for missing."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=bool)
    if number or pd.api.types.is_numeric_dtype(column.dtype):
        return column.to_numpy(dtype=float, na_value=np.nan)
    out = np.array(column.to_numpy(dtype=object), dtype=object)
    out[pd.isna(out)] = None
    return out


def _row_key(institution_ids, t) -> np.ndarray:
    """An institution-month as one int64 (t = year × 12 + month − 1 stays far below 2**20)."""
    return np.asarray(institution_ids, dtype=np.int64) * (1 << 20) + np.asarray(t, dtype=np.int64)


def _take(array: np.ndarray, where: np.ndarray) -> np.ndarray:
    """array[where], where −1 (no such row) gives NaN, False or None by the array's kind."""
    found = where >= 0
    taken = array[np.where(found, where, 0)] if len(array) else np.zeros(len(where), dtype=array.dtype)
    if found.all():
        return taken
    if array.dtype == bool:
        return taken & found
    if array.dtype.kind == "f":
        return np.where(found, taken, np.nan)
    taken = taken.astype(object)
    taken[~found] = None
    return taken


def _flag(values: np.ndarray) -> np.ndarray:
    """True where a flag column is True (a missing flag: False)."""
    if values.dtype == bool:
        return values
    return np.asarray(pd.Series(values, dtype=object).eq(True).to_numpy(dtype=bool))


def _when(t: int, offset: str) -> str:
    y, m = period_of(t)
    label = OFFSETS[offset].label
    return f"{y}年{m}月（{label}）" if offset else f"{y}年{m}月"


class Panel:
    """The expected institution-months of `inputs.months` and every component the indicators need, as
    columns aligned with those rows."""

    def __init__(self, inputs: Inputs):
        self.inputs = inputs
        inst = inputs.institutions.reset_index(drop=True)
        months = sorted(set(inputs.months))
        n_i, n_m = len(inst), len(months)
        t = np.array([month_index(y, m) for y, m in months], dtype=np.int64)
        rows = pd.DataFrame(
            {
                "pos": np.repeat(np.arange(n_i), n_m),
                "t": np.tile(t, n_i),
            }
        )
        af = inst["active_from"].map(lambda d: month_index(d.year, d.month)).to_numpy(dtype=np.int64)
        at = (
            inst["active_to"]
            .map(lambda d: month_index(d.year, d.month) if isinstance(d, date) else 10**6)
            .to_numpy(dtype=np.int64)
        )
        pos = rows["pos"].to_numpy()
        active = (rows["t"].to_numpy() >= af[pos]) & (rows["t"].to_numpy() <= at[pos])
        rows = rows[active].reset_index(drop=True)
        pos = rows["pos"].to_numpy()
        self.grid = pd.DataFrame(
            {
                "institution_id": inst["id"].to_numpy(dtype=np.int64)[pos],
                "t": rows["t"].to_numpy(),
                "year": rows["t"].to_numpy() // 12,
                "month": rows["t"].to_numpy() % 12 + 1,
                "group": inst["group"].to_numpy(dtype=object)[pos],
                "kind": inst["kind"].to_numpy(dtype=object)[pos],
                "local": inst["local"].to_numpy(dtype=bool)[pos],
                "joined": af[pos],
            }
        )
        sheets = inputs.sheets
        self._sheets = sheets.assign(
            t=month_index(sheets["year"].astype("int64"), sheets["month"].astype("int64"))
        )
        self._sheets = self._sheets.set_index(["institution_id", "t"]).sort_index()
        # each column once as a plain array, taken row by row for every offset (`_take`)
        self._sheet_arrays = {
            name: _plain(self._sheets[name], number=name in FIELD_LABELS) for name in self._sheets.columns
        }
        # (institution, month) as one integer: a hash lookup of int64, not of a MultiIndex's tuples
        self._sheet_keys = pd.Index(_row_key(*(self._sheets.index.get_level_values(i) for i in (0, 1))))
        self._at: dict[str, pd.DataFrame] = {}
        self._at_arrays: dict[str, dict[str, np.ndarray]] = {}
        self._texts_at: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._columns: dict[str, Column] = {}
        self.plan_at: pd.DataFrame | None = None  # the 附件3 plan row of each grid row, once a plan is read

    def __len__(self) -> int:
        return len(self.grid)

    # sheets of another month, aligned with the grid
    def at(self, offset: str) -> pd.DataFrame:
        if offset not in self._at:
            self._at[offset] = pd.DataFrame(self._arrays_at(offset))
        return self._at[offset]

    def _arrays_at(self, offset: str) -> dict[str, np.ndarray]:
        """The sheet columns of another month, one array per column aligned with the grid: a number NaN, a
        flag False and a text None where there is no sheet — taken by position, so the flags stay booleans
        and no frame of mixed columns is reindexed per offset."""
        if offset not in self._at_arrays:
            t = OFFSETS[offset].shift(self.grid["t"].to_numpy())
            where = self._sheet_keys.get_indexer(_row_key(self.grid["institution_id"].to_numpy(), t))
            arrays = {name: _take(a, where) for name, a in self._sheet_arrays.items()}
            arrays["t_at"] = t
            self._at_arrays[offset] = arrays
        return self._at_arrays[offset]

    def _texts(self, offset: str) -> tuple[np.ndarray, np.ndarray]:
        """(status, edition) of another month's sheets, "" where there is none — once per offset, for every
        field read from it."""
        if offset not in self._texts_at:
            frame = self._arrays_at(offset)
            self._texts_at[offset] = (_text_or_empty(frame["status"]), _text_or_empty(frame["edition"]))
        return self._texts_at[offset]

    def column(self, name: str) -> Column:
        if name not in self._columns:
            self._columns[name] = self._build(name)
        return self._columns[name]

    def _build(self, name: str) -> Column:
        base, offset = split(name)
        if base in FIELD_LABELS:
            return self._field(base, offset)
        if base in DERIVED:
            parts = [self.column(f"{f}@{offset}" if offset else f) for f in DERIVED[base].parts]
            values = parts[0].values * parts[1].values
            return Column(values, parts[0].provisional | parts[1].provisional, self._first_reason(parts))
        if base == "lpr":
            return self._lpr()
        if base in {"plan_increase", "quarter_plan"}:
            return self._plan(base)
        if base == "ewr_base":
            now, start = self.column("loan_balance"), self.column("loan_balance@start")
            local = self.grid["local"].to_numpy()
            values = np.where(local, np.maximum(now.values - start.values, 0.0), np.nan)
            inner = self._first_reason([now, start])

            def reasons(positions):
                out = inner(positions)
                out[~local[positions]] = "鄂微融奖励仅适用于地方法人银行"
                return out

            return Column(values, now.provisional | start.provisional, reasons, applicable=local)
        raise KeyError(name)

    def _field(self, code: str, offset: str) -> Column:
        frame = self._arrays_at(offset)
        n = len(self.grid)
        values = frame[code].astype(float, copy=False) if code in frame else np.full(n, np.nan)
        provisional = _flag(frame["provisional"])
        usable = _flag(frame["usable"])
        t_at = frame["t_at"]
        status_all, editions = self._texts(offset)

        def reasons(positions):
            ok = usable[positions]
            t = t_at[positions]
            out = np.empty(len(positions), dtype=object)
            if (~ok).any():
                status = status_all[positions][~ok]
                before = t[~ok] < self.grid["joined"].to_numpy()[positions][~ok]
                out[~ok] = _format_unique([t[~ok], status, before], self._sheet_reason(offset))
            if ok.any():
                out[ok] = _format_unique([t[ok], editions[positions][ok]], self._field_reason(code, offset))
            return out

        due = t_at >= self.grid["joined"].to_numpy()
        return Column(
            values,
            provisional,
            reasons,
            absent=usable & np.isnan(values),
            editions=editions,
            unsettled=~usable & due,
        )

    @staticmethod
    def _sheet_reason(offset):
        def fmt(t, status, before):
            when = _when(t, offset)
            if before:
                return f"{when}早于机构纳入专项行动的月份，没有监测表"
            if not status:
                return f"{when}监测表未报送"
            return f"{when}监测表状态为“{STATUS_LABELS.get(status, status)}”，尚未审核通过"

        return fmt

    @staticmethod
    def _field_reason(code, offset):
        def fmt(t, edition):
            # the edition the sheet was filed on (a version keeps it), else the one in force for its year
            definition = MONITORING_EDITIONS.get(edition) or definition_for("monitoring", period_of(t)[0])
            if code not in definition.codes:
                return f"{_when(t, offset)}：{definition.edition}年版监测表无此项（“{FIELD_LABELS[code]}”）"
            return f"{_when(t, offset)}监测表中“{FIELD_LABELS[code]}”为空"

        return fmt

    @staticmethod
    def _first_reason(parts: list[Column]):
        """Why a value built from `parts` is missing: the first missing part's reason."""

        def reasons(positions):
            out = np.full(len(positions), None, dtype=object)
            todo = np.ones(len(positions), dtype=bool)
            for part in parts:
                missing = todo & np.isnan(part.values[positions])
                if missing.any():
                    out[missing] = part.explain(positions[missing])
                    todo &= ~missing
            return out

        return reasons

    def _lpr(self) -> Column:
        t = self.grid["t"].to_numpy()
        lookup = {month_index(y, m): rate for (y, m), rate in self.inputs.lpr.items()}
        values = pd.Series(t).map(lookup).to_numpy(dtype=float)

        def reasons(positions):
            return _format_unique(
                [t[positions]],
                lambda x: "未维护{}年{}月一年期LPR（管理员可在“一年期LPR”中补充）".format(*period_of(x)),
            )

        return Column(values, np.zeros(len(t), dtype=bool), reasons)

    def _plan(self, base: str) -> Column:
        plans = self.inputs.plans
        if plans is None or plans.empty:
            plans = pd.DataFrame({c: [] for c in PLAN_FRAME_COLUMNS})
        plans = plans.set_index(["institution_id", "year"])
        plans = plans[~plans.index.duplicated(keep="last")]
        index = pd.MultiIndex.from_arrays(
            [self.grid["institution_id"].to_numpy(), self.grid["year"].to_numpy()]
        )
        frame = plans.reindex(index).reset_index(drop=True)
        self.plan_at = frame
        if base == "plan_increase":
            values = frame["planned_increase"].to_numpy(dtype=float)
            columns = np.full(len(frame), "planned_increase", dtype=object)
        else:
            quarter = (self.grid["month"].to_numpy() - 1) // 3 + 1
            # the quarter's column (一季度: the actual increase), looked up per quarter, not per row
            names = np.array(["q1_actual", "q2_plan", "q3_plan", "q4_plan"], dtype=object)
            columns = names[quarter - 1]
            picked = np.array([PLAN_COLUMNS.index(c) for c in names])[quarter - 1]
            values = frame[list(PLAN_COLUMNS)].to_numpy(dtype=float)[np.arange(len(frame)), picked]
        usable = frame["usable"].eq(True).to_numpy(dtype=bool)
        values = np.where(usable, values, np.nan)
        provisional = frame["provisional"].eq(True).to_numpy(dtype=bool)
        years = self.grid["year"].to_numpy()
        labels = {
            "planned_increase": "预计新增额",
            "q1_actual": "一季度实际新增额",
            "q2_plan": "二季度预计新增额",
            "q3_plan": "三季度预计新增额",
            "q4_plan": "四季度预计新增额",
        }

        def reasons(positions):
            status = _text_or_empty(frame["status"].to_numpy(dtype=object)[positions])

            def fmt(year, st, ok, column):
                if not st:
                    return f"{year}年附件3投放计划未报送"
                if not ok:
                    return f"{year}年附件3投放计划状态为“{STATUS_LABELS.get(st, st)}”，尚未审核通过"
                return f"{year}年附件3投放计划的全省“{labels[column]}”无法得出（全省行或某地区行为空）"

            return _format_unique([years[positions], status, usable[positions], columns[positions]], fmt)

        return Column(values, provisional, reasons)


PENDING = "待审核"


def _lacking(parts: list[tuple[str, Column]], defined: np.ndarray, pending: bool) -> tuple[np.ndarray, list]:
    """Rows whose sheet is usable but lacks one of the fields (an older edition, an empty cell) — and with
    `pending`, rows whose sheet is due but not approved yet: per row the index into the (component, edition)
    pairs of its first such field (PENDING, "" for a sheet awaiting approval), −1 for the others."""
    codes = np.full(len(defined), -1, dtype=np.int64)
    keys = np.full(len(defined), "", dtype=object)
    for name, col in parts:
        if col.absent is None:
            continue
        hit = ~defined & col.absent & (codes < 0)
        codes[hit] = 0
        keys[hit] = f"{name}|" + col.editions[hit]  # elementwise on the object array
    if pending:
        for _name, col in parts:
            if col.unsettled is None:
                continue
            hit = ~defined & col.unsettled & (codes < 0)
            codes[hit] = 0
            keys[hit] = f"{PENDING}|"
    if not (codes >= 0).any():
        return codes, []
    factorized, uniques = pd.factorize(keys[codes >= 0])
    # numbered in the order of the components, then edition — not of first appearance, which would make a
    # month's text depend on the other months computed with it (an incremental refresh computes fewer)
    pairs = [tuple(u.split("|", 1)) for u in uniques]
    rank = {name: i for i, (name, _col) in enumerate(parts)} | {PENDING: len(parts)}
    order = sorted(range(len(pairs)), key=lambda i: (rank.get(pairs[i][0], len(parts)), pairs[i][1]))
    renumber = np.empty(len(pairs), dtype=np.int64)
    renumber[order] = np.arange(len(pairs))
    codes[codes >= 0] = renumber[factorized]
    return codes, [pairs[i] for i in order]


def _lacking_reason(counts: np.ndarray, pairs: list, t: int, contributors: int, test: bool) -> str:
    """E.g. "3家机构的监测表为2022年版，无各项贷款余额；仅21家有数据，不作判断"."""
    parts = []
    for n, (name, edition) in zip(counts, pairs, strict=True):
        if not n or name == PENDING:
            continue
        base, offset = split(name)
        t_at = int(OFFSETS[offset].shift(np.array([t]))[0])
        y, m = period_of(t_at)
        when = f"{OFFSETS[offset].label}（{y}年{m}月）" if offset else ""
        definition = MONITORING_EDITIONS.get(edition) or definition_for("monitoring", y)
        label = FIELD_LABELS[base]
        if base in definition.codes:
            parts.append(f"{n}家机构{when}的监测表中“{label}”为空")
        else:
            parts.append(f"{n}家机构{when}的监测表为{definition.edition}年版，无{label}")
    waiting = sum(n for n, (name, _e) in zip(counts, pairs, strict=True) if name == PENDING)
    if waiting:
        parts.append(f"{PENDING}：{waiting}家机构的监测表尚未审核通过或未报送")
    text = "；".join(parts)
    if contributors:
        text += f"；仅{contributors}家有数据，{'不作判断' if test else '不计算合计'}"
    return text


def _key_codes(grid: pd.DataFrame, scope: str) -> tuple[np.ndarray, np.ndarray]:
    """(codes per row, keys) for a scope kind; the province is a single key."""
    if scope == "province":
        return np.zeros(len(grid), dtype=np.int64), np.array([PLAN_ROW], dtype=object)
    codes, keys = pd.factorize(grid[SCOPE_KEYS[scope]].to_numpy(dtype=object))
    return codes.astype(np.int64), np.asarray(keys, dtype=object)


def compute(
    inputs: Inputs,
    codes: tuple[str, ...] | None = None,
    scopes=("group", "kind", "province"),
    *,
    explained=None,
) -> Result:
    """Every indicator (or `codes`) for every expected institution-month of `inputs.months`, and their
    aggregates per evaluation group, institution kind and the province — in bulk, with no queries. With
    `explained` (institution ids), only those institutions' rows get the reasons of their undefined values
    (`Result.reasons` covers no other row); the aggregates' reasons are complete either way — what an
    incremental refresh, which stores those institutions' rows and the aggregates, needs."""
    panel = Panel(inputs)
    indicators = [REGISTRY[c] for c in (codes or CODES)]
    n = len(panel)
    wanted_rows = (
        None
        if explained is None
        else np.isin(panel.grid["institution_id"].to_numpy(), np.asarray(sorted(explained), dtype=np.int64))
    )
    names = sorted({name for ind in indicators for name in ind.needs})
    columns = {name: panel.column(name) for name in names}
    frame = pd.DataFrame({name: col.values for name, col in columns.items()})
    values, provisional, reasons = {}, {}, {}
    positions_all = np.arange(n)
    defined_masks, applicable_masks, lacking = {}, {}, {}
    for ind in indicators:
        parts = [columns[name] for name in ind.needs]
        defined = np.ones(n, dtype=bool)
        applicable = np.ones(n, dtype=bool)
        for part in parts:
            defined &= ~np.isnan(part.values)
            if part.applicable is not None:
                applicable &= part.applicable
        defined_masks[ind.code] = defined
        applicable_masks[ind.code] = applicable
        if ind.whole_scope:
            # a verdict (两增) also waits for members whose sheets are not approved yet (待审核)
            lacking[ind.code] = _lacking(
                [(name, columns[name]) for name in ind.needs], defined | ~applicable, pending=ind.test
            )
        with np.errstate(all="ignore"):
            # the formula reads its components by name from the whole frame (no per-indicator copy of them)
            v = ind.fn(frame).to_numpy(dtype=float) if n else np.array([], dtype=float)
        v = np.where(defined & np.isfinite(v), v, np.nan)
        values[ind.code] = v  # unrounded: a value is rounded once, when it is shown (Indicator.rounded)
        prov = np.zeros(n, dtype=bool)
        for part in parts:
            prov |= part.provisional
        provisional[ind.code] = prov
        missing = positions_all[~defined]
        if wanted_rows is not None:
            missing = missing[wanted_rows[missing]]
        texts = Panel._first_reason(parts)(missing) if len(missing) else np.array([], dtype=object)
        zero = positions_all[defined & np.isnan(v)]
        reason = pd.Series(
            np.concatenate([texts, np.full(len(zero), ind.zero_reason, dtype=object)]),
            index=np.concatenate([missing, zero]),
            dtype=object,
        )
        reasons[ind.code] = reason
    grid = panel.grid
    result_values = pd.DataFrame(values, index=grid.index)
    result_prov = pd.DataFrame(provisional, index=grid.index)

    t0 = int(grid["t"].min()) if n else 0
    n_t = int(grid["t"].max()) - t0 + 1 if n else 0
    ti = grid["t"].to_numpy() - t0
    aggregates = []
    for scope in scopes:
        key_codes, keys = _key_codes(grid, scope)
        size = len(keys) * n_t
        gid = key_codes * n_t + ti
        present = np.flatnonzero(np.bincount(gid, minlength=size))
        first_row = np.full(size, -1, dtype=np.int64)
        uniq, first = np.unique(gid[::-1], return_index=True)
        first_row[uniq] = n - 1 - first
        for ind in indicators:
            defined = defined_masks[ind.code]
            # members: the scope's institutions the indicator applies to (鄂微融: local banks only)
            members = np.bincount(gid[applicable_masks[ind.code]], minlength=size)
            g = gid[defined]
            contributors = np.bincount(g, minlength=size)
            sums = {}
            for name in ind.needs:
                col = columns[name].values[defined]
                total = np.bincount(g, weights=col, minlength=size)
                if name.partition("@")[0] in CONSTANT_COMPONENTS:
                    with np.errstate(all="ignore"):
                        total = total / contributors
                sums[name] = total[present]
            with np.errstate(all="ignore"):
                v = ind.fn(pd.DataFrame(sums)).to_numpy(dtype=float)
            c = contributors[present]
            v = np.where((c > 0) & np.isfinite(v), v, np.nan)
            prov = np.bincount(g, weights=provisional[ind.code][defined].astype(float), minlength=size)
            reason = np.full(len(present), None, dtype=object)
            empty = c == 0
            if empty.any():
                rows = first_row[present[empty]]
                if wanted_rows is None:
                    sample = reasons[ind.code].reindex(rows).to_numpy(dtype=object)
                else:  # no member defined: each first row's reason is its first missing component's
                    sample = Panel._first_reason([columns[name] for name in ind.needs])(rows)
                reason[empty] = _format_unique(
                    [members[present[empty]], sample],
                    lambda m, s: (
                        f"范围内没有适用的机构：{s}"
                        if m == 0
                        else (f"范围内{m}家机构均无法计算，如：{s}" if m > 1 else f"无法计算：{s}")
                    ),
                )
            reason[~empty & np.isnan(v)] = f"合计口径{ind.zero_reason}"
            if ind.code in lacking and lacking[ind.code][1]:
                # a member whose sheet lacks a field (or, for a verdict, is not approved yet): no figure over
                # the others — never a verdict on part of the scope
                row_codes, pairs = lacking[ind.code]
                has = row_codes >= 0
                k = len(pairs)
                counts = np.bincount(gid[has] * k + row_codes[has], minlength=size * k).reshape(size, k)
                counts = counts[present]
                short = np.flatnonzero(counts.sum(axis=1) > 0)
                v[short] = np.nan
                for i in short:
                    reason[i] = _lacking_reason(
                        counts[i], pairs, int(present[i] % n_t + t0), int(c[i]), ind.test
                    )
            t = present % n_t + t0
            aggregates.append(
                pd.DataFrame(
                    {
                        "scope_kind": scope,
                        "scope_key": keys[present // n_t],
                        "year": t // 12,
                        "month": t % 12 + 1,
                        "code": ind.code,
                        "value": v,
                        "reason": reason,
                        "contributors": c,
                        "members": members[present],
                        "provisional": prov[present] > 0,
                    }
                )
            )
    aggregate_frame = (
        pd.concat(aggregates, ignore_index=True)
        if aggregates
        else pd.DataFrame(
            columns=[
                "scope_kind",
                "scope_key",
                "year",
                "month",
                "code",
                "value",
                "reason",
                "contributors",
                "members",
                "provisional",
            ]
        )
    )
    result_applicable = pd.DataFrame(applicable_masks, index=grid.index)
    return Result(grid, result_values, result_prov, reasons, aggregate_frame, result_applicable)


STORED_PLACES = 10  # far below any shown decimal: storing never decides how a value is shown
_STORED = Decimal(1).scaleb(-STORED_PLACES)


def to_decimal(value) -> Decimal | None:
    """A computed float as the stored Decimal (NaN → None; −0 → 0). Its shortest decimal form, kept to
    STORED_PLACES decimals: 0.08834983 stays 0.08834983 and is shown 8.83%, not rounded first to 0.088350
    and then again to 8.84%. Float noise such as 0.30000000000000004 goes; the shown decimals never do."""
    if value is None:
        return None
    value = float(value)
    if not np.isfinite(value):
        return None
    d = Decimal(repr(value)).quantize(_STORED)
    return Decimal(0).quantize(_STORED) if d == 0 else d


# --- targets -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TargetCheck:
    """How a value stands against a target: the reference, progress (actual ÷ reference, when meaningful),
    the gap (actual − reference), whether it is met, and why not when any of these is undefined.

    `pending`: the figure (or its reference) is an aggregate some of whose members are not in it yet — their
    sheets are not approved or not filed — so the target can be neither met nor missed: 待审核. The progress
    and gap are then what the complete members alone show, and `basis` says how many they are ("15/24")."""

    reference: Decimal | None
    progress: Decimal | None
    gap: Decimal | None
    met: bool | None
    reason: str = ""
    time_progress: Decimal | None = None  # 时序进度: month / 12, for targets on cumulative indicators
    pending: bool = False
    basis: str = ""  # "15/24" for an aggregate: members whose data the figure contains / members
    reference_basis: str = ""

    @property
    def bar(self) -> int | None:
        """Width of the progress bar in percent (0–100)."""
        if self.progress is None:
            return None
        return max(0, min(100, int(self.progress * 100)))

    @property
    def progress_text(self) -> str:
        return "—" if self.progress is None else f"{self.progress * 100:.1f}%"

    @property
    def time_text(self) -> str:
        return "" if self.time_progress is None else f"{self.time_progress * 100:.1f}%"

    @property
    def time_bar(self) -> int | None:
        return None if self.time_progress is None else int(self.time_progress * 100)

    @property
    def status(self) -> str:
        if self.pending:
            return "待审核"
        return {True: "达标", False: "未达标", None: "无法判断"}[self.met]


def _partial(basis: tuple[int, int] | None) -> bool:
    return basis is not None and basis[1] > 1 and basis[0] < basis[1]


def _basis_text(basis: tuple[int, int] | None) -> str:
    return f"{basis[0]}/{basis[1]}" if basis is not None and basis[1] > 1 else ""


def pending_reason(indicator: Indicator, actual: Decimal | None, basis: tuple[int, int], what="") -> str:
    """待审核: which members are missing and what the complete ones alone show."""
    contributors, members = basis
    missing = members - contributors
    head = f"待审核：{members}家机构中{missing}家{what}的监测表尚未审核通过或未报送，暂无法判断是否达成"
    if actual is None or contributors == 0:
        return head
    shown = indicator.text(actual, with_unit=True)
    amount_like = not indicator.share and indicator.unit in {"亿元", "户", "万元"}
    tail = (
        f"已审核的{contributors}家合计{shown}" if amount_like else f"按已审核的{contributors}家计算为{shown}"
    )
    return f"{head}；{tail}"


def check_target(
    *,
    indicator: Indicator,
    comparator: str,
    basis: str,
    actual: Decimal | None,
    reference: Decimal | None,
    month: int,
    actual_reason: str = "",
    reference_reason: str = "",
    actual_basis: tuple[int, int] | None = None,
    reference_basis: tuple[int, int] | None = None,
) -> TargetCheck:
    """`actual_basis` / `reference_basis`: (contributors, members) of an aggregate figure. A figure summed
    over only part of its members never reads 未达标 (nor 达标): it is pending until they are all in."""
    time_progress = (
        (Decimal(month) / 12).quantize(Decimal("0.0001"))
        if indicator.cumulative and basis in {"fixed", "plan"}
        else None
    )
    bases = {"basis": _basis_text(actual_basis), "reference_basis": _basis_text(reference_basis)}
    if reference is None:
        return TargetCheck(
            reference=None,
            progress=None,
            gap=None,
            met=None,
            reason=reference_reason or "目标基准无数值",
            time_progress=time_progress,
            **bases,
        )
    if actual is None:
        return TargetCheck(
            reference=reference,
            progress=None,
            gap=None,
            met=None,
            reason=actual_reason or "指标无数值",
            time_progress=time_progress,
            **bases,
        )
    shown = indicator.rounded(actual)
    target = indicator.rounded(reference) if not indicator.test else reference
    met = shown >= target if comparator == "gte" else shown > target
    amount_like = not indicator.share and indicator.unit in {"亿元", "户", "万元"}
    progress = None
    if reference > 0 and (basis in {"fixed", "plan"} or amount_like):
        progress = (actual / reference).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    if _partial(actual_basis) or _partial(reference_basis):
        if _partial(actual_basis):
            reason = pending_reason(indicator, actual, actual_basis)
        else:
            reason = pending_reason(indicator, reference, reference_basis, what="（比较基准）")
        return TargetCheck(
            reference=reference,
            progress=progress,
            gap=actual - reference,
            met=None,
            reason=reason,
            time_progress=time_progress,
            pending=True,
            **bases,
        )
    return TargetCheck(
        reference=reference,
        progress=progress,
        gap=actual - reference,
        met=met,
        reason="",
        time_progress=time_progress,
        **bases,
    )


# --- reporting timeliness ------------------------------------------------------------------------------------


def filing_timeliness(counts: pd.DataFrame) -> pd.DataFrame:
    """报送率 and 按时报送率 per period from its counts (columns expected, reported, on_time): shares of the
    expected institutions; "—" (NaN) when nobody was expected."""
    out = counts.astype(float)
    out["reporting_rate"] = _ratio(out["reported"], out["expected"])
    out["on_time_rate"] = _ratio(out["on_time"], out["expected"])
    return out


def median(values: list[Decimal], minimum: int = 3) -> Decimal | None:
    """A group's median of defined values, or None when fewer than `minimum` peers report (so the median
    never reveals one bank's figure)."""
    vals = sorted(v for v in values if v is not None)
    if len(vals) < minimum:
        return None
    mid = len(vals) // 2
    return vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2
