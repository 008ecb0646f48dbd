"""The 附件4 workbooks: the official template and its reader, the bulk layout, the findings report, and
the file-level checks an upload passes before any parser sees it. Pure: no database."""

import datetime
import re
import zipfile
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest

from portal import exports
from reporting import excel
from reporting.definitions import MONITORING_2022 as D
from reporting.uploads import CFB_MAGIC, UploadRejected, inspect_workbook, sha256

INSTITUTION = "工商银行湖北省分行"
MAX = 10 * 1024 * 1024
VALUES = {
    "loan_balance": Decimal("1234.5678"),
    "credit_loan_balance": Decimal("321.0001"),
    "new_loans": Decimal("456.7"),
    "new_credit_loans": Decimal("98.76"),
    "borrowers": Decimal("45678"),
    "new_borrowers": Decimal("12345"),
    "first_loan_borrowers": Decimal("2345"),
    "first_loan_amount": Decimal("12.3456"),
    "ftp_discount_bp": Decimal("55.5"),
    "fee_relief": Decimal("1.2345"),
    "weighted_rate": Decimal("4.8321"),
}


# --- helpers ---------------------------------------------------------------------------------------------


def template(**kwargs) -> bytes:
    params = {"institution_name": INSTITUTION, "year": 2022, "month": 3}
    params.update(kwargs)
    return excel.monitoring_template(D, **params)


def edit(data: bytes, change) -> bytes:
    """Load with openpyxl, let `change(wb)` edit it, save to bytes — what a bank's Excel session does."""
    wb = openpyxl.load_workbook(BytesIO(data))
    change(wb)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def fill(data: bytes, cells: dict) -> bytes:
    def change(wb):
        ws = wb[excel.SHEET]
        for ref, value in cells.items():
            ws[ref] = value

    return edit(data, change)


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """Rewrite the zip with some parts replaced or added (for tampering no spreadsheet program does)."""
    replace, add = replace or {}, add or {}
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, content in add.items():
            dst.writestr(name, content)
    return out.getvalue()


def sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(BytesIO(data)) as zf:
        return zf.read("xl/worksheets/sheet1.xml").decode("utf-8")


def rejected(exc_info) -> tuple[str, str]:
    return exc_info.value.code, exc_info.value.message


def read(data: bytes):
    return excel.read_monitoring_workbook(data, D)


def as_decimal(value) -> Decimal:
    return Decimal(str(value))


# --- the official template: round trip --------------------------------------------------------------------


def test_filled_template_reads_back_the_same_values_institution_and_period():
    data = template(filer="张三", phone="027-87654321")
    filled = fill(data, {f"{D.field(code).column}5": value for code, value in VALUES.items()})
    inspect_workbook(filled, "监测表.xlsx", MAX)

    upload = read(filled)

    assert (upload.institution_name, upload.year, upload.month) == (INSTITUTION, 2022, 3)
    assert (upload.filer, upload.phone) == ("张三", "027-87654321")
    assert {code: as_decimal(v) for code, v in upload.raw.items()} == VALUES
    assert upload.cells["loan_balance"] == "B5" and upload.cells["weighted_rate"] == "L5"
    assert upload.sheet == "监测表"
    assert upload.template_id == "xwqy-monitoring-2022"
    assert upload.formula_cells == ()


def test_prefilled_values_and_blank_cells_are_read_as_written():
    values = {"loan_balance": Decimal("100.5"), "borrowers": Decimal("7"), "fee_relief": None}
    upload = read(template(values=values, month=11, year=2023))

    assert as_decimal(upload.raw["loan_balance"]) == Decimal("100.5")
    assert as_decimal(upload.raw["borrowers"]) == 7
    assert upload.raw["fee_relief"] is None and upload.raw["new_loans"] is None
    assert (upload.year, upload.month) == (2023, 11)


def test_template_refuses_unknown_field_codes():
    with pytest.raises(ValueError, match="no_such_field"):
        template(values={"no_such_field": Decimal("1")})


def test_text_typed_into_a_number_cell_is_kept_as_read_for_the_rules():
    upload = read(fill(template(), {"B5": "1,234.5亿元", "C5": " 12.5 ", "D5": "#DIV/0!"}))
    assert upload.raw["loan_balance"] == "1,234.5亿元"
    assert upload.raw["credit_loan_balance"] == " 12.5 "
    assert upload.raw["new_loans"] == "#DIV/0!"


def test_contact_details_that_look_like_formulas_are_stored_as_text_and_read_back_unchanged():
    data = template(filer="=cmd|' /C calc'!A0", phone="+86 27 8765 4321")
    xml = sheet_xml(data)
    assert "<f>" not in xml
    upload = read(data)
    assert upload.filer == "=cmd|' /C calc'!A0"
    assert upload.phone == "+86 27 8765 4321"


# --- the official template: layout ------------------------------------------------------------------------


def test_template_title_info_row_and_notes_follow_the_printed_form():
    ws = openpyxl.load_workbook(BytesIO(template(filer="李四", phone="13800000000")))["监测表"]

    assert ws["A1"].value == f"{INSTITUTION}2022年3月小微企业“敢贷愿贷能贷会贷”专项行动进展情况监测表"
    assert ws["A1"].font.b and ws["A1"].alignment.horizontal == "center"
    assert ws["A2"].value == "填报人：" and ws["B2"].value == "李四"
    assert ws["D2"].value == "联系方式：" and ws["E2"].value == "13800000000"
    assert ws["J2"].value == "单位：亿元、户、BP、%"
    assert ws["A3"].value == "机构名称" and ws["A5"].value == INSTITUTION
    assert ws["A6"].value == D.notes[0] and ws["A6"].alignment.wrap_text


def test_template_merges_title_notes_name_header_and_each_group_over_its_fields():
    ws = openpyxl.load_workbook(BytesIO(template()))["监测表"]
    merged = {str(r) for r in ws.merged_cells.ranges}

    assert {"A1:L1", "A3:A4", "A6:L6", "B3:E3", "F3:I3", "J3:L3"} <= merged
    assert (ws["B3"].value, ws["F3"].value, ws["J3"].value) == ("增量", "扩面", "降价")


def test_template_labels_carry_the_month_at_each_fields_column():
    ws = openpyxl.load_workbook(BytesIO(template(month=7)))["监测表"]
    for fd in D.fields:
        assert ws[f"{fd.column}4"].value == fd.label_for(7)
        assert ws[f"{fd.column}4"].alignment.wrap_text
    assert ws["B4"].value == "7月末普惠小微贷款余额"


def test_template_is_protected_with_only_the_input_cells_unlocked():
    ws = openpyxl.load_workbook(BytesIO(template()))["监测表"]

    assert ws.protection.sheet
    for fd in D.fields:
        assert ws[f"{fd.column}5"].protection.locked is False
    assert ws["B2"].protection.locked is False and ws["E2"].protection.locked is False
    for locked in ("A1", "A3", "B4", "L4", "A5", "A6", "J2"):
        assert ws[locked].protection.locked is True, locked


def test_template_validates_every_input_cell_with_a_chinese_message():
    ws = openpyxl.load_workbook(BytesIO(template()))["监测表"]
    by_cell = {}
    for dv in ws.data_validations.dataValidation:
        for ref in str(dv.sqref).split():
            by_cell[ref] = dv

    for fd in D.fields:
        dv = by_cell[f"{fd.column}5"]
        assert dv.type == ("whole" if fd.integer else "decimal")
        assert dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
        assert dv.showErrorMessage and "不小于 0" in dv.error and fd.unit in dv.error
    assert by_cell["B2"].type == "textLength"


def test_template_number_formats_follow_the_fields_decimals():
    ws = openpyxl.load_workbook(BytesIO(template()))["监测表"]
    assert ws["B5"].number_format == "0.0000"
    assert ws["F5"].number_format == "0"
    assert ws["J5"].number_format == "0.00"


def test_template_prints_landscape_on_one_page_wide_and_has_no_hidden_sheets():
    wb = openpyxl.load_workbook(BytesIO(template()))
    ws = wb["监测表"]

    assert wb.sheetnames == ["监测表"]
    assert all(s.sheet_state == "visible" for s in wb.worksheets)
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.column_dimensions["A"].width > ws.column_dimensions["B"].width >= 12


def test_template_properties_identify_template_period_and_institution():
    props = openpyxl.load_workbook(BytesIO(template(year=2022, month=3))).properties
    assert props.keywords == "xwqy-monitoring-2022;2022-03"
    assert props.subject == INSTITUTION


def test_inspect_accepts_the_template():
    data = template()
    assert inspect_workbook(data, "模板.xlsx", MAX) is None
    assert sha256(data) == sha256(bytes(data)) and len(sha256(data)) == 64


# --- file-level rejections (reporting.uploads) -----------------------------------------------------------


def cfb(*streams: str) -> bytes:
    """A minimal OLE2/CFB file: the header magic and directory entries naming the streams (UTF-16LE)."""
    header = CFB_MAGIC + bytes(512 - len(CFB_MAGIC))
    directory = b"".join(name.encode("utf-16-le").ljust(64, b"\x00") + bytes(64) for name in streams)
    return header + directory


def test_empty_file_is_refused():
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(b"", "a.xlsx", MAX)
    assert exc.value.code == "U101" and "空文件" in exc.value.message


def test_too_big_file_is_refused_with_its_size_and_the_limit():
    data = template() + bytes(2 * 1024 * 1024)
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(data, "a.xlsx", 1024 * 1024)
    code, message = rejected(exc)
    assert code == "U102"
    assert f"{len(data) / 1048576:.1f} MB" in message and "超过上限 1 MB" in message


def test_legacy_xls_is_refused_with_save_as_advice():
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(cfb("Root Entry", "Workbook", "SummaryInformation"), "报表.xls", MAX)
    code, message = rejected(exc)
    assert code == "U103" and "另存为" in message and ".xlsx" in message and "报表.xls" in message


def test_password_protected_xlsx_is_refused_as_encrypted():
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(cfb("Root Entry", "EncryptionInfo", "EncryptedPackage"), "监测表.xlsx", MAX)
    code, message = rejected(exc)
    assert code == "U104" and "工作簿设置了打开密码" in message and "请取消密码后上传" in message


def test_encrypted_package_alone_is_enough_to_recognise_encryption():
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(cfb("EncryptedPackage"), "a.xlsx", MAX)
    assert exc.value.code == "U104"


@pytest.mark.parametrize(
    "data, what",
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "图片"),
        ("机构名称,贷款余额\n工商银行,1234.5\n".encode(), "CSV"),
        ("机构名称,贷款余额\n工商银行,1234.5\n".encode("gb18030"), "CSV"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
        (b"hello", "文本"),
    ],
)
def test_non_excel_content_renamed_xlsx_is_refused_by_content(data, what):
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(data, "监测表.xlsx", MAX)
    code, message = rejected(exc)
    assert code == "U105" and "不是 Excel 工作簿" in message and what in message


def test_zip_that_is_not_a_workbook_is_refused():
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(out.getvalue(), "a.xlsx", MAX)
    assert exc.value.code == "U106" and "不是 .xlsx 工作簿" in exc.value.message


def test_xlsb_is_refused_with_a_hint():
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(out.getvalue(), "a.xlsb", MAX)
    assert exc.value.code == "U106" and ".xlsb" in exc.value.message


def test_truncated_zip_is_refused_as_damaged():
    data = template()
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(data[: len(data) // 2], "a.xlsx", MAX)
    assert exc.value.code == "U106" and "损坏" in exc.value.message


def test_macro_enabled_workbook_is_refused():
    data = rezip(template(), add={"xl/vbaProject.bin": b"\xcc\x61" * 100})
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(data, "监测表.xlsm", MAX)
    assert exc.value.code == "U107" and ".xlsm" in exc.value.message


def test_macro_enabled_content_type_is_refused_without_vba_part():
    with zipfile.ZipFile(BytesIO(template())) as zf:
        types = zf.read("[Content_Types].xml")
    macro_type = (
        b'<Override PartName="/x" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
    )
    types = types.replace(b"</Types>", macro_type + b"</Types>")
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(rezip(template(), replace={"[Content_Types].xml": types}), "a.xlsx", MAX)
    assert exc.value.code == "U107"


def _bomb(member_mb: int, with_workbook_parts: bool = True) -> bytes:
    """A zip with one member of `member_mb` MB of zeros, compressed while streaming (small in memory)."""
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        if with_workbook_parts:
            zf.writestr("[Content_Types].xml", "<Types/>")
            zf.writestr("xl/workbook.xml", "<workbook/>")
        chunk = bytes(1024 * 1024)
        with zf.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(member_mb):
                member.write(chunk)
    return out.getvalue()


def test_zip_bomb_over_the_uncompressed_limit_is_refused():
    data = _bomb(200)
    assert len(data) < 2 * 1024 * 1024  # the test itself stays small
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(data, "a.xlsx", MAX)
    code, message = rejected(exc)
    assert code == "U108" and "压缩炸弹" in message and "100 MB" in message


def test_member_with_an_extreme_compression_ratio_is_refused():
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(_bomb(20), "a.xlsx", MAX)
    code, message = rejected(exc)
    assert code == "U108" and "压缩比" in message


def test_too_many_zip_members_are_refused():
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(1000):
            zf.writestr(f"xl/media/p{i}.txt", "x")
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(out.getvalue(), "a.xlsx", MAX)
    assert exc.value.code == "U108" and "1002" in exc.value.message


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n]>\n'
)


def test_sheet_xml_with_entity_declarations_is_refused_by_inspect_and_by_the_reader():
    data = template()
    xml = sheet_xml(data).encode("utf-8")
    bad = rezip(data, replace={"xl/worksheets/sheet1.xml": BILLION_LAUGHS + xml})
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(bad, "a.xlsx", MAX)
    code, message = rejected(exc)
    assert code == "U109" and "xl/worksheets/sheet1.xml" in message
    with pytest.raises(UploadRejected) as exc:
        read(bad)
    assert exc.value.code == "U109"


def test_doctype_split_across_read_chunks_is_still_found():
    data = template()
    padding = b" " * (256 * 1024 - 4)  # "<!DOCTYPE" straddles the first 256 KB chunk boundary
    bad = rezip(
        data,
        add={"customXml/item1.xml": padding + b"<!DOCTYPE x SYSTEM 'http://example.invalid/x.dtd'><x/>"},
    )
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(bad, "a.xlsx", MAX)
    assert exc.value.code == "U109"


def test_utf16_doctype_is_found():
    bad = rezip(
        template(),
        add={
            "customXml/item1.xml": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><x/>'.encode("utf-16")
        },
    )
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(bad, "a.xlsx", MAX)
    assert exc.value.code == "U109"


def test_external_links_are_refused():
    bad = rezip(template(), add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"})
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(bad, "a.xlsx", MAX)
    assert exc.value.code == "U110" and "外部链接" in exc.value.message


def test_embedded_objects_are_refused():
    bad = rezip(template(), add={"xl/embeddings/oleObject1.bin": b"\x00" * 10})
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(bad, "a.xlsx", MAX)
    assert exc.value.code == "U111"


def test_file_name_in_messages_is_reduced_to_a_base_name():
    with pytest.raises(UploadRejected) as exc:
        inspect_workbook(b"%PDF-1.4", "C:\\Users\\x\\报表\x07.pdf", MAX)
    assert "“报表.pdf”" in exc.value.message and "Users" not in exc.value.message


# --- reader rejections ------------------------------------------------------------------------------------


def test_plain_workbook_without_the_monitoring_sheet_is_not_our_template():
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    out = BytesIO()
    wb.save(out)
    with pytest.raises(UploadRejected) as exc:
        read(out.getvalue())
    code, message = rejected(exc)
    assert code == "U202" and message.startswith("这不是监测表（附件4）") and "门户下载模板" in message
    assert "“Sheet”" in message and "前 30 行" in message and "“X月末普惠小微贷款余额”" in message


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_hidden_sheets_are_refused(state):
    def change(wb):
        wb.create_sheet("备用").sheet_state = state

    with pytest.raises(UploadRejected) as exc:
        read(edit(template(), change))
    code, message = rejected(exc)
    assert code == "U203" and "“备用”" in message and "隐藏" in message


def test_columns_are_read_by_their_headings_in_any_order():
    def change(wb):
        ws = wb["监测表"]
        ws["D4"], ws["E4"] = ws["E4"].value, ws["D4"].value
        ws["D5"], ws["E5"] = 25, 80

    upload = read(edit(template(), change))
    assert as_decimal(upload.raw["new_credit_loans"]) == 25 and upload.cells["new_credit_loans"] == "D5"
    assert as_decimal(upload.raw["new_loans"]) == 80 and upload.cells["new_loans"] == "E5"


def test_an_inserted_column_is_ignored_and_named_in_a_note():
    def change(wb):
        ws = wb["监测表"]
        ws.insert_cols(3)
        ws["C4"] = "备注"
        ws["C5"] = "本月含一笔大额"
        ws["D5"] = 30

    upload = read(edit(template(), change))
    assert as_decimal(upload.raw["credit_loan_balance"]) == 30 and upload.cells["credit_loan_balance"] == "D5"
    assert upload.notes == ("C4 的“备注”列不是监测表的项目，未读取。",)


def test_a_misspelt_heading_is_named_with_where_the_reader_looked():
    def change(wb):
        wb["监测表"]["C4"] = "3月末普惠小微信用货款余额"

    with pytest.raises(UploadRejected) as exc:
        read(edit(template(), change))
    code, message = rejected(exc)
    assert code == "U204" and message.startswith("工作表“监测表”第 4 行找到了监测表（附件4）的 10 个表头")
    assert "缺少 1 个：“X月末普惠小微信用贷款余额”" in message
    assert "C4“3月末普惠小微信用货款余额”" in message and "前 30 行" in message


def test_labels_rewrapped_or_generic_still_match():
    def change(wb):
        ws = wb["监测表"]
        ws["B4"] = "3月末普惠小微\n贷款余额"
        ws["C4"] = "X月末普惠小微信用贷款余额"

    upload = read(edit(fill(template(), {"B5": 5}), change))
    assert as_decimal(upload.raw["loan_balance"]) == 5


def test_formula_without_a_calculated_value_is_refused_naming_the_cell():
    with pytest.raises(UploadRejected) as exc:
        read(fill(template(), {"D5": "=B5+C5"}))
    code, message = rejected(exc)
    assert code == "U206"
    assert message == "监测表!D5 是公式且没有计算结果：请在 Excel 中重新计算并保存，或直接填写数值。"


def test_formula_with_a_calculated_value_is_read_as_that_value():
    data = fill(template(), {"B5": Decimal("100"), "C5": Decimal("20"), "D5": "=B5+C5"})
    xml = sheet_xml(data)
    calculated, count = re.subn(r'(<c r="D5"[^>]*><f>B5\+C5</f>)(?:<v\s*/>|<v></v>)', r"\1<v>120</v>", xml)
    assert count == 1
    upload = read(rezip(data, replace={"xl/worksheets/sheet1.xml": calculated.encode("utf-8")}))
    assert as_decimal(upload.raw["new_loans"]) == 120
    assert upload.formula_cells == ("D5",)


@pytest.mark.parametrize(
    "formula, what",
    [
        ('=HYPERLINK("http://example.invalid/x","点击")', "HYPERLINK"),
        ("=cmd|' /C calc'!A0", "DDE"),
        ('=WEBSERVICE("http://example.invalid")', "WEBSERVICE"),
    ],
)
def test_dangerous_formulas_are_refused(formula, what):
    with pytest.raises(UploadRejected) as exc:
        read(fill(template(), {"E5": formula}))
    code, message = rejected(exc)
    assert code == "U207" and message.startswith("监测表!E5 含有不允许的公式") and what in message


def test_dangerous_formula_outside_the_input_cells_is_refused_too():
    with pytest.raises(UploadRejected) as exc:
        read(fill(template(), {"N20": '=HYPERLINK("http://example.invalid")'}))
    assert exc.value.code == "U207" and "监测表!N20" in exc.value.message


def test_ordinary_text_mentioning_a_pipe_inside_a_string_is_not_dde():
    assert excel._forbidden_formula('IF(B5>0,"a|b","")') is None
    assert excel._forbidden_formula("SUM(B5:C5)") is None


def test_template_of_another_edition_is_refused():
    def change(wb):
        wb.properties.keywords = "xwqy-monitoring-2099;2022-03"

    with pytest.raises(UploadRejected) as exc:
        read(edit(template(), change))
    assert exc.value.code == "U208" and "xwqy-monitoring-2099" in exc.value.message


def test_title_and_properties_disagreeing_on_the_month_is_refused():
    def change(wb):
        wb.properties.keywords = "xwqy-monitoring-2022;2022-04"

    with pytest.raises(UploadRejected) as exc:
        read(edit(template(), change))
    code, message = rejected(exc)
    assert code == "U205" and "2022年3月" in message and "2022年4月" in message


def test_period_falls_back_to_the_title_when_properties_were_lost():
    def change(wb):
        wb.properties.keywords = None

    upload = read(edit(template(month=9), change))
    assert (upload.year, upload.month, upload.template_id) == (2022, 9, "")


def test_a_title_without_a_period_leaves_the_period_to_the_headings_or_the_upload():
    def change(wb):
        wb.properties.keywords = None
        wb["监测表"]["A1"] = "监测表"

    upload = read(edit(template(), change))
    assert (upload.year, upload.month) == (None, 3)  # "3月末…" in the headings

    def generic(wb):
        change(wb)
        for fd in D.fields:
            wb["监测表"][f"{fd.column}4"] = fd.label_for(None)

    upload = read(edit(template(), generic))
    assert (upload.year, upload.month) == (None, None)


def test_month_13_in_the_title_is_refused_naming_the_cell():
    def change(wb):
        wb.properties.keywords = None
        wb["监测表"]["A1"] = f"{INSTITUTION}2022年13月小微企业“敢贷愿贷能贷会贷”专项行动进展情况监测表"

    with pytest.raises(UploadRejected) as exc:
        read(edit(template(), change))
    assert exc.value.code == "U205" and exc.value.message.startswith(
        "监测表!A1 标题中的“2022年13月”不是有效的年月"
    )


def test_damaged_sheet_xml_is_refused_not_raised():
    bad = rezip(
        template(),
        replace={"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row r='1'><c r='A1' t='s'><v>99"},
    )
    with pytest.raises(UploadRejected) as exc:
        read(bad)
    assert exc.value.code == "U201" and "无法读取" in exc.value.message


def test_reader_checks_the_file_itself_when_the_caller_did_not():
    with pytest.raises(UploadRejected) as exc:
        read(b"%PDF-1.4 not a workbook")
    assert exc.value.code == "U105"


# --- bulk layout ------------------------------------------------------------------------------------------


def bulk_rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        rows.append(
            {
                "institution_code": f"C{i % 24:03d}",
                "institution_name": f"测试银行{i % 24}",
                "year": 2022,
                "month": 1 + i % 12,
                "values": {
                    fd.code: (Decimal(i * 10 + j) if fd.integer else Decimal(i) + Decimal(j) / 10000)
                    for j, fd in enumerate(D.fields)
                },
            }
        )
    return rows


def test_bulk_round_trip_returns_every_row_with_its_values_and_cells():
    rows = bulk_rows(50)
    total, iterator = excel.iter_bulk_rows(excel.bulk_template(D, rows), D)
    read_rows = list(iterator)

    assert total == 50 and len(read_rows) == 50
    for expected, got in zip(rows, read_rows, strict=True):
        assert got.error == ""
        assert (got.institution_code, got.institution_name) == (
            expected["institution_code"],
            expected["institution_name"],
        )
        assert (got.year, got.month) == (expected["year"], expected["month"])
        assert {code: as_decimal(v) for code, v in got.raw.items()} == expected["values"]
    first = read_rows[0]
    assert first.row == excel.BULK_FIRST_DATA_ROW
    assert first.cells["loan_balance"] == f"批量导入!D{excel.BULK_FIRST_DATA_ROW}"
    assert read_rows[-1].cells["weighted_rate"] == f"批量导入!N{excel.BULK_FIRST_DATA_ROW + 49}"


def test_bulk_template_header_keeps_generic_labels_and_units_in_a_second_row():
    ws = openpyxl.load_workbook(BytesIO(excel.bulk_template(D, bulk_rows(1))))["批量导入"]
    header = [c.value for c in ws[excel.BULK_HEADER_ROW]]
    units = [c.value for c in ws[excel.BULK_UNIT_ROW]]
    assert header[:4] == ["机构代码", "机构名称", "月份", "X月末普惠小微贷款余额"]
    assert units[3:] == [fd.unit for fd in D.fields]
    assert ws[f"C{excel.BULK_FIRST_DATA_ROW}"].value == "2022-01"
    assert ws[f"C{excel.BULK_FIRST_DATA_ROW}"].data_type == "s"


def test_bulk_rows_with_a_bad_month_or_no_code_carry_an_error_instead_of_raising():
    first = excel.BULK_FIRST_DATA_ROW

    def change(wb):
        ws = wb["批量导入"]
        ws[f"C{first + 1}"] = "2022-13"
        ws[f"C{first + 2}"] = "三月"
        ws[f"A{first + 3}"] = None
        ws[f"B{first + 3}"] = None
        ws[f"A{first + 4}"] = None  # a row named only by its institution's name is kept for the import
        ws[f"C{first + 4}"] = datetime.datetime(2022, 5, 1)  # Excel turned "2022-05" into a date
        ws[f"C{first + 5}"] = "2022年6月"

    total, iterator = excel.iter_bulk_rows(edit(excel.bulk_template(D, bulk_rows(6)), change), D)
    got = list(iterator)

    assert total == 6
    assert got[0].error == ""
    assert f"批量导入!C{first + 1} 月份“2022-13”无法识别" in got[1].error and got[1].month is None
    assert "月份“三月”无法识别" in got[2].error
    assert got[3].error == f"批量导入!A{first + 3} 机构代码和机构名称都为空"
    assert (got[4].year, got[4].month, got[4].error) == (2022, 5, "")
    assert (got[4].institution_code, got[4].institution_name) == ("", "测试银行4")
    assert (got[5].year, got[5].month, got[5].error) == (2022, 6, "")
    assert as_decimal(got[1].raw["loan_balance"]) == 1  # the row's values are still there for the report


def test_bulk_formula_without_value_is_a_row_error():
    first = excel.BULK_FIRST_DATA_ROW

    def change(wb):
        wb["批量导入"][f"E{first}"] = f"=D{first}*2"

    _total, iterator = excel.iter_bulk_rows(edit(excel.bulk_template(D, bulk_rows(2)), change), D)
    got = list(iterator)
    assert f"批量导入!E{first} 是公式且没有计算结果" in got[0].error and got[1].error == ""


def test_bulk_header_missing_a_field_column_is_refused():
    def change(wb):
        wb["批量导入"][f"F{excel.BULK_HEADER_ROW}"] = "别的东西"

    with pytest.raises(UploadRejected) as exc:
        excel.iter_bulk_rows(edit(excel.bulk_template(D, bulk_rows(2)), change), D)
    assert exc.value.code == "U211" and "新发放普惠小微贷款金额" in exc.value.message


def test_a_banks_monitoring_sheet_reads_as_a_one_row_bulk_import_by_name_and_title_month():
    total, iterator = excel.iter_bulk_rows(fill(template(month=6), {"B5": Decimal("12.5")}), D)
    (row,) = list(iterator)
    assert total == 1 and row.error == ""
    assert (row.institution_code, row.institution_name, row.year, row.month) == ("", INSTITUTION, 2022, 6)
    assert as_decimal(row.raw["loan_balance"]) == Decimal("12.5") and row.cells["loan_balance"] == "监测表!B5"


def test_a_workbook_without_bulk_headings_is_not_a_bulk_workbook():
    wb = openpyxl.Workbook()
    wb.active["A1"] = "机构代码"
    out = BytesIO()
    wb.save(out)
    with pytest.raises(UploadRejected) as exc:
        excel.iter_bulk_rows(out.getvalue(), D)
    assert exc.value.code == "U210" and "“Sheet”" in exc.value.message


def test_bulk_read_of_4500_rows_reads_every_row():
    # how fast is measured by `make bench` (ingest_ratio_vs_calamine), not asserted here
    data = excel.bulk_template(D, bulk_rows(4500))
    total, iterator = excel.iter_bulk_rows(data, D)
    count = sum(1 for row in iterator if not row.error)
    assert total == count == 4500


# --- findings report --------------------------------------------------------------------------------------


def test_safe_text_neutralises_formula_triggers_only():
    assert exports.safe_text("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    for text in ("+1", "-1", "@SUM(A1)", "\tx"):
        assert exports.safe_text(text) == "'" + text
    assert exports.safe_text("贷款余额为负") == "贷款余额为负"
    assert exports.safe_text(None) == ""
    assert exports.safe_text("a\x01b") == "ab"


def test_findings_report_groups_errors_first_counts_them_and_neutralises_user_text():
    rows = [
        {
            "severity": "warning",
            "rule": "W201",
            "location": "监测表!B5",
            "field": "loan_balance",
            "message": "环比变化过大",
        },
        {
            "severity": "error",
            "rule": "E102",
            "location": "监测表!C5",
            "field": "credit_loan_balance",
            "message": "=cmd|' /C calc'!A0",
            "institution": "@evil",
            "month": "2022-03",
        },
        {"severity": "error", "rule": "E101", "location": "+B5", "field": "new_loans", "message": "未填写"},
    ]
    data = excel.findings_report("工商银行 2022年3月 校验结果", rows, definition=D)
    ws = openpyxl.load_workbook(BytesIO(data)).active

    assert ws["A1"].value == "工商银行 2022年3月 校验结果"
    assert ws["A2"].value.startswith("错误 2 条，预警 1 条")
    header = [c.value for c in ws[excel.FINDINGS_HEADER_ROW]]
    assert header == ["严重程度", "规则", "位置", "字段", "说明", "机构", "月份"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=excel.FINDINGS_HEADER_ROW + 1)]
    assert [r[1] for r in body] == ["E102", "E101", "W201"]
    assert [r[0] for r in body] == ["错误", "错误", "预警"]
    assert body[0][4] == "'=cmd|' /C calc'!A0" and body[0][5] == "'@evil"
    assert body[1][2] == "'+B5"
    assert body[2][3] == "X月末普惠小微贷款余额"
    for row in ws.iter_rows(min_row=excel.FINDINGS_HEADER_ROW + 1):
        assert all(c.data_type == "s" for c in row if c.value is not None)
    with zipfile.ZipFile(BytesIO(data)) as zf:
        assert "<f>" not in zf.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_findings_report_without_findings_says_so():
    ws = openpyxl.load_workbook(BytesIO(excel.findings_report("结果", []))).active
    assert ws["A2"].value == "未发现问题。"
    assert [c.value for c in ws[excel.FINDINGS_HEADER_ROW]] == ["严重程度", "规则", "位置", "字段", "说明"]


def test_excel_error_values_are_read_as_their_text_not_as_blanks():
    data = fill(template(), {"B5": Decimal("0"), "D5": "=C5/B5", "E5": "#N/A"})
    xml, count = re.subn(
        r'<c r="D5"( s="\d+")?><f>C5/B5</f>(?:<v\s*/>|<v></v>)',
        r'<c r="D5"\1 t="e"><f>C5/B5</f><v>#DIV/0!</v>',
        sheet_xml(data),
    )
    assert count == 1
    upload = read(rezip(data, replace={"xl/worksheets/sheet1.xml": xml.encode("utf-8")}))
    assert upload.raw["new_loans"] == "#DIV/0!"
    assert upload.raw["new_credit_loans"] == "#N/A"
    assert upload.formula_cells == ("D5",)


def test_filer_typed_into_the_label_cell_is_still_found():
    def change(wb):
        wb["监测表"]["A2"] = "填报人：王五"

    assert read(edit(template(), change)).filer == "王五"


def test_bulk_title_drops_the_institution_and_period_placeholders():
    ws = openpyxl.load_workbook(BytesIO(excel.bulk_template(D, [])))["批量导入"]
    assert ws["A1"].value == "小微企业“敢贷愿贷能贷会贷”专项行动进展情况监测表（批量导入）"
    total, iterator = excel.iter_bulk_rows(excel.bulk_template(D, []), D)
    assert total == 0 and list(iterator) == []


def test_unrelated_keywords_set_by_the_user_are_ignored():
    def change(wb):
        wb.properties.keywords = "财务;2021-12"

    upload = read(edit(template(month=3), change))
    assert (upload.year, upload.month, upload.template_id) == (2022, 3, "")
