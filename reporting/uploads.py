"""File-level safety checks on an uploaded workbook, before any parser touches the bytes.

The portal accepts one kind of file: a plain .xlsx (Office Open XML spreadsheet). Everything else is
refused with a stable code and a Chinese message that says what is wrong and what to do. The checks look
at the content, never only the file name: a bank's system may export "Excel" files that are really HTML,
and a renamed PDF is still a PDF.

Codes (stable; the upload page and the API return them):

    U101 empty file                  U106 a zip that is not an .xlsx workbook, or a damaged zip
    U102 larger than the size limit  U107 macros (.xlsm, vbaProject.bin, Excel 4.0 macro sheets, ActiveX)
    U103 legacy .xls (OLE2/CFB)      U108 zip bomb (too many members, too large uncompressed, ratio)
    U104 password-protected .xlsx    U109 XML with <!DOCTYPE / <!ENTITY (billion laughs, XXE)
    U105 not an Excel file at all    U110 external links to other workbooks
                                     U111 embedded objects (OLE packages, files inside the workbook)

Document returns (工作方案 004 §(十八), 经验做法 004 §(二十)) accept a PDF or a Word .docx, checked by
`inspect_document` with the same zip and XML defences:

    D101 empty file                  D107 password-protected (encrypted PDF or Word file)
    D102 larger than the size limit  D108 PDF with active content (JavaScript, Launch, embedded files)
    D103 legacy .doc (OLE2/CFB)      D109 macros (.docm, vbaProject.bin) or ActiveX controls
    D104 neither PDF nor .docx       D110 zip bomb (too many members, too large uncompressed, ratio)
    D105 named .pdf/.doc(x), but the D111 XML with <!DOCTYPE / <!ENTITY
         content is something else   D112 damaged .docx (zip unreadable, duplicate parts)
    D106 a PDF that is cut short     D113 a template or object loaded from outside the document
         (no %%EOF at the end)
"""

import codecs
import hashlib
import re
import zipfile
import zlib
from dataclasses import dataclass
from io import BytesIO

MB = 1024 * 1024

# Zip-bomb limits (checked on the central directory, then enforced again while streaming).
MAX_MEMBERS = 1000
# A worksheet's cells must lie within this range. python-calamine allocates the whole used range, so one
# stray cell at XFD1048576 in a 7 KB file would ask for hundreds of GB; bulk imports are ≤ 20,010 × 64.
MAX_SHEET_ROWS = 25_000
MAX_SHEET_COLUMNS = 200
MAX_UNCOMPRESSED_BYTES = 100 * MB
MAX_RATIO = 100
RATIO_MIN_SIZE = 1 * MB

CHUNK = 256 * 1024

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

# Markup declarations have no business in a workbook part; any of them means a DTD (entity expansion,
# external entities). Checked in UTF-8 and both UTF-16 byte orders, case-insensitively.
_XML_TRAPS = tuple(
    token.encode(encoding)
    for token in ("<!doctype", "<!entity")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_TRAP_OVERLAP = max(len(t) for t in _XML_TRAPS)
_XML_SUFFIXES = (".xml", ".rels", ".vml")


@dataclass(frozen=True)
class _Package:
    """How the shared zip checks speak about one kind of OOXML package: its codes and its advice."""

    bomb_code: str
    xml_code: str
    bomb_advice: str
    xml_advice: str


_WORKBOOK = _Package(
    bomb_code="U108",
    xml_code="U109",
    bomb_advice="请上传从门户下载并填写的 .xlsx 模板。",
    xml_advice="正常的 Excel 文件不会有，已拒收：请用 Excel 打开后另存为 .xlsx 再上传。",
)
_WORD = _Package(
    bomb_code="D110",
    xml_code="D111",
    bomb_advice="请用 Word 打开后另存为 .docx，或导出为 PDF 后上传。",
    xml_advice="正常的 Word 文档不会有，已拒收：请用 Word 打开后另存为 .docx，或导出为 PDF 后上传。",
)


class UploadRejected(Exception):
    """An uploaded file the portal refuses; `code` is stable, `message` is for the filer (Chinese)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inspect_workbook(data: bytes, filename: str, max_bytes: int, *, size: int | None = None) -> None:
    """Refuse anything that is not a plain, safe .xlsx of at most `max_bytes` bytes."""
    if not data:
        raise UploadRejected("U101", f"{_name(filename)}是空文件（0 字节）：请确认文件已保存后重新上传。")
    size = max(len(data), size or 0)  # the caller may have read only max_bytes + 1 of a larger file
    if size > max_bytes:
        raise UploadRejected(
            "U102",
            f"{_name(filename)}大小为 {_mb(size)}，超过上限 {_mb(max_bytes)}："
            "请删除多余的工作表、图片后另存为 .xlsx 再上传。",
        )
    inspect_workbook_contents(data, filename)


def inspect_workbook_contents(data: bytes, filename: str = "") -> None:
    """The content checks of `inspect_workbook` without the size limit (readers call this defensively)."""
    if not data:
        raise UploadRejected("U101", f"{_name(filename)}是空文件（0 字节）：请确认文件已保存后重新上传。")
    if data.startswith(CFB_MAGIC):
        _reject_cfb(data, filename)
    if not data.startswith(ZIP_MAGICS):
        raise UploadRejected("U105", _not_excel_message(data, filename))
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            _check_zip(zf, filename)
    except UploadRejected:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise UploadRejected(
            "U106",
            f"{_name(filename)}已损坏，无法作为 .xlsx 读取（{type(exc).__name__}）：请用 Excel 打开后另存为 .xlsx 再上传。",
        ) from exc


# --- OLE2 / CFB ---------------------------------------------------------------------------------------


def _reject_cfb(data: bytes, filename: str):
    def has(stream: str) -> bool:
        return stream.encode("utf-16-le") in data or stream.encode("ascii") in data

    if has("EncryptionInfo") or has("EncryptedPackage"):
        raise UploadRejected(
            "U104",
            f"{_name(filename)}：工作簿设置了打开密码，门户无法读取，请取消密码后上传"
            "（Excel 中“文件 → 信息 → 保护工作簿 → 用密码进行加密”，清空密码并保存）。",
        )
    if has("WordDocument"):
        raise UploadRejected(
            "U105", f"{_name(filename)}不是 Excel 工作簿（是 Word 文档）：请上传从门户下载的 .xlsx 模板。"
        )
    if has("PowerPoint Document"):
        raise UploadRejected(
            "U105", f"{_name(filename)}不是 Excel 工作簿（是 PowerPoint 文档）：请上传 .xlsx 模板。"
        )
    raise UploadRejected(
        "U103",
        f"{_name(filename)}是旧版 Excel 97-2003 格式（.xls）：请在 Excel 中“另存为 → Excel 工作簿 (*.xlsx)”后上传。",
    )


def _sniff(head: bytes) -> str | None:
    """What the first bytes of a file look like, as a short Chinese phrase ("是图片"), or None."""
    if head.startswith(b"%PDF"):
        return "是 PDF 文件"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
        return "是图片"
    if head.startswith((b"Rar!", b"7z\xbc\xaf")) or head[:2] == b"\x1f\x8b":
        return "是压缩包"
    text = _as_text(head)
    if text is None:
        return None
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
        return "是“XML 电子表格 2003”格式（只是扩展名像 Excel）"
    if lowered.startswith("{\\rtf"):
        return "是 RTF 文档"
    if lowered.startswith("mime-version:") or "multipart/related" in lowered[:2048]:
        return "是单个网页文件（.mht）"
    if lowered.startswith("<") and any(t in lowered for t in ("<html", "<table", "<!doctype html")):
        return "是网页（HTML）文件"
    if any(sep in text for sep in (",", "\t", "，")):
        return "是文本/CSV 文件"
    return "是纯文本文件"


def _not_excel_message(data: bytes, filename: str) -> str:
    what = _sniff(data[:4096])
    if what == "是网页（HTML）文件":
        what += "（一些系统导出的“Excel”其实是网页）"
    if what:
        return f"{_name(filename)}不是 Excel 工作簿（{what}）：请用 Excel 打开后“另存为 → Excel 工作簿 (*.xlsx)”，或上传从门户下载的模板。"
    return f"{_name(filename)}不是 Excel 工作簿：请上传从门户下载并填写的 .xlsx 模板。"


def _as_text(head: bytes) -> str | None:
    """The sample decoded as text, or None when it looks binary (a cut multi-byte character is fine)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    elif b"\x00" in head:
        return None
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
    return None


# --- OOXML zip ---------------------------------------------------------------------------------------


def _check_zip(zf: zipfile.ZipFile, filename: str) -> None:
    infos = zf.infolist()
    _check_bomb(infos, filename, _WORKBOOK)

    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise UploadRejected(
            "U106", f"{_name(filename)}的压缩结构异常（有重名的部件）：请用 Excel 打开后另存为 .xlsx 再上传。"
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise UploadRejected(
            "U106",
            f"{_name(filename)}被压缩软件加了密码，不是 Excel 工作簿：请上传从门户下载并填写的 .xlsx 模板。",
        )
    lower = {n.lower() for n in names}
    if "[content_types].xml" not in lower or "xl/workbook.xml" not in lower:
        raise UploadRejected("U106", _not_workbook_zip_message(lower, zf, filename))

    content_types = zf.read(_exact(names, "[Content_Types].xml"))[:MB].lower()
    if (
        any(n.endswith("vbaproject.bin") or n.startswith(("xl/macrosheets/", "xl/activex/")) for n in lower)
        or b"macroenabled" in content_types
        or b"vbaproject" in content_types
    ):
        raise UploadRejected(
            "U107",
            f"{_name(filename)}是启用宏的工作簿（.xlsm）或含有宏、ActiveX 控件，门户不接收：请另存为“Excel 工作簿 (*.xlsx)”后上传。",
        )
    if any(n.startswith("xl/externallinks/") for n in lower):
        raise UploadRejected(
            "U110",
            f"{_name(filename)}含有指向其他工作簿的外部链接：请在 Excel 中“数据 → 编辑链接 → 断开链接”，"
            "或把公式改为数值后保存，再上传。",
        )
    if any(n.startswith("xl/embeddings/") for n in lower):
        raise UploadRejected(
            "U111", f"{_name(filename)}含有嵌入的对象或文件：请删除嵌入对象，只保留表格数据后上传。"
        )
    _stream_members(zf, infos, filename, _WORKBOOK)


def _check_bomb(infos: list[zipfile.ZipInfo], filename: str, package: _Package) -> None:
    message = None
    total = sum(i.file_size for i in infos)
    if len(infos) > MAX_MEMBERS:
        message = f"压缩部件有 {len(infos)} 个，超过 {MAX_MEMBERS} 个"
    elif total > MAX_UNCOMPRESSED_BYTES:
        message = f"解压后共 {_mb(total)}，超过 {_mb(MAX_UNCOMPRESSED_BYTES)}"
    else:
        for info in infos:
            if info.file_size > RATIO_MIN_SIZE and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                message = f"部件 {info.filename[:80]} 的压缩比超过 {MAX_RATIO} 倍"
                break
    if message:
        raise UploadRejected(
            package.bomb_code,
            f"{_name(filename)}的结构异常（{message}），疑似压缩炸弹，已拒收：{package.bomb_advice}",
        )


def _stream_members(
    zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], filename: str, package: _Package
) -> None:
    """Read every member once, in bounded chunks: verifies CRCs and declared sizes, and scans XML parts.

    zipfile never returns more than a member's declared size and checks its CRC at the end, so a member
    that lies about its size in the directory fails here rather than inside a parser.
    """
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        is_xml = info.filename.lower().endswith(_XML_SUFFIXES)
        is_worksheet = package is _WORKBOOK and info.filename.lower().startswith("xl/worksheets/")
        tail = b""
        first = True
        with zf.open(info) as member:
            while chunk := member.read(CHUNK):
                total += len(chunk)
                if total > MAX_UNCOMPRESSED_BYTES:
                    raise UploadRejected(
                        package.bomb_code,
                        f"{_name(filename)}解压后超过 {_mb(MAX_UNCOMPRESSED_BYTES)}，疑似压缩炸弹，已拒收。",
                    )
                if first:
                    is_xml = is_xml or chunk.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00").startswith(b"<")
                    first = False
                if is_worksheet:
                    _check_extent(tail + chunk, info.filename, filename, package)
                if is_xml:
                    window = (tail + chunk).lower()
                    if any(trap in window for trap in _XML_TRAPS):
                        raise UploadRejected(
                            package.xml_code,
                            f"{_name(filename)}的部件 {info.filename[:80]} 含有 XML 文档类型/实体声明（<!DOCTYPE、<!ENTITY），"
                            + package.xml_advice,
                        )
                    tail = chunk[-max(_TRAP_OVERLAP, 64) :]


_CELL_REF = re.compile(rb'\b(?:r|ref)="\$?([A-Z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Z]{1,3})\$?([0-9]{1,7}))?"')


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ch - 64)
    return number


def _check_extent(window: bytes, member: str, filename: str, package: "_Package") -> None:
    """Refuse a sheet with a cell (or a declared range) beyond MAX_SHEET_ROWS × MAX_SHEET_COLUMNS."""
    refs = _CELL_REF.findall(window)
    if not refs:
        return
    # the largest row and column among the distinct references (a sheet repeats a few dozen column letters and
    # each row number many times); only a window that goes beyond is walked for the reference to name
    first_letters, first_digits, last_letters, last_digits = zip(*refs, strict=True)
    letters = (set(first_letters) | set(last_letters)) - {b""}
    digits = (set(first_digits) | set(last_digits)) - {b""}
    if max(map(int, digits)) <= MAX_SHEET_ROWS and max(map(_column_number, letters)) <= MAX_SHEET_COLUMNS:
        return
    for match in _CELL_REF.finditer(window):
        for letters, digits in ((match.group(1), match.group(2)), (match.group(3), match.group(4))):
            if letters is None:
                continue
            row, column = int(digits), _column_number(letters)
            if row > MAX_SHEET_ROWS or column > MAX_SHEET_COLUMNS:
                cell = (letters + digits).decode()
                raise UploadRejected(
                    "U112",
                    f"{_name(filename)}的工作表（{member.rsplit('/', 1)[-1]}）在 {cell} 处有内容，超出门户接收的范围"
                    f"（最多 {MAX_SHEET_ROWS} 行、{MAX_SHEET_COLUMNS} 列）：请删除表格以外的单元格（含空格、格式）后"
                    "另存为 .xlsx 再上传。",
                )


def _not_workbook_zip_message(lower: set[str], zf: zipfile.ZipFile, filename: str) -> str:
    if "xl/workbook.bin" in lower:
        what = "是 Excel 二进制工作簿（.xlsb）"
    elif "word/document.xml" in lower:
        what = "是 Word 文档"
    elif "ppt/presentation.xml" in lower:
        what = "是 PowerPoint 文档"
    elif "mimetype" in lower and b"opendocument" in _safe_read(zf, "mimetype"):
        what = "是 OpenDocument（.ods/.odt）文件"
    else:
        what = "是普通压缩包"
    return f"{_name(filename)}不是 .xlsx 工作簿（{what}）：请用 Excel 打开后“另存为 → Excel 工作簿 (*.xlsx)”再上传。"


def _safe_read(zf: zipfile.ZipFile, name: str) -> bytes:
    with zf.open(name) as member:
        return member.read(200)


def _exact(names: list[str], wanted: str) -> str:
    return next(n for n in names if n.lower() == wanted.lower())


def _mb(size: int) -> str:
    if size % MB == 0:
        return f"{size // MB} MB"
    if size < MB // 10:
        return f"{size / 1024:.0f} KB"
    return f"{size / MB:.1f} MB"


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]")


def _name(filename: str) -> str:
    """The file's base name, quoted for a message (never a path, never control characters)."""
    base = _UNSAFE_NAME.sub("", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not base:
        return "文件"
    return f"“{base[:80]}”"


# --- documents: 工作方案, 经验做法 (PDF or .docx) -------------------------------------------------------

PDF, DOCX = "pdf", "docx"
DOCUMENT_CONTENT_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
PDF_HEADER_WINDOW = 1024  # ISO 32000: readers accept the %PDF- header within the first 1024 bytes
PDF_TRAILER_WINDOW = 2048
ACCEPTED_DOCUMENTS = "只接受 PDF 或 Word（.docx）文件"

# PDF names that run something or carry files: refused wherever they appear as a dictionary name.
_PDF_ACTIVE = {
    b"JavaScript": "JavaScript 脚本",
    b"JS": "JavaScript 脚本",
    b"Launch": "启动外部程序（Launch）",
    b"EmbeddedFile": "嵌入的附件",
    b"EmbeddedFiles": "嵌入的附件",
    b"RichMedia": "嵌入的多媒体（RichMedia）",
}
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /<>\[\]()%{}]*)")
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n|\r)")
_PDF_ENDSTREAM = b"endstream"
_PDF_DICT_LOOKBACK = 4096  # where a stream's dictionary is looked for, before the "stream" keyword

_WORD_MAIN = "word/document.xml"
# External relationships of these types make Word fetch something when the file is opened
# (remote-template injection, linked OLE objects).
_WORD_EXTERNAL_TYPES = (b"/attachedtemplate", b"/oleobject", b"/subdocument", b"/frame")
_EXTERNAL_REL = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>", re.I)


def document_kind(head: bytes) -> str:
    """ "pdf" or "docx" for a file `inspect_document` accepted (from its first bytes)."""
    return PDF if b"%PDF-" in head[:PDF_HEADER_WINDOW] and not head.startswith(ZIP_MAGICS) else DOCX


def inspect_document(data: bytes, filename: str, max_bytes: int, *, size: int | None = None) -> str:
    """ "pdf" or "docx" for a safe document of at most `max_bytes` bytes; UploadRejected (D1xx) otherwise.

    The content decides, never the name: a PDF named .docx is accepted as a PDF, and a web page named
    .pdf is refused. The name only makes the message more precise."""
    if not data:
        raise UploadRejected("D101", f"{_name(filename)}是空文件（0 字节）：请确认文件已保存后重新上传。")
    size = max(len(data), size or 0)  # the caller may have read only max_bytes + 1 of a larger file
    if size > max_bytes:
        raise UploadRejected(
            "D102",
            f"{_name(filename)}大小为 {_mb(size)}，超过上限 {_mb(max_bytes)}："
            "请压缩文档中的图片，或导出为 PDF 后再上传。",
        )
    if data.startswith(ZIP_MAGICS):
        _inspect_docx(data, filename)
        return DOCX
    if data.startswith(CFB_MAGIC):
        _reject_cfb_document(data, filename)
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        _inspect_pdf(data, filename)
        return PDF
    raise UploadRejected(*_not_a_document(data, filename))


def _extension(filename: str) -> str:
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _not_a_document(data: bytes, filename: str, what: str | None = None) -> tuple[str, str]:
    what = what or _sniff(data[:4096]) or "格式无法识别"
    ext = _extension(filename)
    if ext in ("pdf", "docx", "doc"):
        return (
            "D105",
            f"{_name(filename)}的扩展名是 .{ext}，但内容不是 {'PDF' if ext == 'pdf' else 'Word 文档'}（{what}），"
            "可能是改了扩展名或导出不完整：请用 Word/WPS 打开原文档，“另存为 .docx”或“导出为 PDF”后上传。",
        )
    return (
        "D104",
        f"{_name(filename)}不能作为文档上传（{what}）：{ACCEPTED_DOCUMENTS}，"
        "请用 Word/WPS 打开后“另存为 .docx”或“导出为 PDF”再上传。",
    )


# --- PDF ---------------------------------------------------------------------------------------------


def _inspect_pdf(data: bytes, filename: str) -> None:
    if b"%%EOF" not in data[-PDF_TRAILER_WINDOW:]:
        raise UploadRejected(
            "D106",
            f"{_name(filename)}以 PDF 开头，但文件不完整（结尾没有 %%EOF），可能下载或保存时中断，"
            "也可能不是真正的 PDF：请重新“导出为 PDF”后上传。",
        )
    outside, object_streams = _pdf_syntax(data)
    names = _pdf_names(outside)
    if b"Encrypt" in names:
        raise UploadRejected(
            "D107",
            f"{_name(filename)}设置了密码或权限加密，门户无法预览，请取消密码后上传"
            "（在 PDF 软件中删除文档的打开密码和权限密码，或从原文档重新导出 PDF）。",
        )
    for stream in object_streams:
        names |= _pdf_names(stream)
    active = sorted({label for name, label in _PDF_ACTIVE.items() if name in names})
    if active:
        raise UploadRejected(
            "D108",
            f"{_name(filename)}含有{'、'.join(active)}，可能在打开时执行操作，门户不接收："
            "请从原文档重新“导出为 PDF”（不要附加脚本或附件）后上传。",
        )


def _pdf_syntax(data: bytes) -> tuple[bytes, list[bytes]]:
    """The PDF's object syntax outside its streams, and the decompressed object streams (/ObjStm), where
    PDF 1.5+ files keep dictionaries. Other streams (pages, fonts, images) are skipped: random bytes in an
    image must not read as a name. Decompression shares the zip limit, so a PDF can't be a bomb either."""
    outside: list[bytes] = []
    streams: list[bytes] = []
    budget = MAX_UNCOMPRESSED_BYTES
    pos = 0
    while (match := _PDF_STREAM.search(data, pos)) is not None:
        outside.append(data[pos : match.start()])
        end = data.find(_PDF_ENDSTREAM, match.end())
        end = len(data) if end < 0 else end
        header = _pdf_names(data[max(pos, match.start() - _PDF_DICT_LOOKBACK) : match.start()])
        if b"ObjStm" in header and b"FlateDecode" in header and budget > 0:
            inflater = zlib.decompressobj()
            try:
                chunk = inflater.decompress(data[match.end() : end], budget + 1)
            except zlib.error:
                chunk = b""  # a damaged stream is the viewer's problem, not a threat
            budget -= len(chunk)
            if budget < 0:
                raise UploadRejected(
                    "D110",
                    f"PDF 中的对象流解压后超过 {_mb(MAX_UNCOMPRESSED_BYTES)}，疑似压缩炸弹，已拒收："
                    "请从原文档重新“导出为 PDF”后上传。",
                )
            streams.append(chunk)
        pos = end + len(_PDF_ENDSTREAM)
    outside.append(data[pos:])
    return b"".join(outside), streams


def _pdf_names(syntax: bytes) -> set[bytes]:
    """Every /Name in a piece of PDF syntax, with #xx escapes decoded (/Java#53cript is /JavaScript)."""
    names = set()
    for match in _PDF_NAME.finditer(syntax):
        name = match.group(1)
        if b"#" in name:
            name = _PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        names.add(name)
    return names


# --- Word ---------------------------------------------------------------------------------------------


def _reject_cfb_document(data: bytes, filename: str):
    def has(stream: str) -> bool:
        return stream.encode("utf-16-le") in data or stream.encode("ascii") in data

    if has("EncryptionInfo") or has("EncryptedPackage"):
        raise UploadRejected(
            "D107",
            f"{_name(filename)}设置了打开密码，门户无法预览，请取消密码后上传"
            "（Word 中“文件 → 信息 → 保护文档 → 用密码进行加密”，清空密码并保存）。",
        )
    if has("Workbook") or has("Book"):
        raise UploadRejected(*_not_a_document(data, filename, "是 Excel 97-2003 工作簿"))
    if has("PowerPoint Document"):
        raise UploadRejected(*_not_a_document(data, filename, "是 PowerPoint 演示文稿"))
    raise UploadRejected(
        "D103",
        f"{_name(filename)}是旧版 Word 97-2003 格式（.doc）或 WPS 格式：请在 Word/WPS 中"
        "“另存为 → Word 文档 (*.docx)”，或“导出为 PDF”后上传。",
    )


def _inspect_docx(data: bytes, filename: str) -> None:
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            infos = zf.infolist()
            _check_bomb(infos, filename, _WORD)
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise UploadRejected(
                    "D112",
                    f"{_name(filename)}的压缩结构异常（有重名的部件）：请用 Word 打开后另存为 .docx 再上传。",
                )
            lower = {n.lower() for n in names}
            if any(i.flag_bits & 0x1 for i in infos):
                raise UploadRejected(*_not_a_document(data, filename, "是加了密码的压缩包"))
            if "[content_types].xml" not in lower or _WORD_MAIN not in lower:
                raise UploadRejected(*_not_a_document(data, filename, _zip_kind(lower, zf)))
            content_types = zf.read(_exact(names, "[Content_Types].xml"))[:MB].lower()
            if (
                any(n.endswith("vbaproject.bin") or n.startswith("word/activex/") for n in lower)
                or b"macroenabled" in content_types
                or b"vbaproject" in content_types
            ):
                raise UploadRejected(
                    "D109",
                    f"{_name(filename)}是启用宏的 Word 文档（.docm）或含有宏、ActiveX 控件，门户不接收："
                    "请另存为“Word 文档 (*.docx)”或导出为 PDF 后上传。",
                )
            _stream_members(zf, infos, filename, _WORD)
            _check_external_parts(zf, names, filename)
    except UploadRejected:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise UploadRejected(
            "D112",
            f"{_name(filename)}已损坏，无法作为 .docx 读取（{type(exc).__name__}）："
            "请用 Word 打开后另存为 .docx，或导出为 PDF 后上传。",
        ) from exc


def _zip_kind(lower: set[str], zf: zipfile.ZipFile) -> str:
    if "xl/workbook.xml" in lower or "xl/workbook.bin" in lower:
        return "是 Excel 工作簿"
    if "ppt/presentation.xml" in lower:
        return "是 PowerPoint 演示文稿"
    if "mimetype" in lower and b"opendocument" in _safe_read(zf, _exact(list(zf.namelist()), "mimetype")):
        return "是 OpenDocument（.odt/.ods）文件"
    if "[content_types].xml" in lower:
        return "是缺少正文（word/document.xml）的 Office 文件"
    return "是普通压缩包"


def _check_external_parts(zf: zipfile.ZipFile, names: list[str], filename: str) -> None:
    """Refuse a template, OLE object, frame or subdocument that Word would fetch from outside the file."""
    for name in names:
        if not name.lower().endswith(".rels"):
            continue
        xml = zf.read(name)[:MB]
        for match in _EXTERNAL_REL.finditer(xml):
            rel = match.group(0).lower()
            if b"external" in rel and any(t in rel for t in _WORD_EXTERNAL_TYPES):
                raise UploadRejected(
                    "D113",
                    f"{_name(filename)}引用了文档以外的模板或对象（{name[:80]}），打开时会从外部加载内容，门户不接收："
                    "请在 Word 中取消附加的模板、断开链接的对象后另存为 .docx，或导出为 PDF 后上传。",
                )
