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
"""

import codecs
import hashlib
import re
import zipfile
from io import BytesIO

MB = 1024 * 1024

# Zip-bomb limits (checked on the central directory, then enforced again while streaming).
MAX_MEMBERS = 1000
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


class UploadRejected(Exception):
    """An uploaded file the portal refuses; `code` is stable, `message` is for the filer (Chinese)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inspect_workbook(data: bytes, filename: str, max_bytes: int) -> None:
    """Refuse anything that is not a plain, safe .xlsx of at most `max_bytes` bytes."""
    if not data:
        raise UploadRejected("U101", f"{_name(filename)}是空文件（0 字节）：请确认文件已保存后重新上传。")
    if len(data) > max_bytes:
        raise UploadRejected(
            "U102",
            f"{_name(filename)}大小为 {_mb(len(data))}，超过上限 {_mb(max_bytes)}："
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


def _not_excel_message(data: bytes, filename: str) -> str:
    head = data[:4096]
    what = None
    if head.startswith(b"%PDF"):
        what = "是 PDF 文件"
    elif head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
        what = "是图片"
    elif head.startswith((b"Rar!", b"7z\xbc\xaf")) or head[:2] == b"\x1f\x8b":
        what = "是压缩包"
    else:
        text = _as_text(head)
        if text is not None:
            lowered = text.lstrip("\ufeff \t\r\n").lower()
            if "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
                what = "是“XML 电子表格 2003”格式（只是扩展名像 Excel）"
            elif lowered.startswith("<") and any(t in lowered for t in ("<html", "<table", "<!doctype html")):
                what = "是网页（HTML）文件（一些系统导出的“Excel”其实是网页）"
            elif any(sep in text for sep in (",", "\t", "，")):
                what = "是文本/CSV 文件"
            else:
                what = "是纯文本文件"
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
    _check_bomb(infos, filename)

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
    _stream_members(zf, infos, filename)


def _check_bomb(infos: list[zipfile.ZipInfo], filename: str) -> None:
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
            "U108",
            f"{_name(filename)}的结构异常（{message}），疑似压缩炸弹，已拒收：请上传从门户下载并填写的 .xlsx 模板。",
        )


def _stream_members(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], filename: str) -> None:
    """Read every member once, in bounded chunks: verifies CRCs and declared sizes, and scans XML parts.

    zipfile never returns more than a member's declared size and checks its CRC at the end, so a member
    that lies about its size in the directory fails here rather than inside a parser.
    """
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        is_xml = info.filename.lower().endswith(_XML_SUFFIXES)
        tail = b""
        first = True
        with zf.open(info) as member:
            while chunk := member.read(CHUNK):
                total += len(chunk)
                if total > MAX_UNCOMPRESSED_BYTES:
                    raise UploadRejected(
                        "U108",
                        f"{_name(filename)}解压后超过 {_mb(MAX_UNCOMPRESSED_BYTES)}，疑似压缩炸弹，已拒收。",
                    )
                if first:
                    is_xml = is_xml or chunk.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00").startswith(b"<")
                    first = False
                if is_xml:
                    window = (tail + chunk).lower()
                    if any(trap in window for trap in _XML_TRAPS):
                        raise UploadRejected(
                            "U109",
                            f"{_name(filename)}的部件 {info.filename[:80]} 含有 XML 文档类型/实体声明（<!DOCTYPE、<!ENTITY），"
                            "正常的 Excel 文件不会有，已拒收：请用 Excel 打开后另存为 .xlsx 再上传。",
                        )
                    tail = chunk[-_TRAP_OVERLAP:]


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
