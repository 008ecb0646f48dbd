"""Excel in and out for the returns of 004 §(十八)–(十九), driven by a `FormDefinition`.

- `monitoring_template` writes the official one-sheet layout of the 附件4 监测表 a bank fills in;
  `read_monitoring_workbook` reads it back, after recognising it as our template and refusing anything
  tampered with.
- `plan_template` / `read_plan_workbook` do the same for the 附件3 投放计划表 (a table: one row per
  region, 全省 and the two 增速 columns computed by formulas).
- `contacts_workbook` exports every institution's 附件2 联系人 for the officers.
- `bulk_template` / `iter_bulk_rows` are the flat layout a PBoC officer uses to import many institutions
  and months at once.
- `findings_report` writes the validation findings of an upload as a workbook.

Writing uses openpyxl; reading uses python-calamine for values (much faster than openpyxl) and zipfile
plus defusedxml for what calamine does not expose: sheet visibility, core properties and formulas.
Every reader runs the file-level checks of `reporting.uploads` first and turns any parser error into an
`UploadRejected`, so a bad upload never surfaces as an unhandled exception.

Reader codes (the file-level ones, U1xx, are in `reporting.uploads`):

    U201 the workbook cannot be read (damaged part, parser error)
    U202 not our template: no 监测表 (计划表) sheet
    U203 hidden or very hidden sheets
    U204 header or row labels moved, inserted or changed (names the cell and the expected label)
    U205 the period (年/月; the 年 of a 计划表) is missing from the title and properties, or they disagree
    U206 an input cell is a formula without a calculated value
    U207 a forbidden formula anywhere (HYPERLINK, DDE, WEBSERVICE, CALL/REGISTER/EXEC, other workbooks)
    U208 the template belongs to another edition (a 计划表: another year) of the form
    U210 not a bulk-import workbook: no 批量导入 sheet
    U211 bulk header columns missing or duplicated
    U212 too many bulk rows
"""

import datetime
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO
from typing import Any

from defusedxml import ElementTree as SafeET
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook

from reporting.definitions import CONTACTS_2022, ComputedDef, FieldDef, FormDefinition
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
BULK_HEADER_SEARCH_ROWS = 10

CREATOR = "小微企业专项行动报送门户"

_FONT = "宋体"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_UNLOCKED = Protection(locked=False)

_PERIOD_IN_TITLE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月")
_KEYWORDS = re.compile(r"^\s*([^;\s]+)\s*;\s*(\d{4})-(\d{1,2})\s*$")
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


# --- shared helpers -------------------------------------------------------------------------------------


def safe_text(value: Any) -> str:
    """Text for a cell that must never become a formula (CSV/formula injection, OWASP).

    A leading =, +, -, @, tab or CR gets a single-quote prefix; characters XML cannot hold are dropped.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    if text.startswith(_FORMULA_TRIGGERS):
        return "'" + text
    return text


def _unquote(text: str) -> str:
    """Undo `safe_text` on read: a quote protecting a formula trigger is not part of the value."""
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


def _norm_label(text: Any) -> str:
    """A header label compared without whitespace, line breaks or a trailing unit in brackets."""
    s = re.sub(r"\s+", "", str(text or ""))
    s = re.sub(r"[（(][^（）()]*[)）]$", "", s)
    return re.sub(r"^(\d{1,2}|X|x|Ｘ)月", "X月", s)


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


def _calamine_rows(data: bytes, sheet: str, nrows: int | None = None) -> list[list[Any]]:
    try:
        wb = CalamineWorkbook.from_object(BytesIO(data))
        return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False, nrows=nrows)
    except Exception as exc:  # python_calamine raises its own error types, plus ValueError/OSError
        raise _unreadable(exc) from exc


def _at(rows: list[list[Any]], row: int, col: int) -> Any:
    """1-based cell value from calamine rows; "" outside the data area (calamine trims rows)."""
    if row - 1 < len(rows):
        cells = rows[row - 1]
        if col - 1 < len(cells):
            return cells[col - 1]
    return ""


# --- 2. reading the monitoring template -------------------------------------------------------------


@dataclass(frozen=True)
class SheetUpload:
    """One 监测表 as read from an upload; `raw` holds the values as read, for the validation rules."""

    institution_name: str
    year: int
    month: int
    filer: str
    phone: str
    raw: dict[str, Any]  # code → float / int / str as read; None for an empty cell
    cells: dict[str, str]  # code → "B5"
    sheet: str = SHEET
    template_id: str = ""  # from the workbook's keywords; "" when they were lost
    formula_cells: tuple[str, ...] = ()  # input cells that hold a formula (with a calculated value)


def _after_label(text: str, label: str) -> str:
    """What was typed after the label in the label cell itself: 填报人：张三 → 张三."""
    text = text.strip()
    bare = label.rstrip("：:")
    for prefix in (label, bare + ":", bare):
        if text.startswith(prefix):
            return text[len(prefix) :].strip()
    return ""


def _period(definition: FormDefinition, title: str, keywords: str) -> tuple[int, int, str]:
    from_keywords = from_title = None
    template_id = ""
    kw = _KEYWORDS.match(keywords)
    # Keywords of the form "<id>;YYYY-MM" are ours when the id is of this form's family
    # ("xwqy-monitoring-…"); anything else is a user's own keywords and is ignored.
    family = definition.template_id.rsplit("-", 1)[0]
    if kw and family and kw.group(1).startswith(family):
        template_id = kw.group(1)
        if template_id != definition.template_id:
            raise UploadRejected(
                "U208",
                f"这是“{safe_text(template_id)[:40]}”的模板，不是本期要求的“{definition.template_id}”：请在门户重新下载本期模板填写。",
            )
        from_keywords = (int(kw.group(2)), int(kw.group(3)))
    match = _PERIOD_IN_TITLE.search(title)
    if match:
        from_title = (int(match.group(1)), int(match.group(2)))
    if from_keywords and from_title and from_keywords != from_title:
        raise UploadRejected(
            "U205",
            f"{SHEET}!A{TITLE_ROW} 标题中的“{from_title[0]}年{from_title[1]}月”与模板属性中的"
            f"“{from_keywords[0]}年{from_keywords[1]}月”不一致：请勿修改标题，在门户重新下载模板填写。",
        )
    period = from_keywords or from_title
    if period is None:
        raise UploadRejected(
            "U205",
            f"{SHEET}!A{TITLE_ROW} 的标题中找不到“YYYY年M月”：请勿修改标题，在门户重新下载模板填写。",
        )
    year, month = period
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise UploadRejected(
            "U205", f"{SHEET}!A{TITLE_ROW} 中的年月“{year}年{month}月”无效：请在门户重新下载模板填写。"
        )
    return year, month, template_id


def read_monitoring_workbook(data: bytes, definition: FormDefinition) -> SheetUpload:
    """Read a filled-in 监测表; raises UploadRejected for anything that is not our untampered template."""
    inspect_workbook_contents(data)
    info, specials = _scan_workbook(data)
    if info.sheet(SHEET) is None:
        found = "、".join(f"“{safe_text(s.name)[:31]}”" for s in info.sheets) or "无"
        raise UploadRejected(
            "U202",
            f"这不是本门户的监测表模板（找不到“{SHEET}”工作表，工作簿中只有 {found}）：请在门户下载模板，填写后上传。",
        )
    rows = _calamine_rows(data, SHEET, nrows=NOTES_ROW)
    year, month, template_id = _period(definition, str(_at(rows, TITLE_ROW, 1)), info.keywords)

    name_col = column_index_from_string(NAME_COLUMN)
    header = _at(rows, GROUP_ROW, name_col)
    if _norm_label(header) != NAME_HEADER:
        raise UploadRejected(
            "U204",
            f"{SHEET}!{NAME_COLUMN}{GROUP_ROW} 应为“{NAME_HEADER}”，实为“{safe_text(_text(header))[:40] or '空'}”："
            "请勿移动或插入行列，重新下载模板填写。",
        )
    for fd in definition.fields:
        actual = _at(rows, LABEL_ROW, column_index_from_string(fd.column))
        expected = fd.label_for(month)
        if _norm_label(actual) not in (_norm_label(expected), _norm_label(fd.label_for(None))):
            raise UploadRejected(
                "U204",
                f"{SHEET}!{fd.column}{LABEL_ROW} 应为“{expected}”，实为“{safe_text(_text(actual))[:40] or '空'}”："
                "请勿移动或插入列，重新下载模板填写。",
            )

    layout = _info_layout(definition)
    sheet_specials = specials.get(SHEET, {})
    input_cells = [layout.filer, layout.phone] + [f"{fd.column}{DATA_ROW}" for fd in definition.fields]
    for ref in input_cells:
        if _formula_problem(sheet_specials.get(ref)):
            raise UploadRejected(
                "U206",
                f"{SHEET}!{ref} 是公式且没有计算结果：请在 Excel 中重新计算并保存，或直接填写数值。",
            )

    def value_at(ref: str) -> Any:
        match = _CELL_REF.match(ref)
        return _at(rows, int(match.group(2)), column_index_from_string(match.group(1)))

    filer = _text(value_at(layout.filer)) or _after_label(_text(_at(rows, INFO_ROW, 1)), FILER_LABEL)
    phone = _text(value_at(layout.phone)) or _after_label(_text(value_at(layout.phone_label)), PHONE_LABEL)
    raw: dict[str, Any] = {}
    cells: dict[str, str] = {}
    for fd in definition.fields:
        ref = f"{fd.column}{DATA_ROW}"
        raw[fd.code] = _cell_value(value_at(ref), sheet_specials.get(ref))
        cells[fd.code] = ref
    return SheetUpload(
        institution_name=_text(_at(rows, DATA_ROW, name_col)),
        year=year,
        month=month,
        filer=filer,
        phone=phone,
        raw=raw,
        cells=cells,
        sheet=SHEET,
        template_id=template_id,
        formula_cells=tuple(
            ref for ref in input_cells if ref in sheet_specials and sheet_specials[ref].formula is not None
        ),
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

    @property
    def month(self) -> None:
        """An annual return has no month (lets period checks compare (year, month) for every form)."""
        return None


def _plan_year(definition: FormDefinition, title: str, keywords: str) -> tuple[int, str, str]:
    """(year, template id, institution name from the title) of a 计划表, from its keywords and title."""
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
    tail = re.sub(r"\s+", "", definition.title.format(institution=""))
    pattern = re.escape(tail).replace(re.escape(definition.edition), r"(\d{4})", 1)
    compact = re.sub(r"\s+", "", title)
    match = re.search(pattern + "$", compact)
    from_title = int(match.group(1)) if match and match.groups() else None
    name = compact[: match.start()] if match else ""
    if from_keywords and from_title and from_keywords != from_title:
        raise UploadRejected(
            "U205",
            f"{PLAN_SHEET}!A{TITLE_ROW} 标题中的“{from_title}年”与模板属性中的“{from_keywords}年”不一致："
            "请勿修改标题，在门户重新下载模板填写。",
        )
    year = from_keywords or from_title
    if year is None:
        raise UploadRejected(
            "U205",
            f"{PLAN_SHEET}!A{TITLE_ROW} 的标题应为“{definition.title.format(institution='（机构）')}”，"
            "找不到年度：请勿修改标题，在门户重新下载模板填写。",
        )
    if str(year) != definition.edition:
        raise UploadRejected(
            "U208",
            f"这是 {year} 年的计划表，不是本期要求的 {definition.edition} 年计划表："
            f"请在门户下载 {definition.edition} 年的模板填写。",
        )
    return year, template_id, name


def read_plan_workbook(data: bytes, definition: FormDefinition) -> TableUpload:
    """Read a filled-in 附件3 计划表; raises UploadRejected for anything that is not our untampered template.

    Only the regional input cells are read. Formulas in the 全省 row and the ratio columns are ours and
    are ignored (the portal recomputes them); a formula without a calculated value in an input cell, or a
    forbidden formula anywhere, is refused."""
    inspect_workbook_contents(data)
    info, specials = _scan_workbook(data)
    if info.sheet(PLAN_SHEET) is None:
        found = "、".join(f"“{safe_text(s.name)[:31]}”" for s in info.sheets) or "无"
        raise UploadRejected(
            "U202",
            f"这不是本门户的投放计划表模板（找不到“{PLAN_SHEET}”工作表，工作簿中只有 {found}）："
            "请在门户下载模板，填写后上传。",
        )
    numbers = _row_numbers(definition)
    rows = _calamine_rows(data, PLAN_SHEET, nrows=max(numbers.values()))
    year, template_id, title_name = _plan_year(definition, str(_at(rows, TITLE_ROW, 1)), info.keywords)

    header_top = min(numbers.values()) - 2
    corner = _at(rows, header_top, 1)
    if _norm_label(corner) not in ("", PLAN_ROW_HEADER):
        raise UploadRejected(
            "U204",
            f"{PLAN_SHEET}!A{header_top} 应为“{PLAN_ROW_HEADER}”，实为“{safe_text(_text(corner))[:40]}”："
            "请勿移动或插入行列，重新下载模板填写。",
        )
    for letter, label in _table_columns(definition):
        actual = _at(rows, header_top, column_index_from_string(letter))
        if _norm_label(actual) != _norm_label(label):
            raise UploadRejected(
                "U204",
                f"{PLAN_SHEET}!{letter}{header_top} 应为“{label}”，实为“{safe_text(_text(actual))[:40] or '空'}”："
                "请勿移动或插入列，重新下载模板填写。",
            )
    for row in definition.rows:
        r = numbers[row.code]
        actual = _norm_label(_at(rows, r, 1))
        if actual not in (_norm_label(row.label), _norm_label(row.label.removesuffix("分行"))):
            raise UploadRejected(
                "U204",
                f"{PLAN_SHEET}!A{r} 应为“{row.label}”，实为“{safe_text(_text(_at(rows, r, 1)))[:40] or '空'}”："
                "请勿移动、插入或删除行，重新下载模板填写。",
            )

    layout = _info_layout(definition)
    sheet_specials = specials.get(PLAN_SHEET, {})
    input_cells = [layout.filer, layout.phone] + [fd.cell for fd in definition.fields]
    for ref in input_cells:
        if _formula_problem(sheet_specials.get(ref)):
            raise UploadRejected(
                "U206",
                f"{PLAN_SHEET}!{ref} 是公式且没有计算结果：请在 Excel 中重新计算并保存，或直接填写数值。",
            )

    def value_at(ref: str) -> Any:
        match = _CELL_REF.match(ref)
        return _at(rows, int(match.group(2)), column_index_from_string(match.group(1)))

    filer = _text(value_at(layout.filer)) or _after_label(_text(_at(rows, INFO_ROW, 1)), FILER_LABEL)
    phone = _text(value_at(layout.phone)) or _after_label(_text(value_at(layout.phone_label)), PHONE_LABEL)
    return TableUpload(
        institution_name=_unquote(title_name) or info.subject,
        year=year,
        filer=filer,
        phone=phone,
        raw={
            fd.code: _cell_value(value_at(fd.cell), sheet_specials.get(fd.cell)) for fd in definition.fields
        },
        cells={fd.code: fd.cell for fd in definition.fields},
        sheet=PLAN_SHEET,
        template_id=template_id,
        formula_cells=tuple(
            ref for ref in input_cells if ref in sheet_specials and sheet_specials[ref].formula is not None
        ),
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


def _bulk_header(rows: list[list[Any]], definition: FormDefinition) -> tuple[int, dict[str, int]]:
    """Locate the header row (0-based) and map 机构代码/机构名称/月份 and field codes to column indexes."""
    wanted = {
        _norm_label(BULK_CODE_HEADER): "institution_code",
        _norm_label(BULK_NAME_HEADER): "institution_name",
        _norm_label(BULK_MONTH_HEADER): "month",
    }
    wanted.update({_norm_label(fd.label_for(None)): fd.code for fd in definition.fields})
    code_header = _norm_label(BULK_CODE_HEADER)
    for index, row in enumerate(rows[:BULK_HEADER_SEARCH_ROWS]):
        labels = [_norm_label(v) if isinstance(v, str) else "" for v in row]
        if code_header not in labels:
            continue
        mapping: dict[str, int] = {}
        for col, label in enumerate(labels):
            key = wanted.get(label)
            if key is None:
                continue
            if key in mapping:
                raise UploadRejected(
                    "U211",
                    f"{BULK_SHEET}!{get_column_letter(col + 1)}{index + 1} 的列“{label}”重复：每个列只能出现一次。",
                )
            mapping[key] = col
        required = ["institution_code", "month", *definition.codes]
        missing = [k for k in required if k not in mapping]
        if missing:
            labels_by_key = {v: k for k, v in wanted.items()}
            names = "、".join(f"“{labels_by_key[k]}”" for k in missing)
            raise UploadRejected(
                "U211",
                f"{BULK_SHEET} 第 {index + 1} 行表头缺少 {names}：请使用门户下载的批量导入模板，勿删改表头。",
            )
        return index, mapping
    raise UploadRejected(
        "U211",
        f"{BULK_SHEET} 前 {BULK_HEADER_SEARCH_ROWS} 行中找不到“{BULK_CODE_HEADER}”表头：请使用门户下载的批量导入模板。",
    )


def iter_bulk_rows(data: bytes, definition: FormDefinition) -> tuple[int, Iterator[BulkRow]]:
    """(number of data rows, iterator of BulkRow) from a 批量导入 workbook.

    File-level problems raise UploadRejected before anything is yielded; a row's own problem (no
    机构代码, an unreadable 月份, a formula without a value) is reported on that row instead.
    """
    inspect_workbook_contents(data)
    info, specials = _scan_workbook(data)
    if info.sheet(BULK_SHEET) is None:
        raise UploadRejected(
            "U210",
            f"这不是批量导入模板（找不到“{BULK_SHEET}”工作表）：请在门户下载批量导入模板，填写后上传。",
        )
    rows = _calamine_rows(data, BULK_SHEET)
    header_index, mapping = _bulk_header(rows, definition)

    start = header_index + 1
    if start < len(rows) and _is_unit_row(rows[start], mapping, definition):
        start += 1
    data_rows = [i for i in range(start, len(rows)) if any(v != "" and v is not None for v in rows[i])]
    if len(data_rows) > BULK_MAX_ROWS:
        raise UploadRejected(
            "U212",
            f"{BULK_SHEET} 有 {len(data_rows)} 行数据，超过一次导入的上限 {BULK_MAX_ROWS} 行：请分批导入。",
        )
    return len(data_rows), _bulk_rows(rows, data_rows, mapping, definition, specials.get(BULK_SHEET, {}))


def _is_unit_row(row: list[Any], mapping: dict[str, int], definition: FormDefinition) -> bool:
    cells = {
        fd.code: (row[mapping[fd.code]] if mapping[fd.code] < len(row) else "") for fd in definition.fields
    }
    if any(isinstance(v, int | float) and not isinstance(v, bool) for v in cells.values()):
        return False
    return any(str(cells[fd.code]).strip() == fd.unit for fd in definition.fields)


def _bulk_rows(
    rows: list[list[Any]],
    indexes: list[int],
    mapping: dict[str, int],
    definition: FormDefinition,
    specials: dict[str, _Special],
) -> Iterator[BulkRow]:
    letters = {key: get_column_letter(col + 1) for key, col in mapping.items()}
    code_col, month_col = mapping["institution_code"], mapping["month"]
    name_col = mapping.get("institution_name")
    field_cols = [(code, mapping[code], letters[code]) for code in definition.codes]
    for index in indexes:
        row = rows[index]
        width = len(row)
        row_no = index + 1
        errors = []
        code = _text(row[code_col]) if code_col < width else ""
        if not code:
            errors.append(f"{BULK_SHEET}!{letters['institution_code']}{row_no} 机构代码为空")
        month_value = row[month_col] if month_col < width else ""
        period = _parse_month(month_value)
        if period is None:
            shown = safe_text(_text(month_value))[:20] or "空"
            errors.append(
                f"{BULK_SHEET}!{letters['month']}{row_no} 月份“{shown}”无法识别：请填写“2022-03”这样的年-月"
            )
        raw: dict[str, Any] = {}
        cells: dict[str, str] = {}
        for field_code, col, letter in field_cols:
            ref = f"{letter}{row_no}"
            special = specials.get(ref)
            raw[field_code] = _cell_value(row[col] if col < width else "", special)
            cells[field_code] = f"{BULK_SHEET}!{ref}"
            if _formula_problem(special):
                errors.append(
                    f"{BULK_SHEET}!{ref} 是公式且没有计算结果：请在 Excel 中重新计算并保存，或直接填写数值"
                )
        yield BulkRow(
            row=row_no,
            institution_code=code,
            institution_name=_text(row[name_col]) if name_col is not None and name_col < width else "",
            year=period[0] if period else None,
            month=period[1] if period else None,
            raw=raw,
            cells=cells,
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
