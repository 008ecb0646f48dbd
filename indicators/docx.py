"""The bulletin as a Word document (.docx, python-docx) the branch edits further: the same title, data
cut-off and paragraphs as the page and the PDF, and the same tables, in 宋体 / 黑体."""

from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

BODY_FONT, HEADING_FONT = "宋体", "黑体"


def _font(run, name: str, size: float | None = None, bold: bool = False, colour: str | None = None):
    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size:
        run.font.size = Pt(size)
    run.bold = bold
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour)
    return run


def _table(doc, header: list[str], rows: list[list[str]]):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(text), BODY_FONT, 9, bold=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(str(text)), BODY_FONT, 9)
    return table


def _heading(doc, text: str, size: float = 12):
    p = doc.add_paragraph()
    _font(p.add_run(text), HEADING_FONT, size, bold=True)
    return p


def bulletin_docx(bulletin) -> bytes:
    content = bulletin.content or {}
    doc = Document()
    doc.core_properties.title = bulletin.title
    doc.core_properties.author = str(bulletin.office)
    normal = doc.styles["Normal"]
    normal.font.name = BODY_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    normal.font.size = Pt(11)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(bulletin.title), HEADING_FONT, 16, bold=True, colour="A4161A")
    version = f"第{bulletin.version}版" if bulletin.version else "草稿，未发布"
    cutoff = f"{bulletin.data_cutoff:%Y-%m-%d %H:%M}" if bulletin.data_cutoff else "—"
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(sub.add_run(f"{bulletin.office} · {version} · 数据截至 {cutoff}"), BODY_FONT, 9, colour="5F6B7A")

    for n, p in enumerate(bulletin.paragraphs, start=1):
        _heading(doc, f"{n}. {p['heading']}")
        body = doc.add_paragraph()
        body.paragraph_format.first_line_indent = Pt(22)
        _font(body.add_run(p["text"]), BODY_FONT, 11)

    if content.get("empty"):
        return _bytes(doc)
    if content.get("targets"):
        _heading(doc, "附表1 全省目标完成情况", 11)
        _table(
            doc,
            ["目标", "本月实际", "基于（家）", "目标值", "完成进度", "时序进度", "判断"],
            [
                [
                    t["target"],
                    t["text"],
                    t["basis"] or "—",
                    t["target_text"],
                    t["progress"] or "—",
                    t["time_progress"] or "—",
                    t["status"],
                ]
                for t in content["targets"]
            ],
        )
    if content.get("rankings"):
        _heading(doc, "附表2 分组排名", 11)
        header = ["机构", *[f"{r['label']}（{r['unit']}）" for r in content["ranked"]]]
        for g in content["rankings"]:
            _font(
                doc.add_paragraph().add_run(f"{g['group']}（组内 {g['size']} 家）"), BODY_FONT, 10, bold=True
            )
            _table(
                doc,
                header,
                [
                    [
                        row["name"],
                        *[
                            f"{c['text']}（{c['rank']}/{c['of']}）" if c["rank"] else c["text"]
                            for c in row["cells"]
                        ],
                    ]
                    for row in g["rows"]
                ],
            )
    if content.get("failing"):
        _heading(doc, "附表3 工作不到位的机构", 11)
        _table(
            doc,
            ["机构", "未达标目标（实际 / 目标 / 差距）", "本年已采取的督导"],
            [
                [
                    f["name"],
                    "\n".join(
                        f"{t['target']}：{t['actual']} / {t['target_text']}（{t['gap']}）"
                        for t in f["targets"]
                    ),
                    "\n".join(f"{a['date']} {a['kind']}" for a in f["actions"]) or "—",
                ]
                for f in content["failing"]
            ],
        )
    p = content.get("punctuality") or {}
    if p.get("expected"):
        _heading(doc, "附表4 报送情况", 11)
        _table(
            doc,
            ["情况", "家数", "机构"],
            [
                ["按时报送", len(p["on_time"]), "、".join(p["on_time"]) or "—"],
                ["逾期报送", len(p["late"]), "、".join(p["late"]) or "—"],
                ["未报送", len(p["missing"]), "、".join(p["missing"]) or "—"],
            ],
        )
    return _bytes(doc)


def _bytes(doc) -> bytes:
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
