"""Workbooks in the layouts 武银〔2022〕45号 prints for 附件3 and 附件4, as a bank that fills in the notice's
own file would upload them — built from the notice's text (the end of seeds/004_…), not by the portal's
template writer.

附件4 as printed: "附件4" on row 1, the title on row 2, "填报人： 联系方式： 单位：亿元、户、BP、%" on row 3, the
group headings 增量 / 扩面 / 降价 on row 4 with 机构名称 merged over rows 4–5, the eleven headings on row 5 wrapped
as the notice wraps them, the institution's row 6, the notes below. 附件3: "附件3", the title, the 填报人 line,
the headings on row 4, 全省 on row 5 (sums) and the 17 分行 on rows 6–22 with the two 增速 columns as formulas
(Excel shows #DIV/0! while they are empty), the notes below.
"""

from io import BytesIO

import openpyxl

NOTICE_SHEET = "Sheet1"

# 附件4's headings as the notice prints them, line breaks included, in its column order (B…L).
MONITORING_HEADINGS = {
    "loan_balance": "X月末普惠小\n微贷款余额",
    "credit_loan_balance": "X月末普惠小\n微信用贷款余\n额",
    "new_loans": "新发放普惠小\n微贷款金额",
    "new_credit_loans": "新发放普惠小\n微信用贷款金\n额",
    "borrowers": "X月末普惠小\n微贷款户数",
    "new_borrowers": "新发放小微\n企业贷款户\n数",
    "first_loan_borrowers": "拓展首贷\n户数",
    "first_loan_amount": "首贷金额",
    "ftp_discount_bp": "一年期普惠小微\n贷款FTP优惠点\n数",
    "fee_relief": "小微企业累计减\n费让利金额",
    "weighted_rate": "普惠小微贷款加\n权平均利率",
}
GROUPS = (("增量", 4), ("扩面", 4), ("降价", 3))
MONITORING_NOTES = (
    "注：1.普惠小微贷款、普惠小微信用贷款、普惠小微贷款户数的数据口径参考人民银行A3302有关科目相加。如，普惠小微贷款户数"
    "=单户授信1000万（含）以下的境内小微型企业贷款户数+个体工商户经营性贷款户数+小微企业主经营性贷款户数。"
    "2.首贷户是指在人民银行征信系统从未有过贷款或票据贴现记录，统计期间首次获得贷款（含票据贴现）。"
    "3.新发放数据统计期间为年初至本期末。"
)

# A clean 2022年3月 row of 工商银行 as a filer types it (亿元、户、BP、%).
MONITORING_VALUES = {
    "loan_balance": 312.45,
    "credit_loan_balance": 58.3,
    "new_loans": 96.2,
    "new_credit_loans": 21.5,
    "borrowers": 28650,
    "new_borrowers": 5230,
    "first_loan_borrowers": 1210,
    "first_loan_amount": 12.8,
    "ftp_discount_bp": 55,
    "fee_relief": 1.35,
    "weighted_rate": 4.98,
}


def _save(wb) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def notice_monitoring(
    *,
    institution: str = "工商银行",
    title_institution: str | None = None,
    year: int | str = 2022,
    month: int | str = "X",
    values: dict | None = None,
    rows: list[tuple[str, dict]] | None = None,
    order: list[str] | None = None,
    headings: dict[str, str] | None = None,
    extra: tuple[str, str] | None = None,
    drop: tuple[str, ...] = (),
    sheet: str = NOTICE_SHEET,
    filer: str = "张三",
    phone: str = "027-87654321",
    heading_month: int | str = "X",
) -> bytes:
    """The notice's 附件4 filled in. `rows` replaces the single row of `institution` (name, values);
    `order` gives the field order of the columns; `headings` overrides a heading's text; `extra` adds a
    (heading, value) column after the fields; `drop` leaves headings out."""
    codes = [c for c in (order or list(MONITORING_HEADINGS)) if c not in drop]
    labels = {**MONITORING_HEADINGS, **(headings or {})}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    last = openpyxl.utils.get_column_letter(1 + len(codes) + (1 if extra else 0))
    ws["A1"] = "附件4"
    ws.merge_cells(f"A2:{last}2")
    title_name = institution if title_institution is None else title_institution
    ws["A2"] = f"{title_name}{year}年{month}月小微企业“敢贷愿贷能贷会贷”专项行动进展情况监测表"
    ws["A3"] = f"填报人：{filer}"
    ws["E3"] = f"联系方式：{phone}"
    ws["J3"] = "单位：亿元、户、BP、%"
    ws.merge_cells("A4:A5")
    ws["A4"] = "机构名称"
    if order is None and not drop:
        start = 2
        for group, width in GROUPS:
            a, b = (
                openpyxl.utils.get_column_letter(start),
                openpyxl.utils.get_column_letter(start + width - 1),
            )
            ws.merge_cells(f"{a}4:{b}4")
            ws[f"{a}4"] = group
            start += width
    for i, code in enumerate(codes, start=2):
        ws.cell(5, i, labels[code].replace("X月", f"{heading_month}月"))
    if extra:
        ws.cell(5, 2 + len(codes), extra[0])
    data = rows if rows is not None else [(institution, values if values is not None else MONITORING_VALUES)]
    for r, (name, row_values) in enumerate(data, start=6):
        ws.cell(r, 1, name)
        for i, code in enumerate(codes, start=2):
            ws.cell(r, i, row_values.get(code))
        if extra:
            ws.cell(r, 2 + len(codes), extra[1])
    notes_row = 6 + len(data)
    ws.merge_cells(f"A{notes_row}:{last}{notes_row}")
    ws[f"A{notes_row}"] = MONITORING_NOTES
    return _save(wb)


# --- 附件3 -------------------------------------------------------------------------------------------------

PLAN_REGIONS = (
    "武汉分行",
    "黄石分行",
    "十堰分行",
    "宜昌分行",
    "襄阳分行",
    "鄂州分行",
    "荆门分行",
    "孝感分行",
    "荆州分行",
    "黄冈分行",
    "咸宁分行",
    "随州分行",
    "恩施州分行",
    "仙桃分行",
    "潜江分行",
    "天门分行",
    "神农架林区分行",
)


def plan_headings(year: int) -> list[str]:
    """附件3's nine headings, B…J, wrapped as the notice prints them."""
    return [
        f"{year - 2}年末普\n惠小微贷款\n余额",
        f"{year - 1}年末普\n惠小微贷款\n余额",
        f"{year - 1}年末\n普惠小微\n贷款增速",
        f"{year}年普惠\n小微贷款预\n计新增额",
        f"{year}年末普惠\n小微贷款预计\n增速",
        "一季度实\n际新增额",
        "二季度预\n计新增额",
        "三季度预\n计新增额",
        "四季度预\n计新增额",
    ]


def plan_row_values(i: int) -> dict[str, float]:
    """A region's plausible figures (亿元), by its index: the quarters add up to the year's plan."""
    y2 = 20.0 + i
    y1 = round(y2 * 1.25, 2)
    increase = round(y1 * 0.3, 2)
    q1 = round(increase * 0.3, 2)
    q2 = round(increase * 0.25, 2)
    q3 = round(increase * 0.25, 2)
    return {
        "B": y2,
        "C": y1,
        "E": increase,
        "G": q1,
        "H": q2,
        "I": q3,
        "J": round(increase - q1 - q2 - q3, 2),
    }


def notice_plan(
    *,
    institution: str = "工商银行",
    year: int = 2022,
    cells: dict[str, object] | None = None,
    sheet: str = NOTICE_SHEET,
    regions: tuple[str, ...] = PLAN_REGIONS,
) -> bytes:
    """The notice's 附件3 filled in for every region; `cells` overrides single cells ("C7": "28,650")."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws["A1"] = "附件3"
    ws.merge_cells("A2:J2")
    ws["A2"] = f"{institution}{year}年普惠小微贷款投放计划表"
    ws["A3"] = "填报人："
    ws["B3"] = "李四"
    ws["D3"] = "联系方式："
    ws["E3"] = "13800000000"
    ws["H3"] = "单位： 亿元，%"
    for i, label in enumerate(plan_headings(year), start=2):
        ws.cell(4, i, label)
    last = 5 + len(regions)
    ws["A5"] = "全省"
    for letter in "BCEGHIJ":
        ws[f"{letter}5"] = f"=SUM({letter}6:{letter}{last})"
    for r in range(5, last + 1):
        ws[f"D{r}"] = f"=(C{r}-B{r})/B{r}"
        ws[f"F{r}"] = f"=E{r}/C{r}"
    for i, region in enumerate(regions):
        r = 6 + i
        ws[f"A{r}"] = region
        for letter, value in plan_row_values(i).items():
            ws[f"{letter}{r}"] = value
    for ref, value in (cells or {}).items():
        ws[ref] = value
    ws[f"A{last + 1}"] = "注：本表无需填写数据单位，数据口径参考人民银行A3302报表相关科目"
    ws[f"A{last + 2}"] = (
        "普惠小微贷款余额=单户授信1000万元（含）以下的境内小微型企业贷款+个体工商户经营性贷款+小微企业主经营性贷款"
    )
    return _save(wb)
