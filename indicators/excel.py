"""Excel exports of the indicators (openpyxl): the province summary and the per-institution table.

Each workbook is written from the same context the page renders, so every exported number is the stored
value rounded exactly as the screen rounds it (`Indicator.rounded`), with a number format that shows the
same decimals. Units are in the headers; panes are frozen below the headers; an undefined value is "—"
with a comment saying why. Every text cell goes through portal.exports.safe_text (no formula injection).
"""

from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from portal.exports import safe_text

from . import indicators as ind

CREATOR = "小微企业专项行动报送门户"
_FONT = "宋体"
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_GROUP_FILL = PatternFill("solid", fgColor="F2F2F2")
_UNMET_FILL = PatternFill("solid", fgColor="FDECEA")
_WRAP = Alignment(wrap_text=True, vertical="center")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _header(ws, row: int, values: list[str], widths: list[int] | None = None) -> None:
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=safe_text(value))
        cell.font = Font(name=_FONT, bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = _CENTER
        cell.border = _BORDER
    for col, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _text(ws, row: int, col: int, value, *, bold=False):
    cell = ws.cell(row=row, column=col, value=safe_text(value))
    cell.font = Font(name=_FONT, bold=bold)
    cell.alignment = _WRAP
    cell.border = _BORDER
    return cell


def _number(ws, row: int, col: int, shown):
    """A `pages.Shown` as a cell: the rounded stored value with the indicator's format, or "—"."""
    indicator = shown.indicator
    value = indicator.rounded(shown.value.value)
    if value is None:
        cell = ws.cell(row=row, column=col, value="—")
        cell.comment = Comment(safe_text(shown.value.reason or "无法计算"), CREATOR)
        cell.alignment = Alignment(horizontal="right")
    elif indicator.test:
        cell = ws.cell(row=row, column=col, value=indicator.text(value))
        cell.alignment = Alignment(horizontal="center")
    else:
        cell = ws.cell(row=row, column=col, value=value)
        cell.number_format = indicator.excel_format
        if shown.partial or shown.value.provisional:
            note = []
            if shown.partial:
                note.append(f"基于 {shown.value.contributors}/{shown.value.members} 家机构")
            if shown.value.provisional:
                note.append("含未审核（已提交）数据")
            cell.comment = Comment(safe_text("；".join(note)), CREATOR)
    cell.font = Font(name=_FONT)
    cell.border = _BORDER
    return cell


def _basis(ws, row: int, col: int, shown):
    """n/N beside an aggregate figure: the members whose data it contains, of the scope's members."""
    members, contributors = shown.value.members, shown.value.contributors
    cell = ws.cell(row=row, column=col, value=f"{contributors}/{members}" if members else "—")
    cell.font = Font(name=_FONT, color="B26A00" if shown.partial else "000000")
    cell.alignment = Alignment(horizontal="center")
    cell.border = _BORDER
    return cell


def _title(ws, text: str, context: dict, span: int) -> None:
    ws["A1"] = safe_text(text)
    ws["A1"].font = Font(name=_FONT, bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(span, 1))
    as_of = context["as_of"]
    if context.get("live"):
        line = "含已提交、尚未审核通过的监测表（实时试算，未经审核，仅供参考）"
    elif as_of.run:
        # stored in UTC: the workbook reads in the portal's time zone (Asia/Shanghai), as the page does
        finished = timezone.localtime(as_of.finished_at)
        line = (
            f"数据截至 {finished:%Y-%m-%d %H:%M}"
            f"（已纳入最近一次审核通过：{timezone.localtime(as_of.latest_approval_at):%Y-%m-%d %H:%M}）"
            if as_of.latest_approval_at
            else f"数据截至 {finished:%Y-%m-%d %H:%M}"
        )
    else:
        line = "数据截至：尚未计算"
    ws["A2"] = safe_text(line + "。单位见各列标题；“—”表示无法计算，批注说明原因。")
    ws["A2"].font = Font(name=_FONT, color="5F6B7A")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=max(span, 1))


def _workbook() -> Workbook:
    wb = Workbook()
    wb.properties.creator = CREATOR
    return wb


def _bytes(wb: Workbook) -> bytes:
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _unit(indicator: ind.Indicator) -> str:
    return f"（{indicator.unit_label}）" if indicator.unit_label else ""


def province_summary(context: dict) -> bytes:
    """全省目标, 全省及分组/机构类型汇总, 报送及时性 — what the dashboard shows for the month."""
    year, month = context["year"], context["month"]
    wb = _workbook()

    ws = wb.active
    ws.title = "全省目标"
    _title(ws, f"{year}年{month}月 全省目标完成情况", context, 10)
    _header(
        ws,
        3,
        [
            "目标",
            "指标",
            "单位",
            "本月实际",
            "基于（家）",
            "目标",
            "完成进度",
            "时序进度",
            "是否达标",
            "说明",
        ],
        [34, 30, 8, 16, 11, 24, 12, 12, 10, 60],
    )
    row = 4
    for c in context["province_targets"]:
        _text(ws, row, 1, c.target.label)
        _text(ws, row, 2, c.indicator.label)
        _text(ws, row, 3, c.indicator.unit_label)
        _number(ws, row, 4, c)
        _basis(ws, row, 5, c)
        _text(ws, row, 6, c.target_text)
        progress = ws.cell(row=row, column=7, value=c.check.progress)
        progress.number_format = "0.0%"
        progress.border = _BORDER
        timep = ws.cell(row=row, column=8, value=c.check.time_progress)
        timep.number_format = "0.0%"
        timep.border = _BORDER
        status = _text(ws, row, 9, c.check.status)
        if c.check.met is False:
            status.fill = _UNMET_FILL
        _text(ws, row, 10, c.check.reason)
        row += 1
    ws.freeze_panes = "B4"

    ws = wb.create_sheet("汇总指标")
    scopes = context["scope_columns"] + context["kind_columns"]
    _title(ws, f"{year}年{month}月 监测指标汇总（全省、评估分组、机构类型）", context, 2 * len(scopes) + 3)
    # each figure with its basis beside it: how many of the scope's members it contains
    _header(
        ws,
        3,
        ["类别", "指标", "单位", *[h for _k, _key, label in scopes for h in (label, f"{label}基于（家）")]],
        [10, 36, 9, *([14, 9] * len(scopes))],
    )
    row = 4
    kind_cells = {i.code: cells for i, cells in context["kind_summary"]}
    for group, rows in context["summary"]:
        for indicator, cells in rows:
            _text(ws, row, 1, group)
            _text(ws, row, 2, indicator.label)
            _text(ws, row, 3, indicator.unit_label or "—")
            for n, cell in enumerate(cells + kind_cells.get(indicator.code, [])):
                _number(ws, row, 4 + 2 * n, cell)
                _basis(ws, row, 5 + 2 * n, cell)
            row += 1
    ws.freeze_panes = "D4"

    ws = wb.create_sheet("报送及时性")
    _title(ws, f"{year}年 报送率与按时报送率", context, 7)
    _header(
        ws,
        3,
        ["报送期", "截止日", "应报（家）", "已报（家）", "按时（家）", "报送率", "按时报送率"],
        [12, 12] + [12] * 5,
    )
    row = 4
    for t in context["timeliness"]:
        _text(ws, row, 1, t["period"].label)
        _text(ws, row, 2, f"{t['period'].due_on:%Y-%m-%d}")
        for col, key in ((3, "expected"), (4, "reported"), (5, "on_time")):
            ws.cell(row=row, column=col, value=t[key]).border = _BORDER
        for col, key in ((6, "reporting_rate"), (7, "on_time_rate")):
            cell = ws.cell(row=row, column=col, value=t[key] if t[key] is not None else "—")
            cell.number_format = "0.0%"
            cell.border = _BORDER
        row += 1
    ws.freeze_panes = "B4"
    return _bytes(wb)


def institution_table(context: dict) -> bytes:
    """机构指标 (one row per institution the user may see), 未达标目标, and for PBoC users 督导记录."""
    year, month = context["year"], context["month"]
    indicators = context["indicators"]
    wb = _workbook()
    ws = wb.active
    ws.title = "机构指标"
    _title(ws, f"{year}年{month}月 机构监测指标", context, len(indicators) + 3)
    # row 3: indicator groups; row 4: labels with units
    ws.cell(row=3, column=1, value="机构")
    ws.cell(row=3, column=2, value="评估分组")
    ws.cell(row=3, column=3, value="机构类型")
    col = 4
    for group, n in context["groups"]:
        ws.cell(row=3, column=col, value=safe_text(group))
        if n > 1:
            ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + n - 1)
        col += n
    _header(
        ws,
        4,
        ["机构", "评估分组", "机构类型", *[f"{i.label}{_unit(i)}" for i in indicators]],
        [14, 10, 14, *([15] * len(indicators))],
    )
    for c in range(1, len(indicators) + 4):
        cell = ws.cell(row=3, column=c)
        cell.font = Font(name=_FONT, bold=True)
        cell.fill = _GROUP_FILL
        cell.alignment = _CENTER
    for c in (1, 2, 3):
        ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
    row = 5
    for r in context["rows"]:
        name = _text(ws, row, 1, r["institution"]["short_name"])
        if r["failing"]:
            name.fill = _UNMET_FILL
            name.comment = Comment(
                safe_text("未达标：" + "；".join(f["target"].label for f in r["failing"])), CREATOR
            )
        _text(ws, row, 2, r["group"])
        _text(ws, row, 3, r["kind"])
        for col, cell in enumerate(r["cells"], start=4):
            written = _number(ws, row, col, cell)
            if cell.check is not None and cell.check.met is False:
                written.fill = _UNMET_FILL
        row += 1
    ws.freeze_panes = "D5"

    ws = wb.create_sheet("未达标目标")
    _title(ws, f"{year}年{month}月 未达标目标", context, 5)
    _header(ws, 3, ["机构", "目标", "指标", "本月实际", "目标值"], [14, 34, 30, 16, 26])
    row = 4
    for r in context["rows"]:
        for f in r["failing"]:
            indicator = ind.get(f["target"].indicator)
            _text(ws, row, 1, r["institution"]["short_name"])
            _text(ws, row, 2, f["target"].label)
            _text(ws, row, 3, f"{indicator.label}{_unit(indicator)}")
            shown = next(c for c in r["cells"] if c.indicator.code == indicator.code)
            _number(ws, row, 4, shown)
            _text(ws, row, 5, f["text"])
            row += 1
    ws.freeze_panes = "B4"

    if context.get("supervision"):
        ws = wb.create_sheet("督导记录")
        _title(ws, "督导记录", context, 6)
        _header(ws, 3, ["日期", "机构", "方式", "原因", "后续跟进", "记录人"], [12, 14, 10, 40, 40, 12])
        row = 4
        for a in context["supervision"]:
            _text(ws, row, 1, f"{a.taken_on:%Y-%m-%d}")
            _text(ws, row, 2, a.institution.short_name)
            _text(ws, row, 3, a.get_kind_display())
            _text(ws, row, 4, a.reason)
            _text(ws, row, 5, a.follow_up)
            _text(ws, row, 6, str(a.recorded_by))
            row += 1
        ws.freeze_panes = "A4"
    return _bytes(wb)
