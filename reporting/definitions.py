"""Declarative, versioned definitions of the returns banks file.

A definition names each field (code, Chinese label, unit, kind, decimals, group), where it sits in the
official workbook, and the thresholds its rules use. A later edition of a return is a new declaration
added to `EDITIONS` — e.g. one that adds 各项贷款余额 for the 两增 test — never a change to code paths.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _


class Kind:
    STOCK = "stock"  # 月末时点余额
    YTD = "ytd"  # 年初至本期末累计（1月重新起算）
    POINT = "point"  # 时点价格类指标

    LABELS = {STOCK: _("时点余额"), YTD: _("年初至今累计"), POINT: _("时点指标")}


@dataclass(frozen=True)
class FieldDef:
    code: str
    label: str  # Chinese label as printed on the form; "X月" is replaced by the month
    unit: str  # 亿元 / 户 / BP / %
    kind: str
    group: str  # 增量 / 扩面 / 降价
    column: str  # column letter in the official single-sheet layout
    decimals: int = 4
    integer: bool = False
    description: str = ""

    def label_for(self, month: int | None) -> str:
        return self.label.replace("X月", f"{month}月" if month else "X月")

    @property
    def step(self) -> str:
        return "1" if self.integer else "0." + "0" * (self.decimals - 1) + "1"


@dataclass(frozen=True)
class Thresholds:
    """Configured per edition: the bands and limits that warning rules use."""

    rate_min: Decimal = Decimal("2.00")  # 普惠小微贷款加权平均利率 plausible band, %
    rate_max: Decimal = Decimal("12.00")
    ftp_min: Decimal = Decimal("0")  # FTP 优惠点数 plausible band, BP
    ftp_max: Decimal = Decimal("300")
    stock_mom_change: Decimal = Decimal("0.30")  # |Δ| of a stock vs last month, as a share of last month
    first_loan_share_jump: Decimal = Decimal("0.20")  # |Δ| of 首贷户比重 vs last month, in share points
    group_outlier_z: Decimal = Decimal("3.5")  # modified z-score on the group's month-on-month changes
    group_min_peers: int = 5  # fewer peers than this: too few to call anyone an outlier
    quarter_sum_tolerance: Decimal = Decimal("0.01")  # 附件3: quarters vs annual, 亿元


@dataclass(frozen=True)
class FormDefinition:
    form: str
    edition: str
    title: str  # "{institution}{year}年{month}月…"
    unit_line: str
    fields: tuple[FieldDef, ...]
    notes: tuple[str, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)
    template_id: str = ""  # written into the workbook's properties to recognise our own template

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.fields]

    def field(self, code: str) -> FieldDef:
        for f in self.fields:
            if f.code == code:
                return f
        raise KeyError(code)

    def groups(self) -> list[tuple[str, list[FieldDef]]]:
        out: dict[str, list[FieldDef]] = {}
        for f in self.fields:
            out.setdefault(f.group, []).append(f)
        return list(out.items())


GROUP_INCREMENT, GROUP_COVERAGE, GROUP_PRICE = "增量", "扩面", "降价"

MONITORING_2022 = FormDefinition(
    form="monitoring",
    edition="2022",
    title="{institution}{year}年{month}月小微企业“敢贷愿贷能贷会贷”专项行动进展情况监测表",
    unit_line="单位：亿元、户、BP、%",
    template_id="xwqy-monitoring-2022",
    fields=(
        FieldDef("loan_balance", "X月末普惠小微贷款余额", "亿元", Kind.STOCK, GROUP_INCREMENT, "B"),
        FieldDef(
            "credit_loan_balance", "X月末普惠小微信用贷款余额", "亿元", Kind.STOCK, GROUP_INCREMENT, "C"
        ),
        FieldDef("new_loans", "新发放普惠小微贷款金额", "亿元", Kind.YTD, GROUP_INCREMENT, "D"),
        FieldDef("new_credit_loans", "新发放普惠小微信用贷款金额", "亿元", Kind.YTD, GROUP_INCREMENT, "E"),
        FieldDef("borrowers", "X月末普惠小微贷款户数", "户", Kind.STOCK, GROUP_COVERAGE, "F", 0, True),
        FieldDef("new_borrowers", "新发放小微企业贷款户数", "户", Kind.YTD, GROUP_COVERAGE, "G", 0, True),
        FieldDef("first_loan_borrowers", "拓展首贷户数", "户", Kind.YTD, GROUP_COVERAGE, "H", 0, True),
        FieldDef("first_loan_amount", "首贷金额", "亿元", Kind.YTD, GROUP_COVERAGE, "I"),
        FieldDef("ftp_discount_bp", "一年期普惠小微贷款FTP优惠点数", "BP", Kind.POINT, GROUP_PRICE, "J", 2),
        FieldDef("fee_relief", "小微企业累计减费让利金额", "亿元", Kind.YTD, GROUP_PRICE, "K"),
        FieldDef("weighted_rate", "普惠小微贷款加权平均利率", "%", Kind.POINT, GROUP_PRICE, "L", 4),
    ),
    notes=(
        "注：1.普惠小微贷款、普惠小微信用贷款、普惠小微贷款户数的数据口径参考人民银行A3302有关科目相加。"
        "如，普惠小微贷款户数=单户授信1000万（含）以下的境内小微型企业贷款户数+个体工商户经营性贷款户数+"
        "小微企业主经营性贷款户数。2.首贷户是指在人民银行征信系统从未有过贷款或票据贴现记录，"
        "统计期间首次获得贷款（含票据贴现）。3.新发放数据统计期间为年初至本期末。",
    ),
)

EDITIONS: dict[tuple[str, str], FormDefinition] = {
    ("monitoring", "2022"): MONITORING_2022,
}


def definition_for(form: str, year: int) -> FormDefinition:
    """The edition in force for a year: the latest edition not newer than the year."""
    candidates = [d for (f, e), d in EDITIONS.items() if f == form and int(e) <= year]
    if not candidates:
        candidates = [d for (f, _e), d in EDITIONS.items() if f == form]
    return max(candidates, key=lambda d: int(d.edition))
