"""The result table as an Excel workbook in the layout of 附件1: title, two header rows (the 定性 and 定量
families over their items), one row per institution with its group merged down the 分组 column, scores as
numbers shown with two decimals, and the notes (grading rule, overridden grades with their reasons).

Every text cell that comes from people — names, reasons, notes — goes through `portal.exports.safe_text`,
so nothing in the workbook can turn into a formula.
"""

from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from portal.exports import safe_text

from . import scoring
from .grading import GRADE_LABELS
from .models import ItemKind

_FONT = "宋体"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
SCORE_FORMAT = "0.00"
CREATOR = "小微企业专项行动报送门户"


def result_workbook(table) -> bytes:
    evaluation = table.evaluation
    wb = Workbook()
    ws = wb.active
    ws.title = "评估结果"
    items = table.ordered_items
    last = 4 + len(items)
    last_letter = get_column_letter(last)

    ws.merge_cells(f"A1:{last_letter}1")
    ws["A1"] = safe_text(f"{evaluation.title}结果")
    ws["A1"].font = Font(name=_FONT, size=16, bold=True)
    ws["A1"].alignment = _CENTER
    ws.row_dimensions[1].height = 30
    ws.merge_cells(f"A2:{last_letter}2")
    status = (
        f"{timezone.localtime(evaluation.published_at):%Y年%m月%d日}发布"
        if evaluation.published_at
        else ("模拟测算草稿，未发布" if evaluation.is_what_if else "草稿，未发布")
    )
    ws["A2"] = safe_text(f"{status} · {evaluation.jurisdiction.name}")
    ws["A2"].alignment = _CENTER
    ws["A2"].font = Font(name=_FONT, size=10, color="5F6B7A")

    for col, label in enumerate(["机构", "分组", "组间评估结果", "总分"], start=1):
        ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
        ws.cell(row=3, column=col, value=label)
    col = 5
    for label, weight, members in table.families:
        ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + len(members) - 1)
        ws.cell(row=3, column=col, value=f"{label}指标（{weight.normalize():f}分）")
        for item in members:
            ws.cell(row=4, column=col, value=safe_text(f"{item.name}（{item.weight.normalize():f}）"))
            col += 1
    for row in ws.iter_rows(min_row=3, max_row=4, min_col=1, max_col=last):
        for cell in row:
            cell.font = Font(name=_FONT, size=11, bold=True)
            cell.alignment = _CENTER
            cell.border = _BORDER
            cell.fill = _HEADER_FILL
    ws.row_dimensions[4].height = 32

    r = 5
    for group_name, rows in table.groups():
        first = r
        for row in rows:
            ws.cell(row=r, column=1, value=safe_text(row.name))
            ws.cell(row=r, column=2, value=safe_text(group_name))
            ws.cell(row=r, column=3, value=safe_text(row.grade_label + ("*" if row.overridden else "")))
            ws.cell(row=r, column=4, value=scoring.half_up(row.total)).number_format = SCORE_FORMAT
            for i, (s, item) in enumerate(zip(row.scores, items, strict=True)):
                qualitative = item.kind == ItemKind.QUALITATIVE
                cell = ws.cell(row=r, column=5 + i, value=scoring.half_up(s))
                cell.number_format = scoring.item_number_format(s, qualitative=qualitative)  # 18, not 18.00
            for c in range(1, last + 1):
                cell = ws.cell(row=r, column=c)
                cell.border = _BORDER
                cell.font = Font(name=_FONT, size=11)
                cell.alignment = _CENTER if c <= 3 else Alignment(horizontal="right", vertical="center")
            r += 1
        if r - 1 > first:
            ws.merge_cells(start_row=first, start_column=2, end_row=r - 1, end_column=2)

    notes = [
        f"评级规则：{table.grading_text}。",
        "各项得分保留两位小数（四舍五入）；总分由未舍入的分项得分相加后舍入，可能与表中分项之和相差 0.01。",
    ]
    notes += [
        f"* {row.name}：按规则为{GRADE_LABELS[row.computed_grade]}，经调整为{row.grade_label}。理由：{row.override_reason}"
        for row in table.overridden
    ]
    if evaluation.note:
        notes.append(f"说明：{evaluation.note}")
    r += 1
    for note in notes:
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last)
        cell = ws.cell(row=r, column=1, value=safe_text(note))
        cell.alignment = _LEFT
        cell.font = Font(name=_FONT, size=10)
        ws.row_dimensions[r].height = 15 * (1 + len(note) // 80)
        r += 1

    widths = [14, 8, 14, 10] + [16] * len(items)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "B5"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.print_title_rows = "3:4"
    wb.properties.creator = CREATOR
    wb.properties.title = safe_text(f"{evaluation.title}结果")
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
