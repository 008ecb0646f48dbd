"""Declarative, versioned definitions of the returns banks file.

A definition names each field (code, Chinese label, unit, kind, decimals, group), where it sits in the
official workbook, and the thresholds its rules use. A later edition of a return is a new declaration
added to `EDITIONS` — as 2023 adds 各项贷款余额 (两增) and 普惠小微不良贷款核销金额 (核销还原) — never a change
to code paths.
"""

from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property, lru_cache

from django.utils.translation import gettext_lazy as _


class Kind:
    STOCK = "stock"  # 月末时点余额
    YTD = "ytd"  # 年初至本期末累计（1月重新起算）
    POINT = "point"  # 时点价格类指标
    PLAN = "plan"  # 计划、预计数（附件3）
    TEXT = "text"  # 文字（附件2 联系人）

    LABELS = {
        STOCK: _("时点余额"),
        YTD: _("年初至今累计"),
        POINT: _("时点指标"),
        PLAN: _("计划数"),
        TEXT: _("文字"),
    }


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
    # Table returns (附件2, 附件3): the row this field belongs to, its column's code, and its own cell.
    row: str = ""
    row_label: str = ""
    column_code: str = ""
    cell: str = ""
    required: bool = True
    text_format: str = ""  # TEXT fields: "phone" / "mobile" / "email" / "" (free text)
    max_length: int = 60

    def label_for(self, month: int | None) -> str:
        return self.label.replace("X月", f"{month}月" if month else "X月")

    @property
    def is_number(self) -> bool:
        return self.kind != Kind.TEXT

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
    plan_growth_min: Decimal = Decimal("-0.20")  # 附件3: 增速 below this is implausible
    plan_growth_max: Decimal = Decimal("1.00")  # 附件3: 增速 above this is implausible
    cross_return_tolerance: Decimal = Decimal("0.01")  # 附件3 vs 附件4, 亿元
    # Unit sanity (E6xx/W6xx). 普惠小微 is 单户授信 1000万元（含）以下: no average balance per borrower above it.
    max_per_borrower: Decimal = Decimal("0.1")  # 亿元 per 户
    rate_fraction_below: Decimal = Decimal(
        "1"
    )  # a 加权平均利率 under 1 (%) is a fraction typed for a percent
    ftp_percent_at_most: Decimal = Decimal(
        "3"
    )  # an FTP 优惠 of at most 3 (BP) with decimals is percent typed for BP
    unit_factor: Decimal = Decimal("10000")  # 万元 vs 亿元, 户 vs 万户
    unit_factor_slack: Decimal = Decimal("3")  # a ratio within factor ÷ 3 … factor × 3 reads as a unit slip
    # 核销 (year to date) above this share of the 普惠小微 balance is implausible (W409): 不良率 in Hubei is a few %
    write_off_share_max: Decimal = Decimal("0.10")


@dataclass(frozen=True)
class RowDef:
    """A row of a table return: a region of 附件3 (code = GB/T 2260) or a contact role of 附件2."""

    code: str
    label: str


@dataclass(frozen=True)
class ComputedDef:
    """A column the portal computes rather than the bank types: (numerator − base) / denominator.

    Stored with the values (under "<row>.<code>") and shown as "—" when the denominator is zero or missing —
    the official template's #DIV/0! never reaches anyone."""

    code: str
    label: str
    numerator: str
    denominator: str
    base: str = ""
    unit: str = "%"
    column: str = ""  # where the official layout prints it


class Layout:
    SHEET = "sheet"  # one row of fields (附件4)
    TABLE = "table"  # rows × columns (附件2, 附件3)
    DOCUMENT = "document"  # an uploaded PDF/DOCX (工作方案, 经验做法)


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
    layout: str = Layout.SHEET
    rows: tuple[RowDef, ...] = ()  # TABLE: every printed row, in order (incl. a total row)
    columns: tuple[FieldDef, ...] = ()  # TABLE: the input columns (templates of the fields)
    computed: tuple[ComputedDef, ...] = ()  # TABLE: per-row ratios the portal computes
    total_row: str = ""  # TABLE: the row that is the sum of the others (附件3 全省)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.fields]

    @cached_property
    def _by_code(self) -> dict[str, FieldDef]:
        return {f.code: f for f in self.fields}

    def field(self, code: str) -> FieldDef:
        return self._by_code[code]

    @property
    def number_fields(self) -> list[FieldDef]:
        return [f for f in self.fields if f.is_number]

    def groups(self) -> list[tuple[str, list[FieldDef]]]:
        out: dict[str, list[FieldDef]] = {}
        for f in self.fields:
            out.setdefault(f.group, []).append(f)
        return list(out.items())

    def derive(self, values: dict) -> dict:
        """The values the portal computes from the filed ones: the total row (sum of the other rows, None
        while any of them is missing) and every computed ratio (None when undefined)."""
        out: dict = {}
        if self.layout != Layout.TABLE:
            return out
        if self.total_row:
            for column in self.columns:
                if not column.is_number:
                    continue
                parts = [
                    values.get(f"{row.code}.{column.code}") for row in self.rows if row.code != self.total_row
                ]
                out[f"{self.total_row}.{column.code}"] = None if any(p is None for p in parts) else sum(parts)
        both = {**values, **out}
        for row in self.rows:
            for c in self.computed:
                top = both.get(f"{row.code}.{c.numerator}")
                base = both.get(f"{row.code}.{c.base}") if c.base else Decimal(0)
                bottom = both.get(f"{row.code}.{c.denominator}")
                ok = top is not None and base is not None and bottom not in (None, Decimal(0))
                out[f"{row.code}.{c.code}"] = (top - base) / bottom if ok else None
        return out


def table_fields(
    rows: tuple[RowDef, ...], columns: tuple[FieldDef, ...], *, skip_row: str = "", first_row: int
):
    """The fields of a table return: one per (input row, column), coded "<row>.<column>", with its cell."""
    out = []
    for index, row in enumerate(rows):
        if row.code == skip_row:
            continue
        for col in columns:
            out.append(
                FieldDef(
                    code=f"{row.code}.{col.code}",
                    label=f"{row.label} · {col.label}",
                    unit=col.unit,
                    kind=col.kind,
                    group=row.label,
                    column=col.column,
                    decimals=col.decimals,
                    integer=col.integer,
                    row=row.code,
                    row_label=row.label,
                    column_code=col.code,
                    cell=f"{col.column}{first_row + index}",
                    required=col.required,
                    text_format=col.text_format,
                    max_length=col.max_length,
                )
            )
    return tuple(out)


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

# 2023 (seed 003 §(二) 两增; seed 004 §(三) 核销): 各项贷款余额 so that 普惠小微贷款增速 can be set against
# 各项贷款增速, and the year's 普惠小微不良贷款核销 so that growth can be restored for write-offs. Both sit under
# 增量, after its four 2022 columns; 扩面 and 降价 move two columns right.
TOTAL_LOAN_BALANCE = "total_loan_balance"
NPL_WRITE_OFFS = "npl_write_offs"
_SHIFTED_2023 = {f.code: f for f in MONITORING_2022.fields}
MONITORING_2023 = replace(
    MONITORING_2022,
    edition="2023",
    template_id="xwqy-monitoring-2023",
    fields=(
        *(_SHIFTED_2023[c] for c in ("loan_balance", "credit_loan_balance", "new_loans", "new_credit_loans")),
        FieldDef(TOTAL_LOAN_BALANCE, "X月末各项贷款余额", "亿元", Kind.STOCK, GROUP_INCREMENT, "F"),
        FieldDef(NPL_WRITE_OFFS, "普惠小微不良贷款核销金额", "亿元", Kind.YTD, GROUP_INCREMENT, "G"),
        *(
            replace(_SHIFTED_2023[c], column=letter)
            for c, letter in zip(
                (
                    "borrowers",
                    "new_borrowers",
                    "first_loan_borrowers",
                    "first_loan_amount",
                    "ftp_discount_bp",
                    "fee_relief",
                    "weighted_rate",
                ),
                "HIJKLMN",
                strict=True,
            )
        ),
    ),
    notes=(
        MONITORING_2022.notes[0] + "4.各项贷款余额为本机构境内本外币各项贷款余额。"
        "5.普惠小微不良贷款核销金额为年初至本期末核销的普惠小微不良贷款金额。",
    ),
)

# 附件3 rows: 全省 then the 17 regions, in the notice's order (GB/T 2260 codes, as fixtures/regions.csv).
PLAN_ROWS = (
    RowDef("420000", "全省"),
    RowDef("420100", "武汉分行"),
    RowDef("420200", "黄石分行"),
    RowDef("420300", "十堰分行"),
    RowDef("420500", "宜昌分行"),
    RowDef("420600", "襄阳分行"),
    RowDef("420700", "鄂州分行"),
    RowDef("420800", "荆门分行"),
    RowDef("420900", "孝感分行"),
    RowDef("421000", "荆州分行"),
    RowDef("421100", "黄冈分行"),
    RowDef("421200", "咸宁分行"),
    RowDef("421300", "随州分行"),
    RowDef("422800", "恩施州分行"),
    RowDef("429004", "仙桃分行"),
    RowDef("429005", "潜江分行"),
    RowDef("429006", "天门分行"),
    RowDef("429021", "神农架林区分行"),
)
PLAN_TOTAL_ROW = "420000"
PLAN_FIRST_ROW = 5  # the 全省 row in the official layout (title, 填报人 line, two header rows)


@lru_cache(maxsize=16)
def _plan_edition(year: int) -> "FormDefinition":
    return plan_definition(year)


def plan_definition(year: int) -> FormDefinition:
    """附件3 普惠小微贷款投放计划表 for `year` (单位：亿元，%). The 2021 edition of the notice is the 2022 plan;
    the labels move with the year."""
    y2, y1 = year - 2, year - 1
    columns = (
        FieldDef("balance_y2", f"{y2}年末普惠小微贷款余额", "亿元", Kind.STOCK, "", "B"),
        FieldDef("balance_y1", f"{y1}年末普惠小微贷款余额", "亿元", Kind.STOCK, "", "C"),
        FieldDef("planned_increase", f"{year}年普惠小微贷款预计新增额", "亿元", Kind.PLAN, "", "E"),
        FieldDef("q1_actual", "一季度实际新增额", "亿元", Kind.PLAN, "", "G"),
        FieldDef("q2_plan", "二季度预计新增额", "亿元", Kind.PLAN, "", "H"),
        FieldDef("q3_plan", "三季度预计新增额", "亿元", Kind.PLAN, "", "I"),
        FieldDef("q4_plan", "四季度预计新增额", "亿元", Kind.PLAN, "", "J"),
    )
    return FormDefinition(
        form="plan",
        edition=str(year),
        title="{institution}" + f"{year}年普惠小微贷款投放计划表",
        unit_line="单位：亿元，%",
        layout=Layout.TABLE,
        rows=PLAN_ROWS,
        columns=columns,
        total_row=PLAN_TOTAL_ROW,
        computed=(
            ComputedDef(
                "growth_y1", f"{y1}年末普惠小微贷款增速", "balance_y1", "balance_y2", "balance_y2", column="D"
            ),
            ComputedDef(
                "planned_growth",
                f"{year}年末普惠小微贷款预计增速",
                "planned_increase",
                "balance_y1",
                column="F",
            ),
        ),
        fields=table_fields(PLAN_ROWS, columns, skip_row=PLAN_TOTAL_ROW, first_row=PLAN_FIRST_ROW),
        notes=(
            "注：本表无需填写数据单位，数据口径参考人民银行A3302报表相关科目",
            "普惠小微贷款余额=单户授信1000万元（含）以下的境内小微型企业贷款+个体工商户经营性贷款+小微企业主经营性贷款",
        ),
        template_id=f"xwqy-plan-{year}",
    )


CONTACT_ROWS = (
    RowDef("leader", "分管行领导"),
    RowDef("head", "牵头部门负责人"),
    RowDef("liaison", "牵头部门联系人"),
)
CONTACTS_2022 = FormDefinition(
    form="contacts",
    edition="2022",
    title="{institution}专项行动联系人",
    unit_line="",
    layout=Layout.TABLE,
    rows=CONTACT_ROWS,
    columns=(
        FieldDef("department", "部门", "", Kind.TEXT, "", "B"),
        FieldDef("name", "姓名", "", Kind.TEXT, "", "C", max_length=30),
        FieldDef("title", "职务", "", Kind.TEXT, "", "D", max_length=30),
        FieldDef("office_phone", "办公电话", "", Kind.TEXT, "", "E", text_format="phone", max_length=30),
        FieldDef("mobile", "手机", "", Kind.TEXT, "", "F", text_format="mobile", max_length=20),
        FieldDef("email", "金融服务平台邮箱", "", Kind.TEXT, "", "G", text_format="email", max_length=100),
    ),
    fields=(),
    notes=(),
    template_id="xwqy-contacts-2022",
)
CONTACTS_2022 = replace(CONTACTS_2022, fields=table_fields(CONTACT_ROWS, CONTACTS_2022.columns, first_row=3))


def document_definition(form: str, title: str) -> FormDefinition:
    """A document return: no fields; each version is an uploaded PDF or DOCX."""
    return FormDefinition(
        form=form, edition="2022", title=title, unit_line="", fields=(), notes=(), layout=Layout.DOCUMENT
    )


WORK_PLAN_2022 = document_definition("work_plan", "{institution}专项行动工作方案")  # 004 §(十八)
EXPERIENCE_2022 = document_definition("experience", "{institution}专项行动经验做法")  # 004 §(二十)

EDITIONS: dict[tuple[str, str], FormDefinition] = {
    ("monitoring", "2022"): MONITORING_2022,
    ("monitoring", "2023"): MONITORING_2023,
    ("plan", "2022"): plan_definition(2022),
    ("contacts", "2022"): CONTACTS_2022,
    ("work_plan", "2022"): WORK_PLAN_2022,
    ("experience", "2022"): EXPERIENCE_2022,
}


def definition_for(form: str, year: int) -> FormDefinition:
    """The edition in force for a year: the latest edition not newer than the year. 附件3's labels name
    the years, so each year has its own plan edition."""
    if form == "plan":
        return _plan_edition(year)
    candidates = [d for (f, e), d in EDITIONS.items() if f == form and int(e) <= year]
    if not candidates:  # a year before the first edition (the demo's 2020–2021) reads on the first one
        return min((d for (f, _e), d in EDITIONS.items() if f == form), key=lambda d: int(d.edition))
    return max(candidates, key=lambda d: int(d.edition))
