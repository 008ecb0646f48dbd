"""Finding a printed form inside a worksheet by its headings, not by fixed cells.

Banks fill in the 附件3 / 附件4 they received with 武银〔2022〕45号, not only the portal's template: the sheet is
called "Sheet1", a line "附件4" stands above the title, the headings sit one row lower, a heading is wrapped
("X月末普惠小\\n微贷款余额"), typed in full-width characters or with the month ("6月末…"), columns are in
another order or an extra "备注" column was added. This module reads rows of raw cells (as python-calamine
returns them) and answers where each expected heading is; the readers in `reporting.excel` build on it.

Everything here is pure: rows in, positions out. Rows and columns are 0-based; `ref()` gives Excel's "C6".
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter

SCAN_ROWS = 30  # headings are looked for in the first rows of a sheet
MIN_MATCHES = 3  # a sheet carrying fewer of the expected headings is not taken for the form
GROUP_HEADINGS = frozenset({"增量", "扩面", "降价"})
NAME_HEADINGS = (
    "机构名称",
    "机构",
    "机构全称",
    "机构简称",
    "银行名称",
    "金融机构",
    "金融机构名称",
    "单位名称",
)
TOTAL_NAMES = frozenset({"合计", "总计", "小计", "全省合计", "汇总"})

_SPACE = re.compile(r"\s+")
_QUOTES = re.compile(r"[“”\"'‘’「」]")
_TRAILING_UNIT = re.compile(r"[(][^()]*[)]$")
_MONTH_END = re.compile(r"^(?:本|当)?(?:\d{1,2}|[Xx]+|期)?月?末")
_MONTH_PREFIX = re.compile(r"^(\d{1,2})月末")
_YEAR = re.compile(r"(\d{4})年")
_NOTE = re.compile(r"^(?:注|说明|填表说明|备注)\s*[:：0-9１-９.、]")


def compact(value: Any) -> str:
    """Text as compared: NFKC (full-width → half-width), without white space, line breaks or quotes."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _QUOTES.sub("", _SPACE.sub("", text))


def shape(value: Any) -> str:
    """A heading with what may vary between copies taken out: a trailing unit in brackets and the month of a
    month-end figure ("6月末", "X月末", "月末" → "月末"). Years stay: 附件3's columns differ by them."""
    s = compact(value)
    while True:
        stripped = _TRAILING_UNIT.sub("", s)
        if stripped == s or not stripped:
            break
        s = stripped
    return _MONTH_END.sub("月末", s, count=1)


def month_of(value: Any) -> int | None:
    """The month printed in a month-end heading ("6月末普惠小微贷款余额" → 6), None for "X月末"."""
    match = _MONTH_PREFIX.match(compact(value))
    return int(match.group(1)) if match else None


def years_of(value: Any) -> list[int]:
    return [int(y) for y in _YEAR.findall(compact(value))]


def ref(row: int, col: int) -> str:
    """0-based (row, column) → "C6"."""
    return f"{get_column_letter(col + 1)}{row + 1}"


def cell(rows: Sequence[Sequence[Any]], row: int, col: int) -> Any:
    """0-based cell value; "" outside the data area (calamine trims rows)."""
    if 0 <= row < len(rows):
        cells = rows[row]
        if 0 <= col < len(cells):
            return cells[col]
    return ""


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_note(value: Any) -> bool:
    """The printed notes below a form ("注：1.普惠小微贷款…")."""
    return isinstance(value, str) and bool(_NOTE.match(compact(value)))


@dataclass(frozen=True)
class Expected:
    """What to look for: key → the headings (any of them) that name it. Keys of `required` must all be found;
    `optional` keys (机构名称, 机构代码, 月份, computed columns) are taken when present."""

    required: dict[str, tuple[str, ...]]
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def lookup(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for key, labels in {**self.optional, **self.required}.items():
            for label in labels:
                table.setdefault(shape(label), key)
        return table


@dataclass(frozen=True)
class Headings:
    """Where a form's headings are on one sheet."""

    sheet: str
    row: int  # the row that carries most field headings
    columns: dict[str, int]  # key → column
    rows_of: dict[str, int]  # key → the row its heading is on (a heading merged over two rows: the top one)
    texts: dict[str, str]  # key → the heading as printed
    missing: tuple[str, ...]  # required keys not found
    extras: tuple[tuple[int, str], ...]  # (column, text) of headings that name nothing expected
    duplicates: tuple[tuple[str, int, int], ...]  # (key, first column, second column)

    @property
    def matched(self) -> int:
        return len(self.columns)

    def at(self, key: str) -> str:
        return ref(self.rows_of[key], self.columns[key])


def _row_hits(row: Sequence[Any], table: dict[str, str]) -> dict[str, list[int]]:
    hits: dict[str, list[int]] = {}
    for col, value in enumerate(row):
        if isinstance(value, str):
            key = table.get(shape(value))
            if key is not None:
                hits.setdefault(key, []).append(col)
    return hits


def find(sheet: str, rows: Sequence[Sequence[Any]], expected: Expected) -> Headings | None:
    """The headings of `expected` on this sheet, or None when fewer than MIN_MATCHES of the required ones are
    there (the sheet is not this form). The heading row is the row with most required headings; a heading not
    on it may stand up to two rows above (a cell merged downwards, such as the notice's 机构名称)."""
    table = expected.lookup()
    required = set(expected.required)
    best_row, best_hits, best_score = -1, {}, 0
    for r in range(min(len(rows), SCAN_ROWS)):
        hits = _row_hits(rows[r], table)
        score = len(required & set(hits))
        if score > best_score:
            best_row, best_hits, best_score = r, hits, score
    if best_score < min(MIN_MATCHES, len(required)):
        return None
    columns: dict[str, int] = {}
    rows_of: dict[str, int] = {}
    duplicates: list[tuple[str, int, int]] = []
    for key, cols in best_hits.items():
        columns[key], rows_of[key] = cols[0], best_row
        duplicates += [(key, cols[0], other) for other in cols[1:]]
    taken = set(columns.values())
    for r in (best_row - 1, best_row - 2):
        if r < 0:
            continue
        for key, cols in _row_hits(rows[r], table).items():
            free = [c for c in cols if c not in taken]
            if key not in columns and free:
                columns[key], rows_of[key] = free[0], r
                taken.add(free[0])
    extras = []
    for col, value in enumerate(rows[best_row]):
        if col in taken or blank(value) or not isinstance(value, str):
            continue
        if compact(value) in GROUP_HEADINGS:
            continue
        extras.append((col, _SPACE.sub(" ", str(value)).strip()))
    texts = {key: str(cell(rows, rows_of[key], col)) for key, col in columns.items()}
    return Headings(
        sheet=sheet,
        row=best_row,
        columns=columns,
        rows_of=rows_of,
        texts=texts,
        missing=tuple(k for k in expected.required if k not in columns),
        extras=tuple(extras),
        duplicates=tuple(duplicates),
    )


def best(candidates: Iterable[Headings | None]) -> Headings | None:
    """The sheet that carries most of the form's headings (the first such sheet on a tie)."""
    chosen = None
    for found in candidates:
        if found is not None and (chosen is None or found.matched > chosen.matched):
            chosen = found
    return chosen


def above(rows: Sequence[Sequence[Any]], heading_row: int) -> Iterable[tuple[int, int, str]]:
    """(row, column, text) of every text cell above the headings: the 附件 line, the title, 填报人."""
    for r in range(min(heading_row, len(rows))):
        for c, value in enumerate(rows[r]):
            if isinstance(value, str) and value.strip():
                yield r, c, value


def labelled(
    rows: Sequence[Sequence[Any]], heading_row: int, label: str, stops: Sequence[str]
) -> tuple[Any, tuple[int, int] | None]:
    """What was filled in after a label above the headings — "填报人：张三" in the label's own cell, or "填报人："
    then "张三" in a cell to its right — with the (row, column) it was read from; ("", None) when the label is
    absent or left empty. `stops` are the other labels of the same line (联系方式, 单位)."""
    bare = label.rstrip("：:")
    for r, c, text in above(rows, heading_row):
        s = compact(text)
        if not s.startswith(bare):
            continue
        rest = s[len(bare) :].lstrip(":：")
        for stop in stops:
            cut = rest.find(stop.rstrip("：:"))
            if cut >= 0:
                rest = rest[:cut]
        if rest:
            return rest, (r, c)
        for col in range(c + 1, len(rows[r])):
            value = rows[r][col]
            if blank(value):
                continue
            if any(compact(value).startswith(stop.rstrip("：:")) for stop in stops):
                return "", None
            return value, (r, col)
        return "", None
    return "", None
