"""The 附件3 投放计划表 workbook (template and reader) and the 附件2 联系人 export. Pure: no database.

The computed cells are checked by evaluating their formulas with Excel's rules for blanks (a small
evaluator below), not only by reading their text: a blank or zero denominator must show "—", never #DIV/0!.
"""

import re
import zipfile
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest

from reporting import excel
from reporting.definitions import CONTACTS_2022, PLAN_ROWS, plan_definition
from reporting.uploads import UploadRejected, inspect_workbook

D = plan_definition(2022)
INSTITUTION = "工商银行湖北省分行"
MAX = 10 * 1024 * 1024
INPUT_COLUMNS = "BCEGHIJ"
REGION_ROWS = range(6, 23)  # 武汉分行 … 神农架林区分行; 全省 is row 5


# --- helpers ---------------------------------------------------------------------------------------------


def template(**kwargs) -> bytes:
    return excel.plan_template(D, **{"institution_name": INSTITUTION, **kwargs})


def edit(data: bytes, change) -> bytes:
    wb = openpyxl.load_workbook(BytesIO(data))
    change(wb)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def fill(data: bytes, cells: dict) -> bytes:
    def change(wb):
        for ref, value in cells.items():
            wb[excel.PLAN_SHEET][ref] = value

    return edit(data, change)


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(BytesIO(data)) as zf:
        return zf.read("xl/worksheets/sheet1.xml").decode("utf-8")


def with_sheet_xml(data: bytes, xml: str) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = xml.encode() if info.filename == "xl/worksheets/sheet1.xml" else src.read(info.filename)
            dst.writestr(info.filename, content)
    return out.getvalue()


def refused(data: bytes) -> tuple[str, str]:
    with pytest.raises(UploadRejected) as exc:
        excel.read_plan_workbook(data, D)
    return exc.value.code, exc.value.message


def sample_values() -> dict[str, Decimal]:
    """Distinct values for every input cell: row index and column position encoded in the digits."""
    values = {}
    for fd in D.fields:
        row = int(fd.cell[1:])
        values[fd.code] = Decimal(f"{row}{INPUT_COLUMNS.index(fd.column) + 1}.{row:02d}25")
    return values


def sheet(data: bytes):
    return openpyxl.load_workbook(BytesIO(data))[excel.PLAN_SHEET]


# --- a small Excel formula evaluator (IF, OR, NOT, ISNUMBER, SUM; + - * /; =) ----------------------------

_TOKEN = re.compile(
    r'\s*(?:("(?:[^"]|"")*")|([A-Z]+\d+:[A-Z]+\d+)|([A-Z]+)\(|([A-Z]+\d+)|(\d+(?:\.\d+)?)|(.))'
)


def evaluate(formula: str, cells: dict[str, object]):
    """Evaluate `formula` against `cells` (ref → number; missing = blank) the way Excel does for these
    functions: a blank is 0 in arithmetic and in `=0`, ISNUMBER(blank) is FALSE, IF evaluates one branch.
    Division by zero raises ZeroDivisionError — the #DIV/0! a bank must never see."""
    tokens = []
    for m in _TOKEN.finditer(formula.lstrip("=")):
        string, area, func, ref, number, op = m.groups()
        if string is not None:
            tokens.append(("str", string[1:-1].replace('""', '"')))
        elif area:
            tokens.append(("area", area))
        elif func:
            tokens.append(("func", func))
        elif ref:
            tokens.append(("ref", ref))
        elif number:
            tokens.append(("num", Decimal(number)))
        elif op.strip():
            tokens.append(("op", op))
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else ("end", None)

    def take(expected=None):
        nonlocal pos
        token = tokens[pos]
        pos += 1
        assert expected is None or token[1] == expected, (token, expected)
        return token

    def expr(skip=False):
        left = additive(skip)
        if peek() == ("op", "="):
            take()
            right = additive(skip)
            if skip:
                return None
            blank = {None: Decimal(0)}
            return blank.get(left, left) == blank.get(right, right) or (left is None and right == "")
        return left

    def additive(skip):
        value = term(skip)
        while peek() in (("op", "+"), ("op", "-")):
            op = take()[1]
            right = term(skip)
            if not skip:
                value = num(value) + num(right) if op == "+" else num(value) - num(right)
        return value

    def term(skip):
        value = primary(skip)
        while peek() in (("op", "*"), ("op", "/")):
            op = take()[1]
            right = primary(skip)
            if not skip:
                if op == "/" and num(right) == 0:
                    raise ZeroDivisionError("#DIV/0!")
                value = num(value) * num(right) if op == "*" else num(value) / num(right)
        return value

    def args(skip):
        out = [expr(skip)]
        while peek() == ("op", ","):
            take()
            out.append(expr(skip))
        take(")")
        return out

    def primary(skip):
        kind, value = take()
        if kind == "op" and value == "(":
            inner = expr(skip)
            take(")")
            return inner
        if kind == "op" and value == "-":
            return None if skip else -num(primary(skip))
        if kind in ("num", "str"):
            return value
        if kind == "ref":
            return cells.get(value)
        if kind == "area":
            first, last = value.split(":")
            col = first[0]
            return [cells.get(f"{col}{r}") for r in range(int(first[1:]), int(last[1:]) + 1)]
        if kind == "func" and value == "IF":
            condition = expr(skip)
            take(",")
            yes = expr(skip or not condition)
            take(",")
            no = expr(skip or bool(condition))
            take(")")
            return None if skip else (yes if condition else no)
        if kind == "func":
            values = args(skip)
            if skip:
                return None
            if value == "OR":
                return any(values)
            if value == "NOT":
                return not values[0]
            if value == "ISNUMBER":
                return isinstance(values[0], Decimal | int | float) and not isinstance(values[0], bool)
            if value == "SUM":
                return sum(
                    (Decimal(str(v)) for a in values for v in (a if isinstance(a, list) else [a]) if v),
                    Decimal(0),
                )
        raise AssertionError(f"unsupported token {kind} {value}")

    def num(value):
        if value is None:
            return Decimal(0)
        if isinstance(value, str):
            raise AssertionError(f"#VALUE!: {value!r}")
        return Decimal(str(value))

    result = expr()
    assert pos == len(tokens), tokens[pos:]
    return result


# --- the template --------------------------------------------------------------------------------------


def test_template_prints_the_official_layout_title_info_header_rows_and_notes():
    ws = sheet(template(filer="张三", phone="027-87654321"))

    assert ws["A1"].value == "工商银行湖北省分行2022年普惠小微贷款投放计划表" and ws["A1"].font.b
    assert "A1:J1" in {str(r) for r in ws.merged_cells.ranges}
    assert (ws["A2"].value, ws["B2"].value, ws["D2"].value, ws["E2"].value) == (
        "填报人：",
        "张三",
        "联系方式：",
        "027-87654321",
    )
    assert ws["H2"].value == "单位：亿元，%"
    headers = {ws[f"{c}3"].value for c in "BCDEFGHIJ"}
    assert headers == {c.label for c in D.columns} | {c.label for c in D.computed}
    assert ws["B3"].value == "2020年末普惠小微贷款余额" and ws["D3"].value == "2021年末普惠小微贷款增速"
    assert ws["F3"].value == "2022年末普惠小微贷款预计增速" and ws["J3"].value == "四季度预计新增额"
    assert ws["B3"].alignment.wrap_text and "B3:B4" in {str(r) for r in ws.merged_cells.ranges}
    assert [ws[f"A{r}"].value for r in range(5, 23)] == [row.label for row in PLAN_ROWS]
    assert ws["A5"].value == "全省" and ws["A22"].value == "神农架林区分行"
    assert ws["A23"].value == D.notes[0] and ws["A24"].value == D.notes[1]
    assert {"A23:J23", "A24:J24"} <= {str(r) for r in ws.merged_cells.ranges}


def test_template_is_protected_with_only_the_regional_inputs_and_contacts_unlocked():
    ws = sheet(template())

    assert ws.protection.sheet
    for r in REGION_ROWS:
        for col in INPUT_COLUMNS:
            assert ws[f"{col}{r}"].protection.locked is False, f"{col}{r}"
        assert ws[f"D{r}"].protection.locked and ws[f"F{r}"].protection.locked
    for col in "BCDEFGHIJ":
        assert ws[f"{col}5"].protection.locked, f"{col}5"
    assert ws["B2"].protection.locked is False and ws["E2"].protection.locked is False
    assert ws["A6"].protection.locked and ws["B3"].protection.locked


def test_inputs_accept_only_decimals_not_below_zero():
    ws = sheet(template())
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    for col in INPUT_COLUMNS:
        dv = rules[f"{col}6:{col}22"]
        assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")
        assert dv.showErrorMessage and dv.errorStyle == "stop"
    numeric = sorted(ref for ref, dv in rules.items() if dv.type == "decimal")
    assert numeric == sorted(f"{col}6:{col}22" for col in INPUT_COLUMNS)  # not the 全省 row


def test_print_setup_and_properties_identify_the_template():
    data = template()
    wb = openpyxl.load_workbook(BytesIO(data))
    ws = wb[excel.PLAN_SHEET]

    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert wb.properties.keywords == "xwqy-plan-2022;2022"
    assert wb.properties.subject == INSTITUTION
    assert wb.properties.title == "工商银行湖北省分行2022年普惠小微贷款投放计划表"


def test_total_row_sums_the_seventeen_regions_for_every_input_column():
    ws = sheet(template())
    for col in INPUT_COLUMNS:
        assert ws[f"{col}5"].value == f"=SUM({col}6:{col}22)"

    cells = {f"B{r}": Decimal(r) for r in REGION_ROWS}
    assert evaluate(ws["B5"].value, cells) == sum(Decimal(r) for r in REGION_ROWS)


def test_computed_columns_are_the_growth_formulas_of_the_notice():
    ws = sheet(template())

    assert ws["D6"].value == '=IF(OR(NOT(ISNUMBER(B6)),NOT(ISNUMBER(C6)),B6=0),"—",(C6-B6)/B6)'
    assert ws["F6"].value == '=IF(OR(NOT(ISNUMBER(C6)),NOT(ISNUMBER(E6)),C6=0),"—",E6/C6)'
    assert ws["D22"].value.endswith("(C22-B22)/B22)") and ws["F5"].value.endswith("E5/C5)")
    assert ws["D6"].number_format == "0.00%" and ws["F6"].number_format == "0.00%"
    # 2021增速 = (2021末 − 2020末) / 2020末; 2022预计增速 = 预计新增额 / 2021末
    assert evaluate(ws["D6"].value, {"B6": Decimal(100), "C6": Decimal(130)}) == Decimal("0.3")
    assert evaluate(ws["F6"].value, {"C6": Decimal(130), "E6": Decimal(39)}) == Decimal("0.3")


@pytest.mark.parametrize(
    "cells",
    [
        {},  # the blank template
        {"C6": Decimal(130)},  # 2020末 blank
        {"B6": Decimal(0), "C6": Decimal(130)},  # 2020末 zero
        {"B6": Decimal(100)},  # 2021末 blank: no growth to show either
    ],
)
def test_growth_y1_with_a_blank_or_zero_base_shows_a_dash_not_div0(cells):
    assert evaluate(sheet(template())["D6"].value, cells) == "—"


@pytest.mark.parametrize(
    "cells",
    [
        {"E6": Decimal(5)},  # 2021末 blank
        {"C6": Decimal(0), "E6": Decimal(5)},  # 2021末 zero
        {"C6": Decimal(130)},  # 预计新增额 blank
    ],
)
def test_planned_growth_with_a_blank_or_zero_denominator_shows_a_dash_not_div0(cells):
    assert evaluate(sheet(template())["F6"].value, cells) == "—"


def test_the_evaluator_itself_reports_div0():
    with pytest.raises(ZeroDivisionError):
        evaluate("=E6/C6", {"E6": Decimal(5)})


def test_total_row_growth_of_an_empty_plan_shows_a_dash():
    ws = sheet(template())
    totals = {f"{col}5": evaluate(ws[f"{col}5"].value, {}) for col in "BCE"}
    assert totals == {"B5": 0, "C5": 0, "E5": 0}
    assert evaluate(ws["D5"].value, totals) == "—" and evaluate(ws["F5"].value, totals) == "—"


def test_prefilled_values_are_written_and_derived_codes_are_left_to_the_formulas():
    values = {
        "420100.balance_y2": Decimal("100.5"),
        "429021.q4_plan": Decimal("0.25"),
        "420100.growth_y1": Decimal("0.3"),  # computed: the formula stays
        "420000.balance_y2": Decimal("999"),  # the total row: the formula stays
    }
    ws = sheet(template(values=values))

    assert ws["B6"].value == 100.5 and ws["J22"].value == 0.25
    assert ws["D6"].value.startswith("=IF(") and ws["B5"].value == "=SUM(B6:B22)"


def test_unknown_codes_are_a_programming_error():
    with pytest.raises(ValueError, match="unknown field codes"):
        template(values={"420100.nonsense": Decimal(1)})


def test_template_is_a_safe_workbook():
    assert inspect_workbook(template(), "计划表.xlsx", MAX) is None


# --- reading it back ---------------------------------------------------------------------------------


def test_filled_template_reads_back_every_input_with_its_cell():
    values = sample_values()
    data = fill(template(filer="张三", phone="027-87654321"), {D.field(c).cell: v for c, v in values.items()})
    inspect_workbook(data, "计划表.xlsx", MAX)

    upload = excel.read_plan_workbook(data, D)

    assert (upload.institution_name, upload.year, upload.month) == (INSTITUTION, 2022, None)
    assert (upload.filer, upload.phone) == ("张三", "027-87654321")
    assert upload.template_id == "xwqy-plan-2022" and upload.sheet == "计划表"
    assert {code: Decimal(str(v)) for code, v in upload.raw.items()} == values
    assert upload.cells["420100.balance_y2"] == "B6" and upload.cells["429021.q4_plan"] == "J22"
    assert upload.cells["420200.planned_increase"] == "E7"
    assert upload.formula_cells == ()


def test_only_input_cells_are_read_and_our_uncalculated_formulas_are_ignored():
    upload = excel.read_plan_workbook(template(values={"420100.balance_y1": Decimal("12.5")}), D)

    assert len(upload.raw) == 17 * 7 == len(D.fields)
    assert not any(code.startswith("420000.") for code in upload.raw)
    assert not any(code.endswith((".growth_y1", ".planned_growth")) for code in upload.raw)
    assert upload.raw["420100.balance_y1"] == 12.5 and upload.raw["420100.balance_y2"] is None


def test_text_typed_into_an_input_is_passed_on_for_the_rules():
    upload = excel.read_plan_workbook(fill(template(), {"C6": "12.5亿"}), D)
    assert upload.raw["420100.balance_y1"] == "12.5亿"


def test_an_inserted_column_is_ignored_and_named_in_a_note():
    def change(wb):
        ws = wb[excel.PLAN_SHEET]
        ws.insert_cols(3)
        ws["C3"] = "备注"
        ws["D6"] = 12.5

    upload = excel.read_plan_workbook(edit(template(), change), D)
    assert upload.raw["420100.balance_y1"] == 12.5 and upload.cells["420100.balance_y1"] == "D6"
    assert upload.notes == ("C3 的“备注”列不是投放计划表的项目，未读取。",)


def test_columns_are_read_by_their_headings_in_any_order():
    def swap(wb):
        ws = wb[excel.PLAN_SHEET]
        ws["H3"], ws["I3"] = ws["I3"].value, ws["H3"].value
        ws["H6"], ws["I6"] = 3, 2

    upload = excel.read_plan_workbook(edit(template(), swap), D)
    assert upload.raw["420100.q3_plan"] == 3 and upload.cells["420100.q3_plan"] == "H6"
    assert upload.raw["420100.q2_plan"] == 2 and upload.cells["420100.q2_plan"] == "I6"


def test_an_inserted_blank_row_is_skipped_and_regions_are_found_by_label():
    def change(wb):
        ws = wb[excel.PLAN_SHEET]
        ws.insert_rows(7)
        ws["B8"] = 4

    upload = excel.read_plan_workbook(edit(template(), change), D)
    assert upload.raw["420200.balance_y2"] == 4 and upload.cells["420200.balance_y2"] == "B8"


def test_regions_in_another_order_keep_their_own_values():
    def swap(wb):
        ws = wb[excel.PLAN_SHEET]
        ws["A6"], ws["A7"] = "黄石分行", "武汉分行"
        ws["B6"], ws["B7"] = 7, 70

    upload = excel.read_plan_workbook(edit(template(), swap), D)
    assert upload.raw["420200.balance_y2"] == 7 and upload.cells["420200.balance_y2"] == "B6"
    assert upload.raw["420100.balance_y2"] == 70 and upload.cells["420100.balance_y2"] == "B7"


def test_a_missing_region_row_is_refused_naming_it():
    code, message = refused(edit(template(), lambda wb: wb[excel.PLAN_SHEET].delete_rows(8)))
    assert code == "U204" and "缺少 1 个地区的行：“十堰分行”" in message


def test_a_region_twice_is_refused_naming_both_rows():
    code, message = refused(fill(template(), {"A7": "武汉分行"}))
    assert code == "U204" and "计划表!A7 的“武汉分行”与第 6 行重复" in message


def test_region_labels_without_the_fenhang_suffix_are_accepted():
    upload = excel.read_plan_workbook(fill(template(), {"A6": "武汉", "B6": 3}), D)
    assert upload.raw["420100.balance_y2"] == 3


def test_hidden_sheet_is_refused():
    def hide(wb):
        wb.create_sheet("底稿").sheet_state = "hidden"

    code, message = refused(edit(template(), hide))
    assert code == "U203" and "“底稿”" in message


def test_formula_without_a_calculated_value_in_an_input_cell_is_refused_naming_it():
    code, message = refused(fill(template(), {"B6": 100, "C8": "=B6*1.3"}))
    assert code == "U206"
    assert message == "计划表!C8 是公式且没有计算结果：请在 Excel 中重新计算并保存，或直接填写数值。"


def test_formula_with_a_calculated_value_in_an_input_cell_is_read_as_its_value():
    xml = sheet_xml(template())
    xml, count = re.subn(r'<c r="C6"([^>]*)(?:/>|></c>)', r'<c r="C6"\1><f>B6*1.3</f><v>130</v></c>', xml)
    assert count == 1

    upload = excel.read_plan_workbook(with_sheet_xml(template(), xml), D)

    assert upload.raw["420100.balance_y1"] == 130
    assert upload.formula_cells == ("C6",)


def test_hyperlink_anywhere_is_refused():
    code, message = refused(fill(template(), {"L30": '=HYPERLINK("http://example.com","点击")'}))
    assert code == "U207" and message.startswith("计划表!L30 含有不允许的公式（HYPERLINK 函数）")


def test_dde_in_an_input_cell_is_refused():
    code, message = refused(fill(template(), {"B6": "=cmd|' /C calc'!A0"}))
    assert code == "U207" and "DDE" in message and "计划表!B6" in message


def test_a_renamed_sheet_is_found_by_its_headings():
    data = edit(fill(template(), {"C6": 9}), lambda wb: setattr(wb[excel.PLAN_SHEET], "title", "Sheet1"))
    upload = excel.read_plan_workbook(data, D)
    assert upload.sheet == "Sheet1" and upload.raw["420100.balance_y1"] == 9


def test_a_workbook_without_plan_headings_is_refused_naming_its_sheets():
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active["A1"] = "普惠小微"
    out = BytesIO()
    wb.save(out)
    code, message = refused(out.getvalue())
    assert code == "U202" and message.startswith("这不是投放计划表（附件3）") and "“Sheet1”" in message


def test_last_years_template_is_refused_as_another_edition():
    old = excel.plan_template(plan_definition(2021), institution_name=INSTITUTION)
    code, message = refused(old)
    assert code == "U208" and "xwqy-plan-2021" in message


def test_title_year_is_used_when_the_properties_were_lost():
    def lose(wb):
        wb.properties.keywords = None

    upload = excel.read_plan_workbook(edit(template(), lose), D)
    assert (upload.year, upload.template_id, upload.institution_name) == (2022, "", INSTITUTION)

    def other_year(wb):
        wb.properties.keywords = None
        wb[excel.PLAN_SHEET]["A1"] = f"{INSTITUTION}2023年普惠小微贷款投放计划表"

    code, message = refused(edit(template(), other_year))
    assert code == "U208" and "2023 年" in message


def test_title_year_disagreeing_with_the_properties_is_refused():
    data = fill(template(), {"A1": f"{INSTITUTION}2021年普惠小微贷款投放计划表"})
    code, message = refused(data)
    assert code == "U205" and "2021年" in message and "2022年" in message


def test_a_title_without_a_year_leaves_the_year_to_the_headings():
    def scrub(wb):
        wb.properties.keywords = None
        wb[excel.PLAN_SHEET]["A1"] = "投放计划"

    upload = excel.read_plan_workbook(edit(template(), scrub), D)
    assert upload.year == 2022


def test_last_years_headings_without_properties_are_refused_as_another_year():
    def scrub(wb):
        wb.properties.keywords = None

    old = edit(excel.plan_template(plan_definition(2021), institution_name=INSTITUTION), scrub)
    code, message = refused(old)
    assert code == "U208" and message.startswith("这是 2021 年的计划表") and "2022 年的模板" in message


def test_institution_name_comes_from_the_title():
    upload = excel.read_plan_workbook(excel.plan_template(D, institution_name="湖北银行"), D)
    assert upload.institution_name == "湖北银行"


def test_derived_codes_are_the_total_row_and_the_ratio_columns():
    codes = excel.derived_codes(D)
    assert "420000.balance_y1" in codes and "420100.growth_y1" in codes and "420000.planned_growth" in codes
    assert not codes & set(D.codes)
    assert len(codes) == 7 + 18 * 2


# --- the contacts export ----------------------------------------------------------------------------


def test_contacts_workbook_has_one_row_per_institution_and_role_and_neutralises_formulas():
    rows = [
        (
            "工商银行",
            {
                "leader.name": "=cmd|' /C calc'!A0",
                "leader.department": "普惠金融事业部",
                "head.office_phone": "027-87654321",
                "liaison.mobile": "013800000000",
                "liaison.email": "@SUM(1+1)",
            },
        ),
        ("湖北银行", {"head.name": "李四"}),
    ]
    data = excel.contacts_workbook(rows)
    wb = openpyxl.load_workbook(BytesIO(data))
    ws = wb[excel.CONTACTS_SHEET]

    assert wb.sheetnames == ["联系人"]
    assert [c.value for c in ws[1]] == [
        "银行名称",
        "角色",
        "部门",
        "姓名",
        "职务",
        "办公电话",
        "手机",
        "金融服务平台邮箱",
    ]
    assert ws.max_row == 1 + 2 * 3
    assert [(ws[f"A{r}"].value, ws[f"B{r}"].value) for r in range(2, 8)] == [
        ("工商银行", "分管行领导"),
        ("工商银行", "牵头部门负责人"),
        ("工商银行", "牵头部门联系人"),
        ("湖北银行", "分管行领导"),
        ("湖北银行", "牵头部门负责人"),
        ("湖北银行", "牵头部门联系人"),
    ]
    assert ws["D2"].value == "'=cmd|' /C calc'!A0" and ws["D2"].data_type == "s"
    assert ws["H4"].value == "'@SUM(1+1)"
    assert ws["C2"].value == "普惠金融事业部" and ws["F3"].value == "027-87654321"
    assert ws["G4"].value == "013800000000" and ws["G4"].number_format == "@"
    assert ws["D6"].value == "李四" and ws["D5"].value is None
    assert ws.freeze_panes == "C2"
    assert "<f>" not in sheet_xml(data)


def test_contacts_workbook_of_no_institution_is_just_the_header():
    ws = openpyxl.load_workbook(BytesIO(excel.contacts_workbook([])))[excel.CONTACTS_SHEET]
    assert ws.max_row == 1 and ws["A1"].value == "银行名称"
    assert len(CONTACTS_2022.rows) == 3
