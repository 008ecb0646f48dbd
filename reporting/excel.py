"""Excel in and out for the returns of 004 §(十八)–(十九), driven by a `FormDefinition`.

- `monitoring_template` writes the official one-sheet layout of the 附件4 监测表 a bank fills in;
  `read_monitoring_workbook` reads a filled-in 监测表 back — the portal's template or the notice's own file.
- `plan_template` / `read_plan_workbook` do the same for the 附件3 投放计划表 (a table: one row per
  region, 全省 and the two 增速 columns computed by formulas).
- `contacts_workbook` exports every institution's 附件2 联系人 for the officers.
- `bulk_template` / `iter_bulk_rows` are the flat layout a PBoC officer uses to import many institutions
  and months at once; a branch's 汇总 in the notice's 附件4 layout is read by the same reader.
- `findings_report` writes the validation findings of an upload as a workbook.

The readers find a form by its printed headings, not by fixed cells (`reporting.headings`): the visible sheet
that carries them (any name), the heading row (wrapped, full-width, "6月末" or "X月末"), each column by its
label in any order (a column that is no field is set aside and named in `notes`), the data rows below up to
the printed notes, the 填报人 / 联系方式 line and the title above. Findings are located at the cells of the file
as uploaded ("Sheet1!C6"). Which row is whose is decided by the services (`reporting.names`).

Writing uses openpyxl; reading uses python-calamine for values (much faster than openpyxl) and zipfile
plus defusedxml for what calamine does not expose: sheet visibility, core properties and formulas.
Every reader runs the file-level checks of `reporting.uploads` first and turns any parser error into an
`UploadRejected`, so a bad upload never surfaces as an unhandled exception.

Reader codes (the file-level ones, U1xx, are in `reporting.uploads`):

    U201 the workbook cannot be read (damaged part, parser error)
    U202 no visible sheet carries the form's headings (names the sheets and rows searched)
    U203 hidden or very hidden sheets
    U204 the form is there but headings are missing, misspelt or repeated, or a 计划表 misses a region row
         (names what is missing and where the reader looked)
    U205 the period stated by the title, the month-end headings and the template's properties is invalid
         or they disagree
    U206 an input cell is a formula without a calculated value
    U207 a forbidden formula anywhere (HYPERLINK, DDE, WEBSERVICE, CALL/REGISTER/EXEC, other workbooks)
    U208 the template belongs to another edition (a 计划表: another year) of the form; a 监测表 whose headings
         are exactly another edition's (2022's eleven on a 2023 period, or 2023's thirteen on a 2022 one)
    U210 not a bulk-import workbook: no sheet carries the 监测表's headings
    U211 bulk headings missing or duplicated, no 机构 column, or no month anywhere
    U212 too many bulk rows
    U213 the headings are there but no data row below them
"""

import datetime
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from io import BytesIO
from typing import Any

from defusedxml import ElementTree as SafeET
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook

from portal.exports import safe_text
from reporting import headings, names
from reporting.definitions import (
    CONTACTS_2022,
    EDITIONS,
    ComputedDef,
    FieldDef,
    FormDefinition,
    plan_definition,
)
from reporting.rules import ERROR, SEVERITY_LABELS, WARNING
from reporting.uploads import UploadRejected, inspect_workbook_contents

# --- layout of the official 监测表 (rows are fixed; columns come from FieldDef.column) ----------------

SHEET = "监测表"
TITLE_ROW, INFO_ROW, GROUP_ROW, LABEL_ROW, DATA_ROW, NOTES_ROW = 1, 2, 3, 4, 5, 6
NAME_COLUMN = "A"
NAME_HEADER = "机构名称"
FILER_LABEL, PHONE_LABEL = "填报人：", "联系方式："

# --- bulk layout ---------------------------------------------------------------------------------------

BULK_SHEET = "批量导入"
BULK_CODE_HEADER, BULK_NAME_HEADER, BULK_MONTH_HEADER = "机构代码", "机构名称", "月份"
BULK_HEADER_ROW, BULK_UNIT_ROW, BULK_FIRST_DATA_ROW = 3, 4, 5
BULK_MAX_ROWS = 20_000

CREATOR = "小微企业专项行动报送门户"

_FONT = "宋体"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_UNLOCKED = Protection(locked=False)

_KEYWORDS = re.compile(r"^\s*([^;\s]+)\s*;\s*(\d{4})-(\d{1,2})\s*$")


# --- shared helpers -------------------------------------------------------------------------------------


def _unquote(text: str) -> str:
    """Undo `safe_text` (portal.exports) on read: a quote protecting a formula trigger is not part of the value."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        return text[1:]
    return text


def _text(value: Any) -> str:
    """A cell value as text for names, codes and contacts (13800000000.0 → "13800000000")."""
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _unquote(str(value).strip())


def _last_column(definition: FormDefinition) -> int:
    letters = [f.column for f in definition.fields] + [c.column for c in definition.computed if c.column]
    return max(column_index_from_string(letter) for letter in letters)


def _number_format(fd: FieldDef) -> str:
    if fd.integer or fd.decimals <= 0:
        return "0"
    return "0." + "0" * fd.decimals


def _validation(fd: FieldDef, label: str) -> DataValidation:
    kind, what = ("whole", "不小于 0 的整数") if fd.integer else ("decimal", "不小于 0 的数值")
    dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    dv.errorTitle = "数值有误"
    dv.error = f"“{label}”应填写{what}（单位：{fd.unit}）。"[:255]
    dv.showInputMessage = True
    dv.promptTitle = fd.unit
    places = "整数" if fd.integer else f"保留 {fd.decimals} 位小数"
    dv.prompt = f"单位：{fd.unit}，{places}。"
    return dv


def _to_bytes(wb: Workbook) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _style_range(ws, cell_range: str, **styles) -> None:
    for row in ws[cell_range]:
        for cell in row:
            for name, value in styles.items():
                setattr(cell, name, value)


# --- 1. the official monitoring template ---------------------------------------------------------------


@dataclass(frozen=True)
class _InfoLayout:
    """Row 2 of the 监测表: 填报人 / 联系方式 inputs and the unit line, placed from the field columns."""

    filer: str  # top-left input cell, e.g. "B2"
    filer_span: str
    phone_label: str
    phone: str
    phone_span: str
    unit_span: str


def _info_layout(definition: FormDefinition) -> _InfoLayout:
    first = min(column_index_from_string(f.column) for f in definition.fields)
    last = _last_column(definition)
    if last - 2 <= first + 4:
        raise ValueError(
            f"{definition.form}/{definition.edition}: too few field columns for the 监测表 layout"
        )

    def col(i: int) -> str:
        return get_column_letter(i)

    r = INFO_ROW
    return _InfoLayout(
        filer=f"{col(first)}{r}",
        filer_span=f"{col(first)}{r}:{col(first + 1)}{r}",
        phone_label=f"{col(first + 2)}{r}",
        phone=f"{col(first + 3)}{r}",
        phone_span=f"{col(first + 3)}{r}:{col(first + 4)}{r}",
        unit_span=f"{col(last - 2)}{r}:{col(last)}{r}",
    )


def _write_info_row(ws, definition: FormDefinition, info: _InfoLayout, *, filer: str, phone: str) -> None:
    """Row 2 of a printed form: 填报人 / 联系方式 (unlocked inputs, at most 50 characters) and the unit line."""
    ws[f"A{INFO_ROW}"] = FILER_LABEL
    ws[f"A{INFO_ROW}"].alignment = Alignment(horizontal="right", vertical="center")
    ws.merge_cells(info.filer_span)
    ws[info.filer] = safe_text(filer) or None
    ws[info.phone_label] = PHONE_LABEL
    ws[info.phone_label].alignment = Alignment(horizontal="right", vertical="center")
    ws.merge_cells(info.phone_span)
    ws[info.phone] = safe_text(phone) or None
    for span in (info.filer_span, info.phone_span):
        _style_range(ws, span, protection=_UNLOCKED, fill=_INPUT_FILL, number_format="@")
        _style_range(ws, span, border=Border(bottom=_THIN))
    ws.merge_cells(info.unit_span)
    unit_cell = ws[info.unit_span.split(":")[0]]
    unit_cell.value = definition.unit_line
    unit_cell.alignment = Alignment(horizontal="right", vertical="center")
    contact_dv = DataValidation(
        type="textLength", operator="lessThanOrEqual", formula1="50", allow_blank=True
    )
    contact_dv.showErrorMessage = True
    contact_dv.errorTitle = "内容过长"
    contact_dv.error = "填报人、联系方式不超过 50 个字。"
    ws.add_data_validation(contact_dv)
    contact_dv.add(info.filer)
    contact_dv.add(info.phone)
    ws.row_dimensions[INFO_ROW].height = 22


def _group_spans(definition: FormDefinition) -> list[tuple[str, int, int]]:
    """(group, first column, last column) for each contiguous run of a group's columns."""
    spans: list[tuple[str, int, int]] = []
    for fd in sorted(definition.fields, key=lambda f: column_index_from_string(f.column)):
        idx = column_index_from_string(fd.column)
        if spans and spans[-1][0] == fd.group and spans[-1][2] == idx - 1:
            spans[-1] = (fd.group, spans[-1][1], idx)
        else:
            spans.append((fd.group, idx, idx))
    return spans


def monitoring_template(
    definition: FormDefinition,
    *,
    institution_name: str,
    year: int,
    month: int,
    values: dict[str, Decimal | None] | None = None,
    filer: str = "",
    phone: str = "",
) -> bytes:
    """The 附件4 监测表 for one institution and month, as printed in 004 — ready to fill in Excel."""
    values = values or {}
    unknown = set(values) - set(definition.codes)
    if unknown:
        raise ValueError(f"unknown field codes: {sorted(unknown)}")
    info = _info_layout(definition)
    last = get_column_letter(_last_column(definition))
    title = definition.title.format(institution=institution_name, year=year, month=month)

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET

    # Row 1: title.
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    ws[f"A{TITLE_ROW}"] = safe_text(title)
    ws[f"A{TITLE_ROW}"].font = Font(name=_FONT, size=16, bold=True)
    ws[f"A{TITLE_ROW}"].alignment = _CENTER
    ws.row_dimensions[TITLE_ROW].height = 36

    # Row 2: 填报人 / 联系方式 (inputs) and the unit line.
    _write_info_row(ws, definition, info, filer=filer, phone=phone)

    # Rows 3–4: header — 机构名称, group headers, field labels.
    ws.merge_cells(f"{NAME_COLUMN}{GROUP_ROW}:{NAME_COLUMN}{LABEL_ROW}")
    ws[f"{NAME_COLUMN}{GROUP_ROW}"] = NAME_HEADER
    for group, start, end in _group_spans(definition):
        a, b = get_column_letter(start), get_column_letter(end)
        if start != end:
            ws.merge_cells(f"{a}{GROUP_ROW}:{b}{GROUP_ROW}")
        ws[f"{a}{GROUP_ROW}"] = group
    for fd in definition.fields:
        ws[f"{fd.column}{LABEL_ROW}"] = fd.label_for(month)
    _style_range(
        ws,
        f"A{GROUP_ROW}:{last}{LABEL_ROW}",
        font=Font(name=_FONT, size=11, bold=True),
        alignment=_CENTER,
        border=_BORDER,
        fill=_HEADER_FILL,
    )
    ws.row_dimensions[GROUP_ROW].height = 22
    ws.row_dimensions[LABEL_ROW].height = 62

    # Row 5: the data row.
    name_cell = ws[f"{NAME_COLUMN}{DATA_ROW}"]
    name_cell.value = safe_text(institution_name)
    name_cell.alignment = _CENTER
    name_cell.border = _BORDER
    name_cell.font = Font(name=_FONT, size=11)
    for fd in definition.fields:
        cell = ws[f"{fd.column}{DATA_ROW}"]
        value = values.get(fd.code)
        cell.value = value
        cell.number_format = _number_format(fd)
        cell.protection = _UNLOCKED
        cell.fill = _INPUT_FILL
        cell.border = _BORDER
        cell.font = Font(name=_FONT, size=11)
        cell.alignment = Alignment(horizontal="right", vertical="center")
        dv = _validation(fd, fd.label_for(month))
        ws.add_data_validation(dv)
        dv.add(cell.coordinate)
    ws.row_dimensions[DATA_ROW].height = 26

    # Row 6: the printed notes.
    ws.merge_cells(f"A{NOTES_ROW}:{last}{NOTES_ROW}")
    notes = ws[f"A{NOTES_ROW}"]
    notes.value = "\n".join(definition.notes)
    notes.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
    notes.font = Font(name=_FONT, size=10)
    ws.row_dimensions[NOTES_ROW].height = 66

    ws.column_dimensions[NAME_COLUMN].width = 26
    for fd in definition.fields:
        ws.column_dimensions[fd.column].width = 15

    # Protection: only the data row and the contact cells are editable; columns may still be resized.
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.print_area = f"A1:{last}{NOTES_ROW}"
    ws.sheet_view.selection[0].activeCell = f"{definition.fields[0].column}{DATA_ROW}"
    ws.sheet_view.selection[0].sqref = f"{definition.fields[0].column}{DATA_ROW}"

    props = wb.properties
    props.title = title
    props.subject = institution_name
    props.keywords = f"{definition.template_id};{year}-{month:02d}"
    props.category = f"{definition.form}/{definition.edition}"
    props.creator = CREATOR
    props.description = "请在黄色单元格填写本机构本月数据；请勿插入、删除或移动行列。"
    return _to_bytes(wb)


# --- workbook-level metadata via zipfile -------------------------------------------------------------


@dataclass(frozen=True)
class _SheetEntry:
    name: str
    state: str  # visible / hidden / veryHidden
    part: str  # zip member, e.g. "xl/worksheets/sheet1.xml"


@dataclass(frozen=True)
class _WorkbookInfo:
    sheets: tuple[_SheetEntry, ...]
    keywords: str
    subject: str
    defined_names: tuple[tuple[str, str], ...]

    def sheet(self, name: str) -> _SheetEntry | None:
        return next((s for s in self.sheets if s.name == name), None)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _attr(el, local_name: str) -> str | None:
    for key, value in el.attrib.items():
        if _local(key) == local_name:
            return value
    return None


def _member(zf: zipfile.ZipFile, name: str) -> str | None:
    """The zip member for a part name (OPC part names are case-insensitive)."""
    wanted = name.lstrip("/").lower()
    return next((n for n in zf.namelist() if n.lower() == wanted), None)


def _parse(zf: zipfile.ZipFile, name: str):
    member = _member(zf, name)
    if member is None:
        return None
    return SafeET.fromstring(zf.read(member), forbid_dtd=True)


def _workbook_info(zf: zipfile.ZipFile) -> _WorkbookInfo:
    workbook = _parse(zf, "xl/workbook.xml")
    rels = _parse(zf, "xl/_rels/workbook.xml.rels")
    targets: dict[str, str] = {}
    if rels is not None:
        for rel in rels.iter():
            if _local(rel.tag) == "Relationship" and rel.get("Id") and rel.get("Target"):
                target = rel.get("Target")
                path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                targets[rel.get("Id")] = path
    sheets, names = [], []
    for el in workbook.iter():
        tag = _local(el.tag)
        if tag == "sheet":
            sheets.append(
                _SheetEntry(
                    name=el.get("name", ""),
                    state=el.get("state", "visible"),
                    part=targets.get(_attr(el, "id"), ""),
                )
            )
        elif tag == "definedName":
            names.append((el.get("name", ""), el.text or ""))
    keywords = subject = ""
    core = _parse(zf, "docProps/core.xml")
    if core is not None:
        for el in core.iter():
            if _local(el.tag) == "keywords":
                keywords = "".join(el.itertext()).strip()
            elif _local(el.tag) == "subject":
                subject = (el.text or "").strip()
    return _WorkbookInfo(tuple(sheets), keywords, subject, tuple(names))


# Formulas that reach outside the workbook or run something: refused in any cell.
_DANGEROUS_CALL = re.compile(
    r"\b(HYPERLINK|WEBSERVICE|FILTERXML|CALL|REGISTER|REGISTER\.ID|EXEC|RTD)\s*\(", re.I
)
_EXTERNAL_REF = re.compile(r"\[\d+\]|\.xls[xmb]?\]", re.I)
_STRING_LITERAL = re.compile(r'"(?:[^"]|"")*"')
_F_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


def _forbidden_formula(formula: str) -> str | None:
    """What is wrong with a formula, in Chinese, or None when it is an ordinary calculation."""
    code = _STRING_LITERAL.sub('""', formula)
    if "|" in code:
        return "DDE 外部命令"
    match = _DANGEROUS_CALL.search(code)
    if match:
        return f"{match.group(1).upper()} 函数"
    if _EXTERNAL_REF.search(code):
        return "引用其他工作簿"
    return None


@dataclass(frozen=True)
class _Special:
    """What calamine cannot tell about a cell: its formula, and an Excel error value (both read as "")."""

    formula: str | None  # formula text ("" for a shared-formula follower); None: a constant
    cached: bool  # a formula has a calculated value in the file
    error: str  # "#DIV/0!" and friends, or ""


_ERROR_ATTR = re.compile(rb"""\st\s*=\s*["']e["']""")


def _sheet_specials(xml: bytes) -> dict[str, _Special]:
    """Cell reference → formula / error value, streaming through a worksheet part.

    Parsed only when the part has any <f> or t="e" at all, which a plain filled-in template does not.
    """
    if not (_F_TAG.search(xml) or _ERROR_ATTR.search(xml)):
        return {}
    found: dict[str, _Special] = {}
    row_no, col_no = 0, 0
    for event, el in SafeET.iterparse(BytesIO(xml), events=("start", "end"), forbid_dtd=True):
        tag = _local(el.tag)
        if event == "start":
            if tag == "row":
                r = el.get("r")
                row_no = int(r) if r and r.isdigit() else row_no + 1
                col_no = 0
            continue
        if tag == "c":
            match = _CELL_REF.match(el.get("r") or "")
            if match:
                col_no = column_index_from_string(match.group(1).upper())
                row_no = int(match.group(2))
            else:
                col_no += 1
            f = v = None
            for child in el:
                local = _local(child.tag)
                if local == "f":
                    f = child
                elif local == "v":
                    v = child
            cell_type = el.get("t")
            error = (v.text or "").strip() if cell_type == "e" and v is not None else ""
            if f is not None or error:
                cached = v is not None and (bool(v.text) or cell_type == "str")
                found[f"{get_column_letter(col_no)}{row_no}"] = _Special(
                    None if f is None else (f.text or ""), cached, error
                )
            el.clear()
        elif tag == "row":
            el.clear()
    return found


def _formula_problem(special: _Special | None) -> bool:
    return special is not None and special.formula is not None and not special.cached


def _cell_value(value: Any, special: _Special | None) -> Any:
    """A cell as the rules see it: None when blank; an Excel error value as its text (calamine gives "")."""
    if special is not None and special.error:
        return special.error
    return None if value == "" else value


def _scan_workbook(data: bytes) -> tuple[_WorkbookInfo, dict[str, dict[str, _Special]]]:
    """Sheets, properties, formulas and error cells; refuses hidden sheets and forbidden formulas anywhere."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            info = _workbook_info(zf)
            hidden = [s.name for s in info.sheets if s.state in ("hidden", "veryHidden")]
            if hidden:
                names = "、".join(f"“{safe_text(n)[:31]}”" for n in hidden)
                raise UploadRejected(
                    "U203",
                    f"工作簿中有隐藏的工作表 {names}：请删除隐藏的工作表（或在门户重新下载模板填写）后上传。",
                )
            specials: dict[str, dict[str, _Special]] = {}
            for sheet in info.sheets:
                member = _member(zf, sheet.part) if sheet.part else None
                if member is None:
                    continue
                specials[sheet.name] = _sheet_specials(zf.read(member))
    except UploadRejected:
        raise
    except Exception as exc:  # zip, XML and defusedxml errors alike
        raise _unreadable(exc) from exc
    for sheet_name, cells in specials.items():
        for ref, special in cells.items():
            problem = _forbidden_formula(special.formula or "")
            if problem:
                raise UploadRejected(
                    "U207",
                    f"{safe_text(sheet_name)}!{ref} 含有不允许的公式（{problem}）：请删除该公式，直接填写数值后上传。",
                )
    for name, text in info.defined_names:
        problem = _forbidden_formula(text)
        if problem:
            raise UploadRejected(
                "U207",
                f"工作簿的名称“{safe_text(name)[:40]}”含有不允许的公式（{problem}）：请删除该名称后上传。",
            )
    return info, specials


def _unreadable(exc: Exception) -> UploadRejected:
    return UploadRejected(
        "U201",
        f"工作簿无法读取（{type(exc).__name__}），文件可能已损坏：请用 Excel 打开后另存为 .xlsx 再上传。",
    )


# --- 2. reading a filled-in 监测表, the portal's template or the notice's own layout ---------------------

MAX_SCANNED_SHEETS = 50  # sheets whose first rows are searched for a form's headings


class _Book:
    """A workbook opened once by python-calamine for reading several of its sheets."""

    def __init__(self, data: bytes):
        try:
            self._wb = CalamineWorkbook.from_object(BytesIO(data))
        except Exception as exc:  # python_calamine raises its own error types, plus ValueError/OSError
            raise _unreadable(exc) from exc
        self._sheets: dict[str, Any] = {}

    def rows(self, sheet: str, nrows: int | None = None) -> list[list[Any]]:
        """The sheet's rows (the first `nrows`); a sheet is parsed once however often it is read."""
        try:
            if sheet not in self._sheets:
                self._sheets[sheet] = self._wb.get_sheet_by_name(sheet)
            return self._sheets[sheet].to_python(skip_empty_area=False, nrows=nrows)
        except Exception as exc:
            raise _unreadable(exc) from exc


def _candidates(info: _WorkbookInfo, preferred: str) -> list[str]:
    """Visible sheets to search, the portal's own sheet name first."""
    visible = [s.name for s in info.sheets if s.state not in ("hidden", "veryHidden")][:MAX_SCANNED_SHEETS]
    return sorted(visible, key=lambda name: name != preferred)


def _sheet_list(info: _WorkbookInfo) -> str:
    return "、".join(f"“{safe_text(s.name)[:31]}”" for s in info.sheets[:10]) or "无"


def _quoted(labels) -> str:
    return "、".join(f"“{label}”" for label in labels)


def _locate_form(
    book: _Book,
    info: _WorkbookInfo,
    expected: headings.Expected,
    *,
    preferred: str,
    what: str,
    code: str,
    missing_code: str = "U204",
) -> tuple[headings.Headings, list[list[Any]]]:
    """The sheet carrying the form's headings and its rows; UploadRejected naming what was looked for and where
    when no sheet carries them, or when one does but some headings are missing, misspelt or repeated."""
    found = headings.best(
        headings.find(name, book.rows(name, nrows=headings.SCAN_ROWS), expected)
        for name in _candidates(info, preferred)
    )
    if found is None:
        examples = _quoted(
            list(expected.required.values())[i][0] for i in range(min(2, len(expected.required)))
        )
        raise UploadRejected(
            code,
            f"这不是{what}：工作簿的工作表 {_sheet_list(info)} 的前 {headings.SCAN_ROWS} 行中都找不到{what}的表头"
            f"（如{examples}）。请上传填写好的{what}——通知所附的原表或在门户下载模板填写均可。",
        )
    where = f"工作表“{safe_text(found.sheet)[:31]}”第 {found.row + 1} 行"
    if found.duplicates:
        key, first, second = found.duplicates[0]
        raise UploadRejected(
            "U204",
            f"{where}的表头“{expected.required.get(key, expected.optional.get(key, (key,)))[0]}”出现了两次"
            f"（{headings.ref(found.row, first)}、{headings.ref(found.row, second)}）：请删除重复的列后上传。",
        )
    if found.missing:
        unknown = "、".join(
            f"{headings.ref(found.row, col)}“{safe_text(text)[:30]}”" for col, text in found.extras[:6]
        )
        hint = f"；该行未能识别的表头：{unknown}" if unknown else ""
        raise UploadRejected(
            missing_code,
            f"{where}找到了{what}的 {len(expected.required) - len(found.missing)} 个表头，缺少 {len(found.missing)} 个："
            f"{_quoted(expected.required[k][0] for k in found.missing)}{hint}"
            f"（在工作表 {_sheet_list(info)} 的前 {headings.SCAN_ROWS} 行中查找）。"
            f"请按通知所附{what}核对这些表头的文字后上传，或在门户下载模板填写。",
        )
    return found, book.rows(found.sheet)


@dataclass(frozen=True)
class DataRow:
    """One filled-in row of a form: the institution's name as typed and the raw cells of its fields."""

    row: int  # Excel row number
    name: str
    raw: dict[str, Any]  # code → float / int / str as read; None for an empty cell
    cells: dict[str, str]  # code → "B6"
    formula_cells: tuple[str, ...] = ()  # input cells that hold a formula (with a calculated value)


@dataclass(frozen=True)
class SheetUpload:
    """A 监测表 as read from an upload: its data rows (usually one) and what the lines above them say.

    `raw`, `cells` and `institution_name` are those of the selected row (`select`); the services choose the
    row of the institution the upload is for. `year` / `month` are None where neither the title, the
    headings nor the template's properties state them."""

    year: int | None
    month: int | None
    filer: str
    phone: str
    rows: tuple[DataRow, ...]
    sheet: str = SHEET
    template_id: str = ""  # from the workbook's keywords; "" when they were lost or it is not our template
    title_institution: str = ""  # the institution named in the title, "" when absent or XX银行
    notes: tuple[str, ...] = ()  # what the reader set aside: extra columns, 合计 rows
    info_formula_cells: tuple[str, ...] = ()
    selected: int = 0

    def select(self, index: int) -> "SheetUpload":
        return replace(self, selected=index)

    @property
    def _row(self) -> DataRow:
        return self.rows[self.selected]

    @property
    def institution_name(self) -> str:
        return self._row.name

    @property
    def raw(self) -> dict[str, Any]:
        return self._row.raw

    @property
    def cells(self) -> dict[str, str]:
        return self._row.cells

    @property
    def formula_cells(self) -> tuple[str, ...]:
        return self.info_formula_cells + self._row.formula_cells


def other_editions(definition: FormDefinition) -> list[FormDefinition]:
    """The form's other declared editions of the same layout, newest first."""
    same = [
        d
        for (form, edition), d in EDITIONS.items()
        if form == definition.form and edition != definition.edition and d.layout == definition.layout
    ]
    return sorted(same, key=lambda d: -int(d.edition))


def edition_mismatch(found: FormDefinition, wanted: FormDefinition) -> UploadRejected:
    """U208 naming both editions, what tells them apart and what to download instead."""
    added = [f.label_for(None) for f in wanted.fields if f.code not in found.codes]
    dropped = [f.label_for(None) for f in found.fields if f.code not in wanted.codes]
    parts = []
    if added:
        parts.append(f"{wanted.edition}年版有而{found.edition}年版没有{_quoted(added)}")
    if dropped:
        parts.append(f"{found.edition}年版有而{wanted.edition}年版没有{_quoted(dropped)}")
    differs = f"（{'；'.join(parts)}）" if parts else ""
    return UploadRejected(
        "U208",
        f"这是{found.edition}年版监测表（附件4），本期适用{wanted.edition}年版{differs}："
        f"请在门户本期页面下载{wanted.edition}年版模板（或按{wanted.edition}年版表头）填写后上传。",
    )


def _edition_by_template(definition: FormDefinition, template_id: str) -> FormDefinition | None:
    return next((d for d in other_editions(definition) if d.template_id == template_id), None)


def _edition_by_headings(
    book: "_Book", info: "_WorkbookInfo", definition: FormDefinition, sheet: str | None = None
) -> FormDefinition | None:
    """Another edition whose headings are all on a sheet (`sheet`, else any candidate) with none repeated."""
    names_ = [sheet] if sheet else _candidates(info, SHEET)
    for other in other_editions(definition):
        expected = _monitoring_expected(other)
        for name in names_:
            found = headings.find(name, book.rows(name, nrows=headings.SCAN_ROWS), expected)
            if found is not None and not found.missing and not found.duplicates:
                return other
    return None


def _monitoring_expected(definition: FormDefinition) -> headings.Expected:
    return headings.Expected(
        required={fd.code: (fd.label_for(None),) for fd in definition.fields},
        optional={"name": (NAME_HEADER, *headings.NAME_HEADINGS)},
    )


def _title(rows, heading_row: int, marker: str) -> tuple[str, str]:
    """(title text, its cell) above the headings: the cell that names the form ("…监测表"), else the first
    with a year in it; ("", "") when there is none."""
    dated = None
    for r, c, text in headings.above(rows, heading_row):
        compact = headings.compact(text)
        if marker in compact and len(compact) > len(marker):
            return text, headings.ref(r, c)
        if dated is None and re.search(r"\d{4}年", compact):
            dated = (text, headings.ref(r, c))
    return dated or ("", "")


_TITLE_PERIOD = re.compile(r"(\d{4})年(?:(\d{1,2})|[Xx]+)?月?")
_TITLE_START = re.compile(r"(?:\d{4}|[Xx]+)年")


def _title_institution(title: str) -> str:
    compact = headings.compact(title)
    match = _TITLE_START.search(compact)
    name = compact[: match.start()] if match else ""
    return "" if names.is_placeholder(name) else _unquote(name)


def _sheet_period(
    definition: FormDefinition, found: headings.Headings, title: str, title_ref: str, keywords: str
) -> tuple[int | None, int | None, str]:
    """(year, month, template id) from the template's properties, the title and the month-end headings; each
    source that states the period must agree with the others."""
    where = f"{safe_text(found.sheet)[:31]}!{title_ref}"
    from_keywords, template_id = None, ""
    kw = _KEYWORDS.match(keywords)
    # Keywords of the form "<id>;YYYY-MM" are ours when the id is of this form's family
    # ("xwqy-monitoring-…"); anything else is a user's own keywords and is ignored.
    family = definition.template_id.rsplit("-", 1)[0]
    if kw and family and kw.group(1).startswith(family):
        template_id = kw.group(1)
        if template_id != definition.template_id and (other := _edition_by_template(definition, template_id)):
            raise edition_mismatch(other, definition)
        if template_id != definition.template_id:
            raise UploadRejected(
                "U208",
                f"这是“{safe_text(template_id)[:40]}”的模板，不是本期要求的“{definition.template_id}”：请在门户重新下载本期模板填写。",
            )
        from_keywords = (int(kw.group(2)), int(kw.group(3)))
    year = month = None
    match = _TITLE_PERIOD.search(headings.compact(title))
    if match:
        year = int(match.group(1))
        month = int(match.group(2)) if match.group(2) else None
        shown = f"{year}年{month}月" if month is not None else f"{year}年"
        if not 2000 <= year <= 2100 or (month is not None and not 1 <= month <= 12):
            raise UploadRejected(
                "U205",
                f"{where} 标题中的“{shown}”不是有效的年月：请把标题改为报送期的年月（如“{definition.edition}年6月”）后上传。",
            )
    months = {m for key, text in found.texts.items() if (m := headings.month_of(text)) is not None}
    if len(months) > 1:
        raise UploadRejected(
            "U205",
            f"工作表“{safe_text(found.sheet)[:31]}”第 {found.row + 1} 行的表头写了不同的月份"
            f"（{'、'.join(f'{m}月' for m in sorted(months))}）：请统一为报送期的月份后上传。",
        )
    heading_month = next(iter(months), None)
    if heading_month is not None and not 1 <= heading_month <= 12:
        raise UploadRejected(
            "U205",
            f"工作表“{safe_text(found.sheet)[:31]}”第 {found.row + 1} 行表头中的“{heading_month}月”不是有效的月份："
            "请改为报送期的月份后上传。",
        )
    if month is not None and heading_month is not None and month != heading_month:
        raise UploadRejected(
            "U205",
            f"{where} 标题中的“{month}月”与表头中的“{heading_month}月末”不一致：请统一为报送期的月份后上传。",
        )
    month = month if month is not None else heading_month
    if from_keywords:
        if (year, month) != (None, None) and (
            year or from_keywords[0],
            month or from_keywords[1],
        ) != from_keywords:
            shown = f"{year or from_keywords[0]}年{month or from_keywords[1]}月"
            raise UploadRejected(
                "U205",
                f"{where} 标题中的“{shown}”与模板属性中的“{from_keywords[0]}年{from_keywords[1]}月”不一致："
                "请勿修改标题，在门户重新下载模板填写。",
            )
        year, month = from_keywords
    return year, month, template_id


def _unit_row(row: list[Any], columns: dict[str, int], definition: FormDefinition) -> bool:
    """A line of units under the headings (亿元 / 户 / BP / %), as the bulk template prints."""
    texts = [headings.cell([row], 0, columns[fd.code]) for fd in definition.fields if fd.code in columns]
    if any(isinstance(v, int | float) and not isinstance(v, bool) for v in texts):
        return False
    units = {fd.unit for fd in definition.fields}
    return any(isinstance(v, str) and v.strip() in units for v in texts)


def _data_rows(
    rows: list[list[Any]],
    found: headings.Headings,
    definition: FormDefinition,
    specials: dict[str, "_Special"],
    name_col: int | None,
    *,
    other_columns: tuple[int, ...] = (),
    strict: bool = True,
) -> tuple[list[tuple[int, dict[str, Any], dict[str, str], tuple[str, ...], tuple[str, ...]]], list[str]]:
    """The filled-in rows below the headings, up to the printed notes: (row index, raw, cells, formula cells,
    formulas without a value) for each, and notes on the rows set aside (合计). Blank rows and a line of units
    are skipped. A formula without its calculated value refuses the file when `strict`, else is that row's."""
    field_cols = [(fd.code, found.columns[fd.code]) for fd in definition.fields]
    field_letters = [(code, col, get_column_letter(col + 1)) for code, col in field_cols]  # each cell's ref
    out, notes = [], []
    first = max(found.rows_of.values()) + 1
    for r in range(first, len(rows)):
        row = rows[r]
        leading = next((v for v in row if not headings.blank(v)), None)
        if headings.is_note(leading):
            break
        name = headings.cell(rows, r, name_col) if name_col is not None else ""
        values = [headings.cell(rows, r, col) for _code, col in field_cols]
        others = [headings.cell(rows, r, col) for col in other_columns]
        if all(headings.blank(v) for v in [name, *values, *others]):
            continue
        if r == first and _unit_row(row, found.columns, definition):
            continue
        if headings.compact(name) in headings.TOTAL_NAMES:
            notes.append(f"第 {r + 1} 行“{safe_text(_text(name))[:20]}”是合计行，未读取（合计由门户计算）。")
            continue
        raw, cells, formulas, problems = {}, {}, [], []
        number, width = r + 1, len(row)
        for code, col, letter in field_letters:
            ref = f"{letter}{number}"  # headings.ref(r, col)
            special = specials.get(ref) if specials else None
            if _formula_problem(special):
                if strict:
                    raise UploadRejected(
                        "U206",
                        f"{safe_text(found.sheet)[:31]}!{ref} 是公式且没有计算结果：请在 Excel 中重新计算并保存，或直接填写数值。",
                    )
                problems.append(ref)
            raw[code] = _cell_value(row[col] if col < width else "", special)  # headings.cell(rows, r, col)
            cells[code] = ref
            if special is not None and special.formula is not None:
                formulas.append(ref)
        out.append((r, raw, cells, tuple(formulas), tuple(problems)))
    return out, notes


def _extra_column_notes(found: headings.Headings, what: str) -> list[str]:
    return [
        f"{headings.ref(found.row, col)} 的“{safe_text(text)[:30]}”列不是{what}的项目，未读取。"
        for col, text in found.extras
    ]


def _name_column(found: headings.Headings, definition: FormDefinition) -> int | None:
    """The 机构名称 column: by its heading, else the column just left of the first field."""
    if "name" in found.columns:
        return found.columns["name"]
    first = min(found.columns[fd.code] for fd in definition.fields)
    return first - 1 if first > 0 else None


def _info_cells(rows, found: headings.Headings, specials, sheet: str) -> tuple[str, str, tuple[str, ...]]:
    """填报人 and 联系方式 from the line above the headings, and which of their cells hold a formula."""
    out, formulas = [], []
    for label, stops in ((FILER_LABEL, (PHONE_LABEL, "单位")), (PHONE_LABEL, ("单位", FILER_LABEL))):
        value, at = headings.labelled(rows, found.row, label, stops)
        if at is not None:
            ref = headings.ref(*at)
            special = specials.get(ref)
            if _formula_problem(special):
                raise UploadRejected(
                    "U206",
                    f"{safe_text(sheet)[:31]}!{ref} 是公式且没有计算结果：请在 Excel 中重新计算并保存，或直接填写数值。",
                )
            if special is not None and special.formula is not None:
                formulas.append(ref)
        out.append(_text(value))
    return out[0], out[1], tuple(formulas)


def read_monitoring_workbook(data: bytes, definition: FormDefinition) -> SheetUpload:
    """Read a filled-in 附件4 监测表 — the portal's template or the notice's own layout — found by its headings.

    Raises UploadRejected for a file that is unsafe, carries no 监测表, misses headings or states another
    period; reads every data row (the services choose the institution's, and refuse other institutions')."""
    inspect_workbook_contents(data)
    info, specials = _scan_workbook(data)
    book = _Book(data)
    try:
        found, rows = _locate_form(
            book, info, _monitoring_expected(definition), preferred=SHEET, what="监测表（附件4）", code="U202"
        )
    except UploadRejected as exc:
        # headings missing because the sheet is another edition's (2022's on a 2023 period): say so
        other = _edition_by_headings(book, info, definition) if exc.code == "U204" else None
        if other is not None:
            raise edition_mismatch(other, definition) from exc
        raise
    if found.extras and (other := _edition_by_headings(book, info, definition, found.sheet)):
        if len(other.fields) > len(definition.fields):  # a later edition's sheet on an earlier period
            raise edition_mismatch(other, definition)
    sheet_specials = specials.get(found.sheet, {})
    title, title_ref = _title(rows, found.row, "监测表")
    year, month, template_id = _sheet_period(definition, found, title, title_ref, info.keywords)
    filer, phone, info_formulas = _info_cells(rows, found, sheet_specials, found.sheet)
    name_col = _name_column(found, definition)
    data_rows, notes = _data_rows(rows, found, definition, sheet_specials, name_col)
    if not data_rows:
        raise UploadRejected(
            "U213",
            f"工作表“{safe_text(found.sheet)[:31]}”第 {found.row + 1} 行表头下没有填写数据的行："
            "请在表头下方填写本机构一行数据后上传。",
        )
    return SheetUpload(
        year=year,
        month=month,
        filer=filer,
        phone=phone,
        rows=tuple(
            DataRow(
                row=r + 1,
                name=_text(headings.cell(rows, r, name_col)) if name_col is not None else "",
                raw=raw,
                cells=cells,
                formula_cells=formulas,
            )
            for r, raw, cells, formulas, _problems in data_rows
        ),
        sheet=found.sheet,
        template_id=template_id,
        title_institution=_title_institution(title),
        notes=tuple(_extra_column_notes(found, "监测表") + notes),
        info_formula_cells=info_formulas,
    )


# --- 5. table returns: the 附件3 投放计划表 and the 附件2 联系人 export ----------------------------------

PLAN_SHEET = "计划表"
PLAN_ROW_HEADER = "分行"
CONTACTS_SHEET = "联系人"
CONTACTS_NAME_HEADER, CONTACTS_ROLE_HEADER = "银行名称", "角色"

_PLAN_KEYWORDS = re.compile(r"^\s*([^;\s]+)\s*;\s*(\d{4})\s*$")
_TOTAL_FILL = PatternFill("solid", fgColor="EDEDED")
_PERCENT = "0.00%"
UNDEFINED_RATIO = "—"  # what a ratio with a zero or blank denominator shows (never #DIV/0!)


def _row_numbers(definition: FormDefinition) -> dict[str, int]:
    """Row code → sheet row of a table definition, from its fields' cells (the total row has none)."""
    index = {row.code: i for i, row in enumerate(definition.rows)}
    first_field = definition.fields[0]
    first = int(_CELL_REF.match(first_field.cell).group(2)) - index[first_field.row]
    numbers = {row.code: first + i for i, row in enumerate(definition.rows)}
    for fd in definition.fields:
        if fd.cell != f"{fd.column}{numbers[fd.row]}":
            raise ValueError(
                f"{definition.form}/{definition.edition}: {fd.code} is at {fd.cell}, not in its row"
            )
    if first < LABEL_ROW + 1:
        raise ValueError(f"{definition.form}/{definition.edition}: rows start at {first}, above the header")
    return numbers


def _table_columns(definition: FormDefinition) -> list[tuple[str, str]]:
    """(column letter, header label) of the input and computed columns, left to right."""
    columns = [(c.column, c.label) for c in definition.columns]
    columns += [(c.column, c.label) for c in definition.computed]
    return sorted(columns, key=lambda item: column_index_from_string(item[0]))


def derived_codes(definition: FormDefinition) -> set[str]:
    """Codes of a table's values the portal computes (the total row, the ratio columns): never input."""
    codes = {f"{row.code}.{c.code}" for row in definition.rows for c in definition.computed}
    if definition.total_row:
        codes |= {f"{definition.total_row}.{c.code}" for c in definition.columns}
    return codes


def _refs(letter: str, rows: list[int]) -> str:
    """B6:B22 for a contiguous run of rows, else B6,B8,… (for SUM)."""
    rows = sorted(rows)
    if rows == list(range(rows[0], rows[-1] + 1)):
        return f"{letter}{rows[0]}:{letter}{rows[-1]}"
    return ",".join(f"{letter}{r}" for r in rows)


def ratio_formula(computed: ComputedDef, letters: dict[str, str], row: int) -> str:
    """The Excel formula of a computed ratio: (numerator − base) / denominator, or "—" when any operand
    is blank or not a number, or the denominator is 0 (004 附件3 prints #DIV/0! there; the portal never does)."""
    num, den = f"{letters[computed.numerator]}{row}", f"{letters[computed.denominator]}{row}"
    operands = [den, num]
    if computed.base:
        base = f"{letters[computed.base]}{row}"
        operands += [base] if base not in operands else []
        expression = f"({num}-{base})/{den}"
    else:
        expression = f"{num}/{den}"
    guards = [f"NOT(ISNUMBER({ref}))" for ref in operands] + [f"{den}=0"]
    return f'=IF(OR({",".join(guards)}),"{UNDEFINED_RATIO}",{expression})'


def plan_template(
    definition: FormDefinition,
    *,
    institution_name: str,
    values: dict[str, Decimal | None] | None = None,
    filer: str = "",
    phone: str = "",
) -> bytes:
    """The 附件3 普惠小微贷款投放计划表 for one institution (004 §(十九)), as printed in the notice.

    The regional rows are the inputs; 全省 sums them and the two 增速 columns divide, by formulas that show
    "—" for an undefined ratio. `values` may hold the portal's derived codes too: they are not written,
    the formulas compute them."""
    values = dict(values or {})
    derived = derived_codes(definition)
    unknown = set(values) - set(definition.codes) - derived
    if unknown:
        raise ValueError(f"unknown field codes: {sorted(unknown)}")
    numbers = _row_numbers(definition)
    columns = _table_columns(definition)
    letters = {c.code: c.column for c in definition.columns}
    input_rows = [numbers[row.code] for row in definition.rows if row.code != definition.total_row]
    last_row = max(numbers.values())
    last = get_column_letter(_last_column(definition))
    header_top, header_bottom = min(numbers.values()) - 2, min(numbers.values()) - 1
    title = definition.title.format(institution=institution_name)
    info = _info_layout(definition)

    wb = Workbook()
    ws = wb.active
    ws.title = PLAN_SHEET
    font = Font(name=_FONT, size=11)

    # Row 1: title.
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    ws[f"A{TITLE_ROW}"] = safe_text(title)
    ws[f"A{TITLE_ROW}"].font = Font(name=_FONT, size=16, bold=True)
    ws[f"A{TITLE_ROW}"].alignment = _CENTER
    ws.row_dimensions[TITLE_ROW].height = 36

    # Row 2: 填报人 / 联系方式 and the unit line, as on the 监测表.
    _write_info_row(ws, definition, info, filer=filer, phone=phone)

    # Rows 3–4: the header, each label over two rows.
    ws.merge_cells(f"A{header_top}:A{header_bottom}")
    ws[f"A{header_top}"] = PLAN_ROW_HEADER
    for letter, label in columns:
        ws.merge_cells(f"{letter}{header_top}:{letter}{header_bottom}")
        ws[f"{letter}{header_top}"] = label
    _style_range(
        ws,
        f"A{header_top}:{last}{header_bottom}",
        font=Font(name=_FONT, size=11, bold=True),
        alignment=_CENTER,
        border=_BORDER,
        fill=_HEADER_FILL,
    )
    ws.row_dimensions[header_top].height = 30
    ws.row_dimensions[header_bottom].height = 30

    # The rows: inputs for the regions, formulas for 全省 and the ratios.
    for row in definition.rows:
        r = numbers[row.code]
        is_total = row.code == definition.total_row
        label = ws[f"A{r}"]
        label.value = row.label
        label.font = Font(name=_FONT, size=11, bold=is_total)
        label.alignment = _CENTER
        label.border = _BORDER
        for column in definition.columns:
            cell = ws[f"{column.column}{r}"]
            if is_total:
                cell.value = f"=SUM({_refs(column.column, input_rows)})"
                cell.fill = _TOTAL_FILL
                cell.font = Font(name=_FONT, size=11, bold=True)
            else:
                cell.value = values.get(f"{row.code}.{column.code}")
                cell.protection = _UNLOCKED
                cell.fill = _INPUT_FILL
                cell.font = font
            cell.number_format = _number_format(column)
            cell.border = _BORDER
            cell.alignment = Alignment(horizontal="right", vertical="center")
        for computed in definition.computed:
            cell = ws[f"{computed.column}{r}"]
            cell.value = ratio_formula(computed, letters, r)
            cell.number_format = _PERCENT
            cell.fill = _TOTAL_FILL
            cell.font = Font(name=_FONT, size=11, bold=is_total)
            cell.border = _BORDER
            cell.alignment = Alignment(horizontal="right", vertical="center")
        ws.row_dimensions[r].height = 22
    for column in definition.columns:
        dv = _validation(column, column.label)
        ws.add_data_validation(dv)
        for rows in _runs(input_rows):
            dv.add(f"{column.column}{rows[0]}:{column.column}{rows[-1]}")

    # The printed notes, one merged row each.
    notes_end = last_row
    for offset, note in enumerate(definition.notes, start=1):
        r = last_row + offset
        ws.merge_cells(f"A{r}:{last}{r}")
        ws[f"A{r}"] = note
        ws[f"A{r}"].alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        ws[f"A{r}"].font = Font(name=_FONT, size=10)
        ws.row_dimensions[r].height = 30
        notes_end = r

    ws.column_dimensions["A"].width = 18
    for letter, _label in columns:
        ws.column_dimensions[letter].width = 15
    ws.freeze_panes = f"B{header_bottom + 1}"

    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.print_area = f"A1:{last}{notes_end}"
    ws.print_title_rows = f"{header_top}:{header_bottom}"
    first_input = definition.fields[0].cell
    ws.sheet_view.selection[0].activeCell = first_input
    ws.sheet_view.selection[0].sqref = first_input
    wb.calculation.fullCalcOnLoad = True  # Excel computes 全省 and the ratios on opening

    props = wb.properties
    props.title = title
    props.subject = institution_name
    props.keywords = f"{definition.template_id};{definition.edition}"
    props.category = f"{definition.form}/{definition.edition}"
    props.creator = CREATOR
    props.description = "请在黄色单元格填写各分行数据；全省合计与增速由公式计算；请勿插入、删除或移动行列。"
    return _to_bytes(wb)


def _runs(rows: list[int]) -> list[list[int]]:
    """Consecutive runs of row numbers: [5, 6, 7, 9] → [[5, 6, 7], [9]]."""
    runs: list[list[int]] = []
    for r in sorted(rows):
        if runs and runs[-1][-1] == r - 1:
            runs[-1].append(r)
        else:
            runs.append([r])
    return runs


@dataclass(frozen=True)
class TableUpload:
    """A table return (附件3) as read from an upload; `raw` holds the input cells only — the total row
    and the ratios are the portal's to compute."""

    institution_name: str
    year: int
    filer: str
    phone: str
    raw: dict[str, Any]  # code ("420100.balance_y1") → float / int / str as read; None when empty
    cells: dict[str, str]  # code → "C6"
    sheet: str = PLAN_SHEET
    template_id: str = ""  # from the workbook's keywords; "" when they were lost
    formula_cells: tuple[str, ...] = ()  # input cells that hold a formula (with a calculated value)
    notes: tuple[str, ...] = ()  # what the reader set aside: extra columns, rows that are no region

    @property
    def month(self) -> None:
        """An annual return has no month (lets period checks compare (year, month) for every form)."""
        return None


def _plan_year(
    definition: FormDefinition, title: str, where: str, keywords: str
) -> tuple[int | None, str, str]:
    """(year, template id, institution name from the title) of a 计划表, from its keywords and title; the
    year is None when neither states it (the headings' years then tell)."""
    from_keywords = None
    template_id = ""
    kw = _PLAN_KEYWORDS.match(keywords)
    family = definition.template_id.rsplit("-", 1)[0]
    if kw and family and kw.group(1).startswith(family):
        template_id = kw.group(1)
        if template_id != definition.template_id:
            raise UploadRejected(
                "U208",
                f"这是“{safe_text(template_id)[:40]}”的模板，不是本期要求的“{definition.template_id}”："
                "请在门户重新下载本年度的计划表模板填写。",
            )
        from_keywords = int(kw.group(2))
    # The title is "<institution><year>年…计划表": the printed text after the name, with any year.
    tail = headings.compact(definition.title.format(institution=""))
    pattern = re.escape(tail).replace(re.escape(definition.edition), r"(\d{4})", 1)
    compact = headings.compact(title)
    match = re.search(pattern + "$", compact)
    from_title = int(match.group(1)) if match and match.groups() else None
    name = compact[: match.start()] if match else _title_institution(title)
    if from_keywords and from_title and from_keywords != from_title:
        raise UploadRejected(
            "U205",
            f"{where} 标题中的“{from_title}年”与模板属性中的“{from_keywords}年”不一致："
            "请勿修改标题，在门户重新下载模板填写。",
        )
    year = from_keywords or from_title
    if year is not None and str(year) != definition.edition:
        raise UploadRejected(
            "U208",
            f"这是 {year} 年的计划表，不是本期要求的 {definition.edition} 年计划表："
            f"请在门户下载 {definition.edition} 年的模板填写。",
        )
    return year, template_id, "" if names.is_placeholder(name) else name


def _plan_expected(definition: FormDefinition) -> headings.Expected:
    return headings.Expected(
        required={c.code: (c.label,) for c in definition.columns},
        optional={
            **{c.code: (c.label,) for c in definition.computed},
            "region": (PLAN_ROW_HEADER, "地区", "区域", "分支机构", "机构名称"),
        },
    )


def _other_year_of(book: _Book, info: _WorkbookInfo, definition: FormDefinition) -> tuple[int, str] | None:
    """(year, a heading) when the workbook is the 附件3 of another year: its headings name other years."""
    year = int(definition.edition)
    for other in (year - 1, year + 1, year - 2, year + 2):
        expected = _plan_expected(plan_definition(other))
        for name in _candidates(info, PLAN_SHEET):
            found = headings.find(name, book.rows(name, nrows=headings.SCAN_ROWS), expected)
            if found is not None and not found.missing:
                return other, headings.compact(found.texts["balance_y1"])
    return None


def _region_keys(definition: FormDefinition) -> dict[str, str]:
    """Every way a region row is labelled (武汉分行 / 武汉 / 武汉市, 恩施州 / 恩施, 全省 / 合计) → its code."""
    keys: dict[str, str] = {}
    for row in definition.rows:
        base = row.label.removesuffix("分行")
        spellings = {row.label, base, base + "市", base + "市分行", base + "中心支行"}
        spellings |= {base.removesuffix("州"), base.removesuffix("林区")}
        if row.code == definition.total_row:
            spellings |= {"合计", "全省合计", "湖北省", "总计"}
        for spelling in spellings:
            if spelling:
                keys.setdefault(headings.compact(spelling), row.code)
    return keys


def _region_column(rows, found: headings.Headings, keys: dict[str, str]) -> int:
    """The column of the region labels: by its heading, else the column left of the data with most regions."""
    if "region" in found.columns:
        return found.columns["region"]
    first_field = min(found.columns.values())
    start = max(found.rows_of.values()) + 1
    counts = {
        col: sum(headings.compact(headings.cell(rows, r, col)) in keys for r in range(start, len(rows)))
        for col in range(first_field)
    }
    return max(counts, key=lambda col: (counts[col], -col)) if counts else 0


def read_plan_workbook(data: bytes, definition: FormDefinition) -> TableUpload:
    """Read a filled-in 附件3 计划表 — the portal's template or the notice's own layout — found by its headings,
    each region's row by its label (any order). Raises UploadRejected for anything unsafe or incomplete.

    Only the regional input cells are read. The 全省 row and the ratio columns are the portal's (it recomputes
    them; their formulas and #DIV/0! are ignored); a formula without a calculated value in an input cell, or a
    forbidden formula anywhere, is refused."""
    inspect_workbook_contents(data)
    info, specials = _scan_workbook(data)
    _plan_year(definition, "", "", info.keywords)  # a template of another year's plan: said by its id
    book = _Book(data)
    try:
        found, rows = _locate_form(
            book,
            info,
            _plan_expected(definition),
            preferred=PLAN_SHEET,
            what="投放计划表（附件3）",
            code="U202",
        )
    except UploadRejected as exc:
        other = _other_year_of(book, info, definition) if exc.code in ("U202", "U204") else None
        if other is None:
            raise
        raise UploadRejected(
            "U208",
            f"这是 {other[0]} 年的计划表（表头为“{safe_text(other[1])[:40]}”），不是本期要求的 "
            f"{definition.edition} 年计划表：请在门户下载 {definition.edition} 年的模板填写。",
        ) from None
    sheet = found.sheet
    title, title_ref = _title(rows, found.row, "计划表")
    year, template_id, title_name = _plan_year(
        definition, title, f"{safe_text(sheet)[:31]}!{title_ref or 'A1'}", info.keywords
    )
    sheet_specials = specials.get(sheet, {})
    filer, phone, info_formulas = _info_cells(rows, found, sheet_specials, sheet)

    keys = _region_keys(definition)
    label_col = _region_column(rows, found, keys)
    labels = {row.code: row.label for row in definition.rows}
    seen: dict[str, int] = {}
    raw: dict[str, Any] = {}
    cells: dict[str, str] = {}
    formulas: list[str] = []
    notes = _extra_column_notes(found, "投放计划表")
    for r in range(max(found.rows_of.values()) + 1, len(rows)):
        label = headings.cell(rows, r, label_col)
        if headings.is_note(label):
            break
        values = {c.code: headings.cell(rows, r, found.columns[c.code]) for c in definition.columns}
        if headings.blank(label) and all(headings.blank(v) for v in values.values()):
            continue
        code = keys.get(headings.compact(label))
        if code is None:
            if any(not headings.blank(v) for v in values.values()):
                shown = safe_text(_text(label))[:20] or "（空）"
                notes.append(f"第 {r + 1} 行“{shown}”不是附件3的地区，未读取。")
            continue
        if code in seen:
            raise UploadRejected(
                "U204",
                f"{safe_text(sheet)[:31]}!{headings.ref(r, label_col)} 的“{labels[code]}”与第 {seen[code] + 1} 行重复："
                "每个地区只能有一行，请删除重复的行后上传。",
            )
        seen[code] = r
        if code == definition.total_row:
            continue  # the portal sums the regions
        for column in definition.columns:
            ref = headings.ref(r, found.columns[column.code])
            special = sheet_specials.get(ref)
            if _formula_problem(special):
                raise UploadRejected(
                    "U206",
                    f"{safe_text(sheet)[:31]}!{ref} 是公式且没有计算结果：请在 Excel 中重新计算并保存，或直接填写数值。",
                )
            raw[f"{code}.{column.code}"] = _cell_value(values[column.code], special)
            cells[f"{code}.{column.code}"] = ref
            if special is not None and special.formula is not None:
                formulas.append(ref)
    missing = [
        row.label for row in definition.rows if row.code not in seen and row.code != definition.total_row
    ]
    if missing:
        raise UploadRejected(
            "U204",
            f"工作表“{safe_text(sheet)[:31]}”第 {found.row + 1} 行表头下缺少 {len(missing)} 个地区的行："
            f"{_quoted(missing)}（地区名称在第 {get_column_letter(label_col + 1)} 列查找）。"
            "附件3 须按通知列出全省和 17 个分行，请补齐后上传。",
        )
    return TableUpload(
        institution_name=_unquote(title_name) or info.subject,
        year=year or int(definition.edition),
        filer=filer,
        phone=phone,
        raw=raw,
        cells=cells,
        sheet=sheet,
        template_id=template_id,
        formula_cells=tuple(info_formulas) + tuple(formulas),
        notes=tuple(notes),
    )


_CONTACT_WIDTHS = {"department": 22, "name": 12, "title": 18, "office_phone": 18, "mobile": 16, "email": 30}


def contacts_workbook(rows: list[tuple[str, dict]], *, definition: FormDefinition = CONTACTS_2022) -> bytes:
    """Every institution's 附件2 专项行动联系人 in one sheet, for the officer: one row per institution × role.

    `rows` = [(institution short name, values keyed "<role>.<column>")]. Everything typed by a bank goes
    through `safe_text` and is stored as text, so "=cmd|…" stays a string and phone numbers keep their 0s."""
    headers = [CONTACTS_NAME_HEADER, CONTACTS_ROLE_HEADER] + [c.label for c in definition.columns]
    last = get_column_letter(len(headers))
    wb = Workbook()
    ws = wb.active
    ws.title = CONTACTS_SHEET
    for i, label in enumerate(headers, start=1):
        cell = ws.cell(1, i, label)
        cell.font = Font(name=_FONT, size=11, bold=True)
        cell.alignment = _CENTER
        cell.border = _BORDER
        cell.fill = _HEADER_FILL
    r = 1
    for institution, values in rows:
        for role in definition.rows:
            r += 1
            texts = [institution, role.label] + [
                values.get(f"{role.code}.{c.code}") for c in definition.columns
            ]
            for i, text in enumerate(texts, start=1):
                cell = ws.cell(r, i, safe_text(text) or None)
                cell.number_format = "@"
                cell.border = _BORDER
                cell.font = Font(name=_FONT, size=11)
                cell.alignment = Alignment(vertical="center", wrap_text=i > 2)
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 16
    for i, column in enumerate(definition.columns, start=3):
        ws.column_dimensions[get_column_letter(i)].width = _CONTACT_WIDTHS.get(column.code, 16)
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{last}{max(r, 2)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    wb.properties.title = definition.title.format(institution="各机构")
    wb.properties.keywords = f"{definition.template_id};export"
    wb.properties.creator = CREATOR
    return _to_bytes(wb)


# --- 3. bulk import layout ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkRow:
    """One (institution, month) row of a 批量导入 sheet; `error` is set instead of raising."""

    row: int  # Excel row number
    institution_code: str
    institution_name: str
    year: int | None
    month: int | None
    raw: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # code → "批量导入!D7"
    error: str = ""


def _bulk_title(definition: FormDefinition) -> str:
    generic = re.sub(r"\{institution\}|\{year\}年?|\{month\}月?", "", definition.title)
    return generic.replace("{", "").replace("}", "") + "（批量导入）"


def _bulk_field_columns(definition: FormDefinition) -> dict[str, str]:
    """Field code → column letter in the bulk layout: after 机构代码, 机构名称, 月份, in definition order."""
    return {fd.code: get_column_letter(4 + i) for i, fd in enumerate(definition.fields)}


def bulk_template(definition: FormDefinition, rows: list[dict]) -> bytes:
    """The 批量导入 sheet: one row per (institution, month).

    Each row is a dict with institution_code, institution_name, year, month and the values either under
    "values" ({code: Decimal}) or as field codes at the top level.
    """
    columns = _bulk_field_columns(definition)
    last = get_column_letter(3 + len(definition.fields))
    wb = Workbook()
    ws = wb.active
    ws.title = BULK_SHEET

    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = _bulk_title(definition)
    ws["A1"].font = Font(name=_FONT, size=14, bold=True)
    ws["A1"].alignment = _CENTER
    ws.row_dimensions[1].height = 30
    ws.merge_cells(f"A2:{last}2")
    ws["A2"] = (
        f"{definition.unit_line}。每行一个机构一个月份；“月份”填写“2022-03”格式的文本；"
        f"“新发放”类数据为年初至当月末累计。请勿修改第 {BULK_HEADER_ROW}、{BULK_UNIT_ROW} 行表头。"
    )
    ws["A2"].alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    ws.row_dimensions[2].height = 30

    headers = [BULK_CODE_HEADER, BULK_NAME_HEADER, BULK_MONTH_HEADER] + [
        fd.label_for(None) for fd in definition.fields
    ]
    units = ["", "", "YYYY-MM"] + [fd.unit for fd in definition.fields]
    for i, (label, unit) in enumerate(zip(headers, units, strict=True), start=1):
        ws.cell(BULK_HEADER_ROW, i, label)
        ws.cell(BULK_UNIT_ROW, i, unit or None)
    _style_range(
        ws,
        f"A{BULK_HEADER_ROW}:{last}{BULK_UNIT_ROW}",
        font=Font(name=_FONT, size=11, bold=True),
        alignment=_CENTER,
        border=_BORDER,
        fill=_HEADER_FILL,
    )
    ws.row_dimensions[BULK_HEADER_ROW].height = 48

    formats = {fd.code: _number_format(fd) for fd in definition.fields}
    for offset, item in enumerate(rows):
        r = BULK_FIRST_DATA_ROW + offset
        values = item.get("values")
        if values is None:
            values = {code: item.get(code) for code in definition.codes}
        ws.cell(r, 1, safe_text(item.get("institution_code", "")) or None).number_format = "@"
        ws.cell(r, 2, safe_text(item.get("institution_name", "")) or None)
        year, month = item.get("year"), item.get("month")
        ws.cell(r, 3, f"{int(year)}-{int(month):02d}" if year and month else None).number_format = "@"
        for code, col in columns.items():
            cell = ws[f"{col}{r}"]
            cell.value = values.get(code)
            cell.number_format = formats[code]

    last_row = BULK_FIRST_DATA_ROW + max(len(rows), BULK_MAX_ROWS) - 1
    for fd in definition.fields:
        dv = _validation(fd, fd.label_for(None))
        ws.add_data_validation(dv)
        col = columns[fd.code]
        dv.add(f"{col}{BULK_FIRST_DATA_ROW}:{col}{last_row}")

    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 28
    ws.column_dimensions["C"].width = 10
    for col in columns.values():
        ws.column_dimensions[col].width = 15
    ws.freeze_panes = f"D{BULK_FIRST_DATA_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.keywords = f"{definition.template_id};bulk"
    wb.properties.title = _bulk_title(definition)
    wb.properties.creator = CREATOR
    return _to_bytes(wb)


_MONTH_TEXT = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))\s*$")


def _parse_month(value: Any) -> tuple[int, int] | None:
    """ "2022-03", "2022/3", "2022年3月", "202203", or a date Excel made of "2022-03" → (2022, 3)."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.year, value.month
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():  # 2022.10 would read as 2022.1: ambiguous, refuse
            return None
        value = int(value)
    match = _MONTH_TEXT.match(str(value))
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2) or match.group(3))
    if 1 <= month <= 12 and 2000 <= year <= 2100:
        return year, month
    return None


def _bulk_expected(definition: FormDefinition) -> headings.Expected:
    return headings.Expected(
        required={fd.code: (fd.label_for(None),) for fd in definition.fields},
        optional={
            "institution_code": (BULK_CODE_HEADER, "代码", "机构编码"),
            "institution_name": (BULK_NAME_HEADER, *headings.NAME_HEADINGS),
            "month": (BULK_MONTH_HEADER, "报送月份", "所属月份", "年月"),
        },
    )


def iter_bulk_rows(data: bytes, definition: FormDefinition) -> tuple[int, Iterator[BulkRow]]:
    """(number of data rows, iterator of BulkRow) from an officer's bulk workbook: the portal's 批量导入 layout
    (机构代码, 机构名称, 月份, then the fields) or a 汇总 in the notice's 附件4 layout (one row per institution
    under the printed headings, the month from the title or the "6月末" headings), found by its headings.

    File-level problems raise UploadRejected before anything is yielded; a row's own problem (no institution,
    an unreadable 月份, a formula without a value) is reported on that row instead. A row that names its
    institution only by name has an empty `institution_code`: the import resolves the name."""
    inspect_workbook_contents(data)
    info, specials = _scan_workbook(data)
    book = _Book(data)
    # A bulk workbook may hold another edition's columns (2022 months in the 2022 layout): each row is
    # validated against the edition of its own month, so read the first edition whose headings are all there.
    first_refusal = None
    for candidate in [definition, *other_editions(definition)]:
        try:
            found, rows = _locate_form(
                book,
                info,
                _bulk_expected(candidate),
                preferred=BULK_SHEET,
                what="批量导入表",
                code="U210",
                missing_code="U211",
            )
        except UploadRejected as exc:
            if exc.code != "U211":  # no such sheet, or a repeated heading: another edition won't help
                raise (first_refusal or exc) from None
            first_refusal = first_refusal or exc
            continue
        definition = candidate
        break
    else:
        raise first_refusal
    if "institution_code" not in found.columns and "institution_name" not in found.columns:
        raise UploadRejected(
            "U211",
            f"工作表“{safe_text(found.sheet)[:31]}”第 {found.row + 1} 行表头缺少“{BULK_CODE_HEADER}”或“{BULK_NAME_HEADER}”："
            "每行须写明机构，请加上机构代码或机构名称列。",
        )
    default = None
    if "month" not in found.columns:
        title, title_ref = _title(rows, found.row, "监测表")
        year, month, _template = _sheet_period(definition, found, title, title_ref, "")
        if year is None or month is None:
            raise UploadRejected(
                "U211",
                f"工作表“{safe_text(found.sheet)[:31]}”没有“{BULK_MONTH_HEADER}”列，标题和表头也没有写明年月："
                f"请加上“{BULK_MONTH_HEADER}”列（如 2022-06），或在标题中写明“2022年6月”。",
            )
        default = (year, month)
    name_col = found.columns.get("institution_name")
    others = tuple(found.columns[k] for k in ("institution_code", "month") if k in found.columns)
    data_rows, notes = _data_rows(
        rows, found, definition, specials.get(found.sheet, {}), name_col, other_columns=others, strict=False
    )
    if len(data_rows) > BULK_MAX_ROWS:
        raise UploadRejected(
            "U212",
            f"{safe_text(found.sheet)[:31]} 有 {len(data_rows)} 行数据，超过一次导入的上限 {BULK_MAX_ROWS} 行：请分批导入。",
        )
    notes = _extra_column_notes(found, "监测表") + notes
    return len(data_rows), BulkRows(_bulk_rows(rows, data_rows, found, default), tuple(notes))


class BulkRows:
    """The rows of a bulk sheet, read lazily, with the reader's notes (columns and 合计 rows set aside)."""

    def __init__(self, rows: Iterator[BulkRow], notes: tuple[str, ...]):
        self._rows, self.notes = rows, notes

    def __iter__(self) -> Iterator[BulkRow]:
        return self._rows

    def __next__(self) -> BulkRow:
        return next(self._rows)


def _bulk_rows(
    rows: list[list[Any]],
    data_rows: list,
    found: headings.Headings,
    default: tuple[int, int] | None,
) -> Iterator[BulkRow]:
    sheet = safe_text(found.sheet)[:31]
    code_col = found.columns.get("institution_code")
    name_col = found.columns.get("institution_name")
    month_col = found.columns.get("month")
    for r, raw, cells, _formulas, problems in data_rows:
        row_no = r + 1
        errors = []
        code = _text(headings.cell(rows, r, code_col)) if code_col is not None else ""
        name = _text(headings.cell(rows, r, name_col)) if name_col is not None else ""
        if not code and names.is_placeholder(name):
            where = headings.ref(r, code_col if code_col is not None else name_col)
            errors.append(f"{sheet}!{where} 机构代码和机构名称都为空")
        period = default
        if month_col is not None:
            month_value = headings.cell(rows, r, month_col)
            period = _parse_month(month_value)
            if period is None:
                shown = safe_text(_text(month_value))[:20] or "空"
                errors.append(
                    f"{sheet}!{headings.ref(r, month_col)} 月份“{shown}”无法识别：请填写“2022-03”这样的年-月"
                )
        errors += [
            f"{sheet}!{ref} 是公式且没有计算结果：请在 Excel 中重新计算并保存，或直接填写数值"
            for ref in problems
        ]
        yield BulkRow(
            row=row_no,
            institution_code=code,
            institution_name=name,
            year=period[0] if period else None,
            month=period[1] if period else None,
            raw=raw,
            cells={key: f"{sheet}!{ref}" for key, ref in cells.items()},
            error="；".join(errors),
        )


# --- 4. findings report -------------------------------------------------------------------------------

_SEVERITY_ALIASES = {
    "error": ERROR,
    "e": ERROR,
    "错误": ERROR,
    "warning": WARNING,
    "w": WARNING,
    "警告": WARNING,
    "预警": WARNING,
    "提示": WARNING,
}
_SEVERITY_ORDER = {ERROR: 0, WARNING: 1}
_SEVERITY_FILL = {
    ERROR: PatternFill("solid", fgColor="F8CBAD"),
    WARNING: PatternFill("solid", fgColor="FFE699"),
}
_FINDING_COLUMNS = [
    ("severity", "严重程度", 10),
    ("rule", "规则", 10),
    ("location", "位置", 16),
    ("field", "字段", 28),
    ("message", "说明", 70),
]
_OPTIONAL_COLUMNS = [("institution", "机构", 26), ("month", "月份", 10)]
FINDINGS_HEADER_ROW = 4


def findings_report(title: str, rows: list[dict], *, definition: FormDefinition | None = None) -> bytes:
    """The findings of an upload as a workbook: errors first, then warnings, with counts at the top.

    Each row: severity (error/warning, or 错误/警告/提示), rule, location, field, message, and optionally
    institution and month (or period). With `definition`, a field code is shown as its label. Every text
    cell goes through `safe_text`: locations, values and names in these strings came from uploads.
    """
    findings = []
    for r in rows:
        severity = _SEVERITY_ALIASES.get(
            str(r.get("severity", "")).strip().lower(), str(r.get("severity") or "")
        )
        finding = dict(r, severity=severity, month=r.get("month") or r.get("period"))
        finding["field"] = _field_label(definition, r.get("field"), finding["month"])
        findings.append(finding)
    findings.sort(key=lambda f: _SEVERITY_ORDER.get(f["severity"], 2))
    columns = list(_FINDING_COLUMNS) + [c for c in _OPTIONAL_COLUMNS if any(f.get(c[0]) for f in findings)]
    last = get_column_letter(len(columns))
    errors = sum(1 for f in findings if f["severity"] == ERROR)
    warnings = sum(1 for f in findings if f["severity"] == WARNING)
    others = len(findings) - errors - warnings

    wb = Workbook()
    ws = wb.active
    ws.title = "检查结果"
    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = safe_text(title)
    ws["A1"].font = Font(name=_FONT, size=14, bold=True)
    ws["A1"].alignment = _CENTER
    ws.row_dimensions[1].height = 28
    ws.merge_cells(f"A2:{last}2")
    summary = f"{SEVERITY_LABELS[ERROR]} {errors} 条，{SEVERITY_LABELS[WARNING]} {warnings} 条"
    summary += (f"，其他 {others} 条" if others else "") + f"，共 {len(findings)} 条。"
    ws["A2"] = summary if findings else "未发现问题。"
    ws["A2"].font = Font(name=_FONT, size=11, bold=True)

    for i, (_key, label, width) in enumerate(columns, start=1):
        cell = ws.cell(FINDINGS_HEADER_ROW, i, label)
        cell.font = Font(name=_FONT, size=11, bold=True)
        cell.alignment = _CENTER
        cell.border = _BORDER
        cell.fill = _HEADER_FILL
        ws.column_dimensions[get_column_letter(i)].width = width
    for r, finding in enumerate(findings, start=FINDINGS_HEADER_ROW + 1):
        for i, (key, _label, _width) in enumerate(columns, start=1):
            value = finding.get(key)
            if key == "severity":
                value = SEVERITY_LABELS.get(value, value)
            elif isinstance(value, datetime.date):
                value = f"{value.year}-{value.month:02d}"
            cell = ws.cell(r, i, safe_text("" if value is None else value) or None)
            cell.border = _BORDER
            cell.alignment = Alignment(vertical="top", wrap_text=key == "message")
        fill = _SEVERITY_FILL.get(finding["severity"])
        if fill:
            ws.cell(r, 1).fill = fill
    ws.freeze_panes = f"A{FINDINGS_HEADER_ROW + 1}"
    if findings:
        ws.auto_filter.ref = f"A{FINDINGS_HEADER_ROW}:{last}{FINDINGS_HEADER_ROW + len(findings)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.creator = CREATOR
    wb.properties.title = safe_text(title)
    return _to_bytes(wb)


def _field_label(definition: FormDefinition | None, code: Any, month: Any) -> Any:
    if definition is None or not isinstance(code, str) or code not in definition.codes:
        return code
    return definition.field(code).label_for(month if isinstance(month, int) else None)
