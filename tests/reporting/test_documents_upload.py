"""File checks on the document returns (工作方案 004 §(十八), 经验做法 004 §(二十)): a PDF or a Word .docx,
decided by content. Pure: no database."""

import zipfile
import zlib
from io import BytesIO

import pytest

from reporting.uploads import CFB_MAGIC, UploadRejected, document_kind, inspect_document

MAX = 10 * 1024 * 1024

PDF = (
    b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"xref\n0 3\n0000000000 65535 f \ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n9\n%%EOF\n"
)

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.{main}"/>'
    "</Types>"
)
DOCUMENT_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>工商银行专项行动工作方案</w:t></w:r></w:p></w:body></w:document>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>'
)


def docx(*, main="document.main+xml", extra: dict[str, str | bytes] | None = None, drop=()) -> bytes:
    parts = {
        "[Content_Types].xml": CONTENT_TYPES.format(main=main),
        "_rels/.rels": ROOT_RELS,
        "word/document.xml": DOCUMENT_XML,
        **(extra or {}),
    }
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            if name not in drop:
                zf.writestr(name, content)
    return out.getvalue()


def refused(data: bytes, filename: str = "工作方案.pdf", max_bytes: int = MAX) -> tuple[str, str]:
    with pytest.raises(UploadRejected) as exc:
        inspect_document(data, filename, max_bytes)
    return exc.value.code, exc.value.message


def cfb(*streams: str) -> bytes:
    return CFB_MAGIC + b"\x00" * 504 + b"".join(s.encode("utf-16-le") + b"\x00\x00" for s in streams)


def with_object_stream(pdf: bytes, objects: bytes) -> bytes:
    body = zlib.compress(objects)
    stream = (
        b"3 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(body)
        + body
        + b"\nendstream\nendobj\n"
    )
    return pdf.replace(b"xref\n", stream + b"xref\n")


# --- accepted --------------------------------------------------------------------------------------------


def test_minimal_pdf_is_accepted_as_pdf():
    assert inspect_document(PDF, "工作方案.pdf", MAX) == "pdf"
    assert document_kind(PDF[:2048]) == "pdf"


def test_minimal_docx_is_accepted_as_docx():
    data = docx()
    assert inspect_document(data, "工作方案.docx", MAX) == "docx"
    assert document_kind(data[:2048]) == "docx"


def test_content_decides_not_the_name():
    assert inspect_document(PDF, "工作方案.docx", MAX) == "pdf"
    assert inspect_document(docx(), "经验做法.pdf", MAX) == "docx"
    assert inspect_document(PDF, "无扩展名", MAX) == "pdf"


def test_pdf_header_after_a_few_leading_bytes_is_accepted():
    assert inspect_document(b"\r\n\xef\xbb\xbf" + PDF, "a.pdf", MAX) == "pdf"
    code, message = refused(b" " * 1024 + PDF)  # beyond the first 1024 bytes: not a PDF header
    assert code == "D105" and "内容不是 PDF" in message


def test_images_and_streams_that_happen_to_contain_js_bytes_are_not_active_content():
    image = (
        b"4 0 obj\n<< /Subtype /Image /Length 40 >>\nstream\n"
        + b"/JS /Launch " * 4
        + b"\nendstream\nendobj\n"
    )
    assert inspect_document(PDF.replace(b"xref\n", image + b"xref\n"), "a.pdf", MAX) == "pdf"


def test_docx_with_a_chart_workbook_embedded_is_accepted():
    data = docx(extra={"word/embeddings/Microsoft_Excel_Worksheet.xlsx": b"PK\x05\x06" + b"\x00" * 18})
    assert inspect_document(data, "经验做法.docx", MAX) == "docx"


# --- refused: size and emptiness ----------------------------------------------------------------------


def test_empty_file_is_refused_D101():
    code, message = refused(b"", "工作方案.pdf")
    assert code == "D101" and "空文件" in message and "工作方案.pdf" in message


def test_file_over_the_limit_is_refused_with_size_and_limit_D102():
    data = PDF + b"%" + b"x" * (3 * 1024 * 1024)
    code, message = refused(data, "a.pdf", max_bytes=2 * 1024 * 1024)
    assert code == "D102" and "3.0 MB" in message and "超过上限 2 MB" in message


# --- refused: not a PDF or a .docx --------------------------------------------------------------------


def test_legacy_doc_is_refused_with_save_as_advice_D103():
    code, message = refused(cfb("Root Entry", "WordDocument", "1Table"), "工作方案.doc")
    assert code == "D103" and "请在 Word/WPS 中" in message and ".docx" in message and "PDF" in message


@pytest.mark.parametrize(
    "data, filename, what",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "方案.png", "图片"),
        (cfb("Root Entry", "Workbook"), "方案.xls", "Excel"),
        (b"hello", "方案.txt", "纯文本"),
    ],
)
def test_other_types_are_refused_D104(data, filename, what):
    code, message = refused(data, filename)
    assert code == "D104" and "只接受 PDF 或 Word（.docx）文件" in message and what in message


def test_xlsx_is_refused_D104():
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    code, message = refused(out.getvalue(), "工作方案.xlsx")
    assert code == "D104" and "是 Excel 工作簿" in message and "只接受 PDF 或 Word（.docx）文件" in message


def test_plain_zip_is_refused_D104():
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("方案.pdf", PDF)
    code, message = refused(out.getvalue(), "材料.zip")
    assert code == "D104" and "普通压缩包" in message


@pytest.mark.parametrize(
    "data, what",
    [
        (
            b"<!DOCTYPE html><html><body>\xe5\xb7\xa5\xe4\xbd\x9c\xe6\x96\xb9\xe6\xa1\x88</body></html>",
            "HTML",
        ),
        (b"%!PS-Adobe-3.0\n%%EOF\n", "文本"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "压缩包"),
    ],
)
def test_a_pdf_name_on_something_else_is_refused_D105(data, what):
    code, message = refused(data, "工作方案.pdf")
    assert code == "D105" and "扩展名是 .pdf" in message and "内容不是 PDF" in message and what in message


def test_a_word_web_page_named_doc_is_refused_D105():
    code, message = refused(b"MIME-Version: 1.0\nContent-Type: multipart/related;", "经验做法.doc")
    assert code == "D105" and "内容不是 Word 文档" in message and ".mht" in message


def test_truncated_pdf_is_refused_D106():
    code, message = refused(PDF[: len(PDF) // 2])
    assert code == "D106" and "不完整" in message and "%%EOF" in message


# --- refused: encryption and active content -------------------------------------------------------------


def test_encrypted_pdf_is_refused_D107():
    data = PDF.replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 5 0 R")
    code, message = refused(data)
    assert code == "D107" and "无法预览，请取消密码" in message


def test_password_protected_word_file_is_refused_D107():
    code, message = refused(cfb("EncryptionInfo", "EncryptedPackage"), "工作方案.docx")
    assert code == "D107" and "请取消密码" in message


@pytest.mark.parametrize(
    "name, label",
    [
        (b"/JavaScript", "JavaScript"),
        (b"/Java#53cript", "JavaScript"),  # hex-escaped name: the same name to a PDF reader
        (b"/Launch", "Launch"),
        (b"/EmbeddedFile", "嵌入的附件"),
    ],
)
def test_pdf_with_active_content_is_refused_D108(name, label):
    data = PDF.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S " + name + b" >>")
    code, message = refused(data)
    assert code == "D108" and label in message


def test_active_content_hidden_in_a_compressed_object_stream_is_refused_D108():
    data = with_object_stream(PDF, b"6 0 << /S /JavaScript /JS (app.alert(1)) >>")
    code, message = refused(data)
    assert code == "D108" and "JavaScript" in message


def test_macro_enabled_docm_is_refused_D109():
    code, message = refused(docx(main="document.macroEnabled.main+xml"), "工作方案.docx")
    assert code == "D109" and ".docm" in message

    code, _ = refused(docx(extra={"word/vbaProject.bin": b"\x00" * 64}), "工作方案.docx")
    assert code == "D109"


def test_docx_with_activex_is_refused_D109():
    code, _ = refused(docx(extra={"word/activeX/activeX1.xml": "<ax/>"}), "工作方案.docx")
    assert code == "D109"


# --- refused: zip and XML traps ------------------------------------------------------------------------


def test_zip_bomb_docx_is_refused_D110():
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES.format(main="document.main+xml"))
        zf.writestr("word/document.xml", DOCUMENT_XML)
        with zf.open("word/media/big.bin", "w") as member:
            for _ in range(20):
                member.write(bytes(1024 * 1024))
    code, message = refused(out.getvalue(), "工作方案.docx")
    assert code == "D110" and "压缩炸弹" in message and "Word" in message


def test_docx_with_entity_declarations_is_refused_D111():
    laughs = DOCUMENT_XML.replace("?>", '?><!DOCTYPE lolz [<!ENTITY lol "lol">]>', 1)
    code, message = refused(docx(extra={"word/document.xml": laughs}), "工作方案.docx")
    assert code == "D111" and "word/document.xml" in message and "Word" in message


def test_damaged_docx_is_refused_D112():
    data = docx()
    code, message = refused(data[: len(data) // 2], "工作方案.docx")
    assert code == "D112" and "已损坏" in message


def test_docx_loading_a_remote_template_is_refused_D113():
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'attachedTemplate" Target="http://203.0.113.9/t.dotm" TargetMode="External"/></Relationships>'
    )
    code, message = refused(docx(extra={"word/_rels/settings.xml.rels": rels}), "工作方案.docx")
    assert code == "D113" and "word/_rels/settings.xml.rels" in message


def test_docx_with_an_ordinary_external_hyperlink_is_accepted():
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'hyperlink" Target="http://www.pbc.gov.cn/" TargetMode="External"/></Relationships>'
    )
    assert inspect_document(docx(extra={"word/_rels/document.xml.rels": rels}), "a.docx", MAX) == "docx"
