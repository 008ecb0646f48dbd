"""Properties of the readers, checked with Hypothesis over inputs nobody would write by hand.

- Any cell value — text in any script, floats incl. NaN and ±inf, integers of any size, booleans, None,
  Decimals incl. NaN/sNaN/huge exponents, dates and times — goes through parsing.parse_values and
  rules.validate for the 附件4, 附件3 and 附件2 definitions without raising, and what comes out can be
  stored as JSON and read back unchanged.
- Numbers written the way people write them (thousands separators, full-width digits, the field's unit)
  read as the number.
- Any bytes, and mutated copies of the portal's own workbooks, through inspect_workbook and the readers
  raise nothing but UploadRejected; any bytes through inspect_document likewise.

The workbook mutations change values, types, formulas, sheet names and states, properties and the zip
itself, but never a cell reference: one far-away reference makes python-calamine allocate the whole grid
and abort the process (see tests/hostile: far_cell.xlsx), which would take this test run down with it.

Pure: no database. Derandomized with a fixed number of examples, so a run is reproducible and quick.
"""

import datetime
import io
import json
import math
import re
import zipfile
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reporting import excel, parsing, rules
from reporting.definitions import CONTACTS_2022, MONITORING_2022, plan_definition
from reporting.uploads import UploadRejected, inspect_document, inspect_workbook

PLAN_2022 = plan_definition(2022)
MAX = 10 * 1024 * 1024
FAST = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEWER = settings(FAST, max_examples=60)

# --- cell values ---------------------------------------------------------------------------------------

TYPED = st.sampled_from(
    [
        "",
        " ",
        "\u3000",
        "0",
        "-0",
        "1,234.5",
        "1，234.5",
        "１２３．４５",
        "－５",
        "3.85%",
        "120亿元",
        "45BP",
        "3,456户",
        "12万元",
        "#DIV/0!",
        "#N/A",
        "=1+1",
        "=cmd|' /C calc'!A0",
        "1e5",
        "1E+400",
        "0x10",
        "١٢٣",
        "𝟏𝟐𝟑",
        "NaN",
        "inf",
        "--1",
        "1..2",
        ".",
        "+",
        ",",
        "1,23",
        "9" * 40,
        "0." + "0" * 30 + "1",
    ]
)
CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15),
    st.decimals(),
    st.decimals(allow_nan=False, allow_infinity=False, places=6),
    st.text(max_size=30),
    TYPED,
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
    st.lists(st.integers(), max_size=2),
    st.binary(max_size=8),
)
FINITE = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12)
NEIGHBOUR = st.none() | st.dictionaries(st.sampled_from(MONITORING_2022.codes), st.none() | FINITE)


def raw_values(definition, max_size: int):
    return st.dictionaries(st.sampled_from(definition.codes), CELL, max_size=max_size)


def check_round_trip(definition, raw: dict, month: int | None, **context):
    values, findings = parsing.parse_values(definition, raw, month=month)
    ctx = rules.Context(
        definition=definition,
        year=2022,
        month=month,
        values=values,
        unparsed=frozenset(f.field for f in findings),
        **context,
    )
    found = rules.sort_findings(findings + rules.validate(ctx))
    derived = definition.derive(values)

    assert set(values) == set(definition.codes)
    for fd in definition.fields:
        value = values[fd.code]
        if fd.is_number:
            assert value is None or (
                isinstance(value, Decimal) and value.is_finite() and value.adjusted() < 20
            )
        else:
            assert value is None or (isinstance(value, str) and value == value.strip() and value)
    unreadable = {f.field for f in findings}
    assert all(raw.get(code) is not None for code in unreadable)
    for f in found:
        assert rules.rule(f.rule).severity == f.severity and f.message
        assert f.field is None or f.field in definition.codes
    # what save_version stores must be JSON and read back as the same numbers
    stored = json.loads(json.dumps({**parsing.values_to_json({**values, **derived})}))
    assert json.loads(json.dumps([f.as_dict() for f in found]))
    back = parsing.values_from_json(stored, definition)
    assert {code: back[code] for code in definition.codes} == values


@FAST
@given(raw=raw_values(MONITORING_2022, 11), month=st.integers(1, 12), previous=NEIGHBOUR, last_year=NEIGHBOUR)
def test_any_cell_values_of_a_monthly_sheet_are_parsed_and_validated_without_raising(
    raw, month, previous, last_year
):
    stocks = [f.code for f in MONITORING_2022.fields if f.kind == "stock"]
    changes = {code: [Decimal(i) / 10 for i in range(-3, 4)] for code in stocks}
    check_round_trip(
        MONITORING_2022, raw, month, previous=previous, last_year=last_year, group_changes=changes
    )


@FEWER
@given(
    raw=raw_values(PLAN_2022, 40),
    related=st.fixed_dictionaries(
        {"balance_prev_dec": st.none() | FINITE, "balance_march": st.none() | FINITE}
    ),
)
def test_any_cell_values_of_a_plan_are_parsed_and_validated_without_raising(raw, related):
    check_round_trip(PLAN_2022, raw, None, related=related)


@FAST
@given(raw=raw_values(CONTACTS_2022, 18))
def test_any_cell_values_of_the_contacts_are_parsed_and_validated_without_raising(raw):
    check_round_trip(CONTACTS_2022, raw, None)


# --- numbers as people write them ----------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@FAST
@given(
    value=st.decimals(min_value=-(10**11), max_value=10**11, places=4, allow_nan=False, allow_infinity=False),
    full_width=st.booleans(),
    unit=st.sampled_from(["", "亿元", "亿", " 亿元"]),
)
def test_amounts_with_separators_full_width_digits_and_the_unit_read_as_the_number(value, full_width, unit):
    fd = MONITORING_2022.field("loan_balance")
    text = f"{value:,}"
    if full_width:
        text = text.translate(FULL_WIDTH)
    parsed, problem = parsing.parse_value(text + unit, fd)
    assert (parsed, problem) == (value, None)


@FAST
@given(number=st.integers(min_value=-(10**19) + 1, max_value=10**19 - 1))
def test_integers_below_twenty_digits_are_read_exactly(number):
    parsed, problem = parsing.parse_value(number, MONITORING_2022.field("borrowers"))
    assert (parsed, problem) == (Decimal(number), None)


@FAST
@given(number=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_floats_are_read_within_the_fields_rounding_headroom(number):
    fd = MONITORING_2022.field("loan_balance")
    parsed, problem = parsing.parse_value(number, fd)
    assert problem is None
    # the float as Excel shows it (its shortest repr), rounded to the field's decimals + 6
    assert abs(parsed - Decimal(repr(number))) <= Decimal(1).scaleb(-(fd.decimals + 6)) / 2


@FAST
@given(
    number=st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda x: not math.isfinite(x) or abs(x) >= 1e20
    )
)
def test_nan_infinity_and_absurd_magnitudes_are_e102_not_a_number(number):
    parsed, problem = parsing.parse_value(number, MONITORING_2022.field("loan_balance"))
    assert parsed is None and problem and "不是数值" in problem


# --- bytes through the file checks and the readers -----------------------------------------------------


def template(kind: str) -> bytes:
    """The portal's own template, filled in (so that input cells carry values to mutate)."""
    if kind == "plan":
        values = {fd.code: Decimal("1.5") for fd in PLAN_2022.fields}
        return excel.plan_template(PLAN_2022, institution_name="工商银行", values=values)
    values = {fd.code: Decimal(7) for fd in MONITORING_2022.fields}
    return excel.monitoring_template(
        MONITORING_2022, institution_name="工商银行", year=2022, month=3, values=values
    )


TEMPLATES = {kind: template(kind) for kind in ("monthly", "plan")}


def read(data: bytes, kind: str):
    """The reader of a kind, after the file check — what save_workbook does."""
    inspect_workbook(data, "fuzz.xlsx", MAX)
    if kind == "plan":
        return excel.read_plan_workbook(data, PLAN_2022)
    return excel.read_monitoring_workbook(data, MONITORING_2022)


def only_upload_rejected(data: bytes, kind: str):
    try:
        return read(data, kind)
    except UploadRejected as exc:
        assert re.fullmatch(r"U[12]\d\d", exc.code) and exc.message
        return None


MAGICS = st.sampled_from(
    [b"", b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"%PDF-1.7\n", b"<html>"]
)


@FAST
@given(head=MAGICS, body=st.binary(max_size=2048), kind=st.sampled_from(["monthly", "plan"]))
def test_arbitrary_bytes_through_the_workbook_readers_only_raise_upload_rejected(head, body, kind):
    only_upload_rejected(head + body, kind)


# Mutations of one part's XML text that keep every cell reference (r="…", ref="…") as it is.
_VALUE = re.compile(r"<v>[^<]*</v>")
_TEXT = re.compile(r"<t(?: [^>]*)?>[^<]*</t>")
_TYPE = re.compile(r'(<c r="[A-Z]+\d+"[^>]*?)( t="[a-zA-Z]+")?( s="\d+")?>')
_SHEET_ATTRS = re.compile(r'<sheet name="[^"]*"')
_PROPERTY = re.compile(r"(<(?:dc:title|cp:keywords|dc:subject)>)[^<]*(</)")

XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="<>&\x00"), max_size=40
)


@st.composite
def mutation(draw):
    kind = draw(
        st.sampled_from(["value", "text", "type", "formula", "sheet", "property", "drop", "bytes", "cut"])
    )
    return kind, draw(XML_TEXT), draw(st.integers(0, 10**6)), draw(st.binary(min_size=1, max_size=16))


def _mutate_xml(xml: str, kind: str, text: str, where: int) -> str:
    def nth(pattern, replace):
        matches = list(pattern.finditer(xml))
        if not matches:
            return xml
        m = matches[where % len(matches)]
        return xml[: m.start()] + replace(m) + xml[m.end() :]

    if kind == "value":
        return nth(_VALUE, lambda m: f"<v>{text}</v>")
    if kind == "text":
        return nth(_TEXT, lambda m: f"<t>{text}</t>")
    if kind == "type":
        types = ["s", "str", "e", "b", "n", "inlineStr", "d", text[:5] or "x"]
        return nth(_TYPE, lambda m: f'{m.group(1)} t="{types[where % len(types)]}"{m.group(3) or ""}>')
    if kind == "formula":
        return nth(_VALUE, lambda m: f"<f>{text}</f>" + (m.group(0) if where % 2 else ""))
    if kind == "sheet":
        states = [' state="hidden"', ' state="veryHidden"', ""]
        return nth(_SHEET_ATTRS, lambda m: f'<sheet name="{text[:31]}"{states[where % 3]}')
    return nth(_PROPERTY, lambda m: f"{m.group(1)}{text}{m.group(2)}")


def mutated(data: bytes, steps) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {info.filename: zf.read(info.filename) for info in zf.infolist()}
    raw_cut = None
    for kind, text, where, noise in steps:
        names = sorted(parts)
        name = names[where % len(names)]
        if kind == "drop":
            parts.pop(name)
        elif kind == "bytes":
            content = parts[name]
            at = where % (len(content) + 1)
            parts[name] = content[:at] + noise + content[at + len(noise) :]
        elif kind == "cut":
            raw_cut = where
        else:
            xml_part = {"sheet": "xl/workbook.xml", "property": "docProps/core.xml"}.get(kind, "")
            target = (
                xml_part
                if xml_part in parts
                else next((n for n in names if n.startswith(("xl/worksheets/", "xl/sharedStrings"))), name)
            )
            parts[target] = _mutate_xml(parts[target].decode("utf-8", "replace"), kind, text, where).encode(
                "utf-8"
            )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    result = out.getvalue()
    return result[: raw_cut % (len(result) + 1)] if raw_cut is not None else result


@FAST
@given(kind=st.sampled_from(["monthly", "plan"]), steps=st.lists(mutation(), min_size=1, max_size=4))
def test_mutated_templates_through_the_readers_only_raise_upload_rejected(kind, steps):
    data = mutated(TEMPLATES[kind], steps)
    assume(data != TEMPLATES[kind])
    sheet = only_upload_rejected(data, kind)
    if sheet is not None:
        assert set(sheet.raw) == {f.code for f in (PLAN_2022 if kind == "plan" else MONITORING_2022).fields}


def test_the_mutations_reach_the_readers_and_are_refused_for_what_they_are():
    """The mutations are not all stopped at the zip: each kind reaches the reader's own checks."""
    monthly = TEMPLATES["monthly"]
    codes = {}
    for kind, text, where in [
        ("formula", "B5*2", 0),
        ("type", "x", 2),
        ("text", "x", 9),  # the heading X月末普惠小微信用贷款余额
    ]:
        with pytest.raises(UploadRejected) as exc:
            read(mutated(monthly, [(kind, text, where, b"x")]), "monthly")
        codes[kind] = exc.value.code
    assert codes == {"formula": "U206", "type": "U201", "text": "U204"}
    renamed = read(mutated(monthly, [("sheet", "Sheet1", 2, b"x")]), "monthly")  # found by its headings
    assert renamed.sheet == "Sheet1"
    sheet = read(mutated(monthly, [("value", "12.5", 0, b"x")]), "monthly")
    assert 12.5 in sheet.raw.values()


# --- bytes through the document check ------------------------------------------------------------------

PDF_PIECES = st.lists(
    st.sampled_from(
        [
            b"%PDF-1.7\n",
            b"1 0 obj\n<< /Type /Catalog >>\nendobj\n",
            b"stream\n",
            b"endstream\n",
            b"/ObjStm /FlateDecode",
            b"/JavaScript",
            b"/Java#53cript",
            b"/Encrypt",
            b"#",
            b"/",
            b"%%EOF",
            b"\x78\x9c",
        ]
    )
    | st.binary(max_size=64),
    max_size=12,
)


@FAST
@given(head=MAGICS, pieces=PDF_PIECES, name=st.sampled_from(["a.pdf", "a.docx", "a.doc", "a", "报告.PDF"]))
def test_arbitrary_bytes_through_the_document_check_only_raise_upload_rejected(head, pieces, name):
    data = head + b"".join(pieces)
    try:
        kind = inspect_document(data, name, MAX)
    except UploadRejected as exc:
        assert re.fullmatch(r"D1\d\d", exc.code) and exc.message
    else:
        assert kind in ("pdf", "docx")


@FEWER
@given(
    members=st.dictionaries(
        st.sampled_from(
            [
                "[Content_Types].xml",
                "word/document.xml",
                "_rels/.rels",
                "word/_rels/document.xml.rels",
                "x.bin",
            ]
        ),
        st.binary(max_size=200)
        | XML_TEXT.map(str.encode)
        | st.sampled_from(
            [
                b'<Relationship Id="r" Type="x/attachedTemplate" Target="http://a" TargetMode="External"/>',
                b"<!DOCTYPE x>",
                b"macroEnabled",
                b"<w:document/>",
            ]
        ),
        max_size=5,
    ),
    cut=st.none() | st.integers(0, 4000),
)
def test_arbitrary_docx_shaped_zips_only_raise_upload_rejected(members, cut):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    data = out.getvalue() if cut is None else out.getvalue()[:cut]
    try:
        assert inspect_document(data, "a.docx", MAX) in ("pdf", "docx")
    except UploadRejected as exc:
        assert re.fullmatch(r"D1\d\d", exc.code)


@pytest.mark.parametrize(
    "value",
    [
        Decimal("sNaN"),
        Decimal("-sNaN"),
        Decimal("NaN"),
        Decimal("1E+999999"),
        Decimal("1E-999999"),
        float("nan"),
    ],
)
def test_special_decimals_and_nan_are_e102(value):
    parsed, problem = parsing.parse_value(value, MONITORING_2022.field("loan_balance"))
    assert parsed is None and "不是数值" in problem


def test_dates_typed_into_number_cells_are_e102():
    parsed, problem = parsing.parse_value(datetime.date(2022, 3, 31), MONITORING_2022.field("loan_balance"))
    assert parsed is None and "不是数值" in problem
