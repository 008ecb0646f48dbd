"""Reading what people type — in a web form, a JSON payload or a workbook cell — into Decimal values.

Forgiving where people are: full-width digits and punctuation (１２３．４５), thousands separators
("1,234.5", "1，234.5"), surrounding blanks incl. the ideographic space, a leading "+", and a trailing unit
that matches the field ("3.85%", "120亿元", "3,456户", "45BP"). Strict where it matters: a blank is not 0
(blank → None, which E101 reports), and anything else that is not a number — text, formulas, Excel error
values, booleans, NaN, a unit of another field — is reported as E102.

Floats (python-calamine returns every numeric cell as one) are read through their shortest repr and rounded
to the field's decimals + 6, so binary noise such as 123.45000000000002 never reaches the database while a
genuinely over-precise entry is still caught by E105.

`parse_many` reads a batch of rows (a bulk import's thousands) a column at a time: the float and integer cells
python-calamine returns are converted as arrays, and only text and other cells go one by one through the
forgiving rules above. `parse_values` is its one-row case.
"""

import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from reporting.definitions import FieldDef, FormDefinition
from reporting.rules import Finding, format_decimal, not_numeric_message, rule

# Optional sign, integer part with or without well-formed thousands separators, optional fraction.
_NUMBER = re.compile(r"(?P<sign>[+-]?)(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?P<frac>\.[0-9]*)?")
# NFKC folds full-width forms (１２３，．％＋－ＢＰ); it leaves these minus signs alone.
_MINUS = str.maketrans({"\u2212": "-", "\ufe63": "-"})

# How people write each unit after a number; compared case-insensitively.
_UNIT_SPELLINGS = {
    "亿元": ("亿元", "亿"),
    "户": ("户",),
    "BP": ("bp", "基点", "个基点"),
    "%": ("%",),
}
# Units of some other quantity: naming them lets the message say "wrong unit" rather than "not a number".
_OTHER_UNITS = {"元", "万元", "千元", "百万元", "万", "万户", "个", "家", "笔", "‰", "倍"}
_FLOAT_HEADROOM = 6  # extra decimals kept from a float, so E105 can still see over-precise entries
_MAX_DIGITS = 20  # integer digits beyond any real amount, count or rate (and beyond safe arithmetic)
_RAW_SHOWN = 20  # characters of a bad input quoted back in the message
_INT_LIMIT = 10**_MAX_DIGITS  # an int below this is read as it is (see _parse)


class _Unreadable(NamedTuple):
    shown: str  # the input as quoted back to the user
    advice: str = ""  # what to do instead; "" → the generic E102 advice


def canonical(value: Decimal) -> Decimal:
    """The same number without exponent or trailing zeros: 1E+2 → 100, 120.50 → 120.5, -0 → 0."""
    return Decimal(format_decimal(value))


def _shown(raw: object) -> str:
    text = str(raw).strip()
    return text if len(text) <= _RAW_SHOWN else text[:_RAW_SHOWN] + "…"


def _unit_ok(suffix: str, fd: FieldDef) -> bool:
    spellings = _UNIT_SPELLINGS.get(fd.unit, (fd.unit,))
    return suffix.casefold() in {s.casefold() for s in spellings}


def _is_unit(suffix: str) -> bool:
    known = {s.casefold() for spellings in _UNIT_SPELLINGS.values() for s in spellings}
    return suffix.casefold() in known | _OTHER_UNITS


def _from_text(raw: str, fd: FieldDef) -> Decimal | None | _Unreadable:
    text = unicodedata.normalize("NFKC", raw).translate(_MINUS).strip()
    if not text:
        return None
    m = _NUMBER.match(text)
    int_part, frac = m.group("int"), (m.group("frac") or "")
    if not (int_part or frac[1:]):
        return _Unreadable(_shown(raw))
    suffix = text[m.end() :].strip()
    if suffix and not _unit_ok(suffix, fd):
        if _is_unit(suffix):
            return _Unreadable(
                _shown(raw), f"本项单位为{fd.unit}，不是“{suffix}”；请按{fd.unit}填写数字，可不带单位。"
            )
        return _Unreadable(_shown(raw))
    return canonical(Decimal(m.group("sign") + int_part.replace(",", "") + frac))


_WIDE = Context(prec=400)  # wide enough for any finite float at the scale _from_float rounds to


@lru_cache(maxsize=64)
def _float_places(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-(decimals + _FLOAT_HEADROOM))


def _from_float(raw: float, fd: FieldDef) -> Decimal | _Unreadable:
    if not math.isfinite(raw):
        return _Unreadable(_shown(raw))
    # (a bulk import reads tens of thousands of cells: no localcontext per cell)
    return canonical(
        Decimal(repr(raw)).quantize(_float_places(fd.decimals), rounding=ROUND_HALF_UP, context=_WIDE)
    )


def _read(raw: object, fd: FieldDef) -> Decimal | None | _Unreadable:
    if raw is None:
        return None
    if isinstance(raw, bool):  # bool is an int; TRUE/FALSE cells are not amounts
        return _Unreadable(_shown(raw))
    if isinstance(raw, Decimal):
        if not raw.is_finite() or (raw != 0 and raw.adjusted() < -_MAX_DIGITS):
            return _Unreadable(_shown(raw))
        return raw if raw != 0 and raw.adjusted() >= _MAX_DIGITS else canonical(raw)  # too large: see _parse
    if isinstance(raw, numbers.Integral):
        return Decimal(int(raw))
    if isinstance(raw, numbers.Real):
        return _from_float(float(raw), fd)
    if isinstance(raw, str):
        return _from_text(raw, fd)
    return _Unreadable(_shown(raw))  # dates, times, lists …


def _parse(raw: object, fd: FieldDef) -> Decimal | None | _Unreadable:
    value = _read(raw, fd)
    if isinstance(value, Decimal) and value != 0 and value.adjusted() >= _MAX_DIGITS:
        return _Unreadable(_shown(raw), f"数值过大，超出本项可能的范围，请核对（单位：{fd.unit}）。")
    return value


def parse_value(raw: object, fd: FieldDef, *, month: int | None = None) -> tuple[Decimal | None, str | None]:
    """(value, None) for a number, (None, None) for a blank, (None, E102 message) for anything else."""
    result = _parse(raw, fd)
    if isinstance(result, _Unreadable):
        return None, not_numeric_message(fd, result.shown, month=month, advice=result.advice)
    return result, None


def parse_values(
    definition: FormDefinition,
    raw: Mapping[str, object],
    locate: Callable[[str], str] | None = None,
    *,
    month: int | None = None,
) -> tuple[dict[str, Decimal | None], list[Finding]]:
    """Every field of `definition` parsed from `raw` (missing keys are blanks), and an E102 finding per
    unreadable input. Pass `unparsed={f.field for f in findings}` to `rules.Context` so E101 does not also
    call those fields blank."""
    return parse_many(definition, [raw], locates=[locate], month=month)[0]


def parse_many(
    definition: FormDefinition,
    raws: Sequence[Mapping[str, object]],
    *,
    locates: Sequence[Callable[[str], str] | None] | None = None,
    month: int | None = None,
) -> list[tuple[dict[str, Decimal | None], list[Finding]]]:
    """`parse_values` of every row of `raws` (with `locates[i]` locating row i's cells), a column at a time."""
    n = len(raws)
    numbers = definition.number_fields
    cells = {fd.code: [raw.get(fd.code) for raw in raws] for fd in definition.fields}
    columns: dict[str, list] = {}
    floats: dict[str, list[int]] = {}
    for fd in numbers:
        columns[fd.code], floats[fd.code] = _read_column(cells[fd.code], fd)
    _read_floats(numbers, cells, columns, floats)
    findings: list[list[Finding]] = [[] for _ in range(n)]
    for fd in numbers:  # in the order of the form, as the findings are listed
        column = columns[fd.code]
        for i, value in enumerate(column):
            if isinstance(value, _Unreadable):
                locate = locates[i] if locates else None
                findings[i].append(
                    Finding(
                        rule="E102",
                        severity=rule("E102").severity,
                        field=fd.code,
                        message=not_numeric_message(fd, value.shown, month=month, advice=value.advice),
                        location=locate(fd.code) if locate else fd.label_for(month),
                        fields=(fd.code,),
                        typed=str(cells[fd.code][i])[:60],
                    )
                )
                column[i] = None
    for fd in definition.fields:
        if not fd.is_number:
            columns[fd.code] = [parse_text(x) for x in cells[fd.code]]
    codes = definition.codes
    rows = zip(*(columns[code] for code in codes), strict=True) if codes else ((),) * n
    return [(dict(zip(codes, row, strict=True)), found) for row, found in zip(rows, findings, strict=True)]


def _read_column(cells: list, fd: FieldDef) -> tuple[list, list[int]]:
    """`_parse` of every cell but the plain floats, whose rows are returned for `_read_floats`; an int
    below twenty digits is read as it is."""
    out: list = [None] * len(cells)
    floats: list[int] = []
    for i, x in enumerate(cells):
        kind = type(x)
        if kind is float:
            floats.append(i)
        elif kind is int and -_INT_LIMIT < x < _INT_LIMIT:
            out[i] = Decimal(x)
        elif x is not None:
            out[i] = _parse(x, fd)
    return out, floats


def _read_floats(
    numbers: list[FieldDef], cells: dict[str, list], columns: dict[str, list], floats: dict[str, list[int]]
) -> None:
    """The float cells of every column (python-calamine's numeric cells) converted as one array.

    A float whose shortest repr has no exponent and at most the field's kept decimals already is the exact
    value `_from_float` rounds to: its repr without trailing zeros is the canonical Decimal. Any other
    float — NaN, infinities, very large or small, or longer — goes through `_parse` like a single cell."""
    fields = [fd for fd in numbers if floats[fd.code]]
    if not fields:
        return
    values = [cells[fd.code][i] for fd in fields for i in floats[fd.code]]
    kept = np.repeat(
        [fd.decimals + _FLOAT_HEADROOM for fd in fields], [len(floats[fd.code]) for fd in fields]
    )
    texts = np.array(list(map(repr, values)))
    point = np.strings.find(texts, ".")
    plain = (
        np.isfinite(np.array(values, dtype=float))
        & (np.strings.find(texts, "e") < 0)
        & (point >= 0)
        & (np.strings.str_len(texts) - point - 1 <= kept)
    )
    trimmed = np.strings.rstrip(np.strings.rstrip(texts, "0"), ".")
    trimmed = np.where(trimmed == "-0", "0", trimmed).tolist()
    plain = plain.tolist()
    start = 0
    for fd in fields:
        column, rows, raw = columns[fd.code], floats[fd.code], cells[fd.code]
        end = start + len(rows)
        for i, ok, text in zip(rows, plain[start:end], trimmed[start:end], strict=True):
            column[i] = Decimal(text) if ok else _parse(raw[i], fd)
        start = end


def parse_text(raw: object) -> str | None:
    """A text field (附件2): full-width forms folded, blanks trimmed; blank → None."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    return text or None


def values_to_json(values: Mapping[str, Decimal | str | None]) -> dict[str, str | None]:
    """Decimals as plain strings ("1234.5", "12"); JSON floats would bring the binary noise back."""
    return {code: v if v is None or isinstance(v, str) else _plain_text(v) for code, v in values.items()}


def _plain_text(value: Decimal) -> str:
    """`format_decimal(value)`, taken from str(value) when that already is it — no exponent, no trailing zero
    of a fraction, not "-0" — as it is for the values parsing gives (a bulk import writes 100,000 of them)."""
    if type(value) is Decimal:
        text = str(value)
        if "E" not in text and not (text[-1] == "0" and ("." in text or text == "-0")):
            return text
    return format_decimal(value)


# The text of a canonical Decimal: what values_to_json writes, which values_from_json reads back as it is.
_CANONICAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?").fullmatch


def values_from_json(d: Mapping[str, object], definition: FormDefinition | None = None) -> dict:
    """Stored values back as Decimals — except the definition's text fields, which stay text."""
    text = {f.code for f in definition.fields if not f.is_number} if definition else set()
    out: dict[str, Decimal | str | None] = {}
    for code, v in d.items():
        if type(v) is str and v != "-0" and code not in text and _CANONICAL(v):
            out[code] = Decimal(v)  # already canonical: canonical(Decimal(v)) is Decimal(v)
        elif v is None or (isinstance(v, str) and not v.strip()):
            out[code] = None
        elif code in text:
            out[code] = str(v)
        else:
            out[code] = canonical(Decimal(repr(v) if isinstance(v, float) else str(v)))
    return out
