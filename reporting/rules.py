"""Validation rules for the returns banks file — one registry for the web form, the workbook and the API.

Modelled on CFPB regtech-data-validator: every rule is a pure function over parsed values (never the ORM),
with a stable id, a severity, the fields it concerns, a Chinese message template and a plain description.
Errors (E…) block submission; warnings (W…) need a written explanation keyed by `Finding.key`.

Rules are written over field *kinds* and codes looked up in the definition, so a later edition of
附件4 (2023: 各项贷款余额, 普惠小微不良贷款核销金额) gets the generic rules for its new fields without code
changes; a rule naming a code an edition lacks (E205, W409) does not apply to that edition.
Every threshold comes from `definition.thresholds` (`reporting.definitions.Thresholds`).

Rules run over frames: `validate_many` puts the returns of one definition, year and month side by side as
columns (`Frame`: this month's values, last month's, the same month last year, the peers' statistics, the
approved figures of other returns), and each rule's `test` marks the failing rows of a column at once — a
bulk import of 4,500 institutions is a few hundred column operations, not 4,500 × 30 rule calls. A message is
built only for a failing cell, from that row's values. Columns hold Decimals (object arrays: numpy applies the
exact Decimal operations element by element), so every boundary is decided as a single return would decide
it; `validate` is the one-row frame, so a return is checked the same way alone and in bulk.

Sources: 004 §(十九) (monthly monitoring sheet, 附件4) and the notes printed on it: 户数 are counts of
borrowers; "新发放" figures run from the start of the year to the period end; 首贷户 are a subset of the
borrowers that got a new loan; 首贷户比重 = 拓展首贷户数 / 新发放小微企业贷款户数 (004 footnote 2).

Families: E1xx one field; E2xx a part within its whole; E3xx against last month; W4xx plausibility (bands,
swings, the group); W5xx against the institution's other returns; E6xx/W6xx figures in the wrong unit —
普惠小微 is 单户授信 1000万元（含）以下 (004 附件3 note), so no average balance per borrower exceeds 0.1 亿元,
and a figure 10,000× last month's or the group's median is a 万元 / 亿元 slip.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import NamedTuple

import numpy as np

from reporting.definitions import FieldDef, FormDefinition, Kind, Thresholds

ERROR, WARNING = "error", "warning"
SEVERITY_LABELS = {ERROR: "错误", WARNING: "预警"}


class Scope:
    FIELD = "field"
    CROSS_FIELD = "cross_field"
    CROSS_PERIOD = "cross_period"
    GROUP = "group"
    CROSS_RETURN = "cross_return"  # against another return of the same institution (附件3 vs 附件4)


# Field codes that rules name explicitly; a rule over a code the definition lacks does not apply.
LOAN_BALANCE = "loan_balance"
CREDIT_LOAN_BALANCE = "credit_loan_balance"
NEW_LOANS = "new_loans"
NEW_CREDIT_LOANS = "new_credit_loans"
BORROWERS = "borrowers"
NEW_BORROWERS = "new_borrowers"
FIRST_LOAN_BORROWERS = "first_loan_borrowers"
FIRST_LOAN_AMOUNT = "first_loan_amount"
FTP_DISCOUNT = "ftp_discount_bp"
WEIGHTED_RATE = "weighted_rate"
TOTAL_LOAN_BALANCE = "total_loan_balance"  # 2023 edition on
NPL_WRITE_OFFS = "npl_write_offs"  # 2023 edition on

# Iglewicz & Hoaglin: 0.6745 makes the MAD-based score comparable to a standard normal z-score.
MAD_SCALE = Decimal("0.6745")
WHOLE_SHEET = "全表"


def format_decimal(value: Decimal) -> str:
    """A Decimal as plain text: no exponent, no trailing zeros ("1234.5", "12", "0.0001")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def decimal_places(value: Decimal) -> int:
    text = format_decimal(value)
    return len(text.split(".", 1)[1]) if "." in text else 0


def format_amount(value: Decimal, unit: str) -> str:
    return f"{format_decimal(value)}{unit}" if unit == "%" else f"{format_decimal(value)} {unit}"


def format_percent(ratio: Decimal, *, signed: bool = True) -> str:
    return f"{ratio * 100:+.1f}%" if signed else f"{ratio * 100:.1f}%"


@dataclass(frozen=True)
class Finding:
    """One problem found in a return: what is wrong, how bad, where, and which fields it concerns."""

    rule: str
    severity: str
    field: str | None
    message: str
    location: str = ""
    fields: tuple[str, ...] = ()
    typed: str = ""  # E102: the input as typed ("11万"), so the form can show it again beside its message

    @property
    def key(self) -> str:
        """Explanations of warnings are stored under this key."""
        return f"{self.rule}:{self.field or '*'}"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "field": self.field,
            "message": self.message,
            "location": self.location,
            "fields": list(self.fields),
            "key": self.key,
            **({"typed": self.typed} if self.typed else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Finding":
        return cls(
            rule=d["rule"],
            severity=d["severity"],
            field=d.get("field"),
            message=d.get("message", ""),
            location=d.get("location", ""),
            typed=d.get("typed", ""),
            fields=tuple(d.get("fields") or ()),
        )


@dataclass(frozen=True)
class Context:
    """Everything a rule may look at: the edition, the period, this return's values and its neighbours."""

    definition: FormDefinition
    year: int
    month: int | None
    values: dict[str, Decimal | None]
    previous: dict[str, Decimal | None] | None = None
    last_year: dict[str, Decimal | None] | None = None
    # per stock field: peers' month-on-month relative changes (same group, same month), excluding this institution
    group_changes: "PeerChanges | dict[str, list[Decimal]] | None" = None
    locate: Callable[[str], str] | None = None
    # fields whose input was present but not numeric (parsing reported E102); E101 leaves them alone
    unparsed: frozenset[str] = frozenset()
    # figures from the institution's other returns, e.g. approved 附件4 余额 for the plan's checks:
    # {"balance_prev_dec": …, "balance_march": …} (None when that sheet is not approved)
    related: dict[str, Decimal | None] | None = None
    # per field: this month's values of the same peers (same group, same month), for W605's group median
    group_levels: "PeerChanges | dict[str, list[Decimal]] | None" = None


def _number(value: object) -> Decimal | None:
    """A usable operand, or None: blanks and non-numbers are reported by E101/E102, not by every rule."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return None


# ---- the frame: a batch of returns as columns -------------------------------------------------------------

_ZERO, _ONE = Decimal(0), Decimal(1)


def _column(items: Iterable[object], n: int) -> np.ndarray:
    """An object column; fromiter never unpacks a list or tuple typed into a cell."""
    return np.fromiter(items, dtype=object, count=n)


def _cells(items: list, n: int) -> np.ndarray:
    """A list of cells as an object column (np.array is fastest, unless a cell is itself a sequence)."""
    try:
        column = np.array(items, dtype=object)
    except ValueError:  # cells of different lengths
        return _column(items, n)
    return column if column.shape == (n,) else _column(items, n)


class Operands(NamedTuple):
    """A column as rules use it: `v` holds the usable numbers (0 where there is none), `ok` marks them."""

    v: np.ndarray
    ok: np.ndarray


def _operands(raw: np.ndarray) -> Operands:
    """`_number` over a column, with one pass of C-level calls when every cell is a Decimal."""
    n = len(raw)
    if n and set(map(type, raw)) == {Decimal}:
        ok = np.fromiter(map(Decimal.is_finite, raw), dtype=bool, count=n)
        return Operands(raw if ok.all() else np.where(ok, raw, _ZERO), ok)
    numbers = [_number(x) for x in raw]
    ok = np.fromiter((x is not None for x in numbers), dtype=bool, count=n)
    return Operands(_column((_ZERO if x is None else x for x in numbers), n), ok)


def _guarded(values: np.ndarray, usable: np.ndarray, fill: Decimal = _ONE) -> np.ndarray:
    """`values` where usable, else `fill` — a denominator that cannot divide by zero on rows masked away."""
    return values if usable.all() else np.where(usable, values, fill)


def _off_step(values: np.ndarray, ok: np.ndarray, step: Decimal) -> np.ndarray:
    """Usable cells that are not a whole multiple of `step` (a fraction of a 户, a decimal too many).

    Decimal remainder is exact; beyond the context's 28 digits it refuses, and those columns are checked
    cell by cell."""
    if not ok.any():
        return ok
    try:
        return ok & (np.where(ok, values, _ZERO) % step != 0)
    except InvalidOperation:
        return _cell_off_step(values, ok, step).astype(bool)


_cell_off_step = np.frompyfunc(
    lambda x, ok, step: bool(ok) and decimal_places(x) > -step.as_tuple().exponent, 3, 1
)


@dataclass(frozen=True)
class PeerStats:
    """Group statistics, rows × fields: the peers' count, median and MAD (0 / 0 / 1 where there are none)."""

    present: np.ndarray  # the row has peers at all
    count: np.ndarray
    median: np.ndarray
    mad: np.ndarray
    has_median: np.ndarray  # count > 0
    has_mad: np.ndarray  # a MAD that is neither missing nor 0


class Frame:
    """Contexts of one definition, year and month as columns, computed on first use and kept.

    `raw(code)` is the cell as handed over, `value(code)` / `prev(code)` the operands a rule may use
    (`_number` of this month's and last month's value). Rules return boolean masks over the rows; a
    message is built only for the rows a mask marks, from that row's values."""

    def __init__(self, definition: FormDefinition, year: int, month: int | None, contexts: list[Context]):
        self.definition = definition
        self.year = year
        self.month = month
        self.contexts = contexts
        self.n = len(contexts)
        self.thresholds = definition.thresholds
        self._raw: dict[tuple[str, str], np.ndarray] = {}
        self._operands: dict[tuple[str, str], Operands] = {}
        self._peers: dict[tuple[str, str], PeerStats] = {}
        self._labels: dict[str, str] = {}
        self._peer_lists: dict[str, list[tuple[PeerChanges, list[int]]]] = {}
        self._blank: dict[str, np.ndarray] = {}
        self._blocks: dict[tuple, Operands] = {}
        self._whole: dict[str, Operands] = {}
        self._position = {code: j for j, code in enumerate(definition.codes)}
        self._of: dict[str, list[dict]] = {}

    # columns
    def raw(self, code: str, of: str = "values") -> np.ndarray:
        key = (of, code)
        if key not in self._raw:
            if of not in self._of:
                self._of[of] = [getattr(c, of) or {} for c in self.contexts]
            self._raw[key] = _cells([d.get(code) for d in self._of[of]], self.n)
        return self._raw[key]

    def value(self, code: str) -> Operands:
        return self._numbers("values", code)

    def prev(self, code: str) -> Operands:
        return self._numbers("previous", code)

    def last_year(self, code: str) -> Operands:
        return self._numbers("last_year", code)

    def _numbers(self, of: str, code: str) -> Operands:
        key = (of, code)
        if key not in self._operands:
            self._operands[key] = _operands(self.raw(code, of))
        return self._operands[key]

    def block(self, codes: list[str], of: str = "values") -> Operands:
        """The operands of several fields side by side (rows × fields), for a rule that checks each alike:
        columns of one block of every field, stacked once."""
        key = (of, tuple(codes))
        if key not in self._blocks:
            if of not in self._whole:
                columns = [self._numbers(of, code) for code in self.definition.codes]
                self._whole[of] = Operands(
                    np.stack([c.v for c in columns], axis=1), np.stack([c.ok for c in columns], axis=1)
                )
            whole = self._whole[of]
            where = [self._position[code] for code in codes]
            self._blocks[key] = Operands(whole.v[:, where], whole.ok[:, where])
        return self._blocks[key]

    def codes_of(self, kind: str) -> list[str]:
        return [fd.code for fd in self.definition.fields if fd.kind == kind]

    def blanks(self, codes: list[str]) -> np.ndarray:
        """Rows × fields: the cell is None (missing or blank)."""
        return np.stack([self.blank(code) for code in codes], axis=1)

    def blank(self, code: str) -> np.ndarray:
        if code not in self._blank:
            self._blank[code] = np.fromiter((x is None for x in self.raw(code)), dtype=bool, count=self.n)
        return self._blank[code]

    def unparsed(self, code: str) -> np.ndarray:
        if not self.any_unparsed:
            return np.zeros(self.n, dtype=bool)
        return np.fromiter((code in c.unparsed for c in self.contexts), dtype=bool, count=self.n)

    @cached_property
    def any_unparsed(self) -> bool:
        return any(c.unparsed for c in self.contexts)

    @cached_property
    def has_previous(self) -> np.ndarray:
        """Rows with a last month to compare with (an empty one counts as none)."""
        return np.fromiter((bool(c.previous) for c in self.contexts), dtype=bool, count=self.n)

    def related(self, describe: Callable[[dict], Decimal | None]) -> Operands:
        """A figure of each row's other returns (`Context.related`), None where it is unknown."""
        figures = [describe(c.related or {}) for c in self.contexts]
        ok = np.fromiter((x is not None for x in figures), dtype=bool, count=self.n)
        return Operands(_column((_ZERO if x is None else x for x in figures), self.n), ok)

    def peers(self, attr: str, codes: list[str]) -> PeerStats:
        """Count, median and MAD of each of `codes` among each row's peers (`group_changes` or
        `group_levels`), rows × codes, computed once per distinct peer set — every row of a group and month
        shares one."""
        key = (attr, tuple(codes))
        if key not in self._peers:
            shape = (self.n, len(codes))
            stats = PeerStats(
                present=np.zeros(shape, dtype=bool),
                count=np.zeros(shape, dtype=np.int64),
                median=np.full(shape, _ZERO, dtype=object),
                mad=np.full(shape, _ONE, dtype=object),
                has_median=np.zeros(shape, dtype=bool),
                has_mad=np.zeros(shape, dtype=bool),
            )
            for peers, rows in self._peer_sets(attr):
                count, median, mad = zip(*(peers.stats(code) for code in codes), strict=True)
                stats.present[rows] = True
                stats.count[rows] = count
                stats.median[rows] = [_ZERO if m is None else m for m in median]
                stats.has_median[rows] = [m is not None for m in median]
                stats.mad[rows] = [m or _ONE for m in mad]
                stats.has_mad[rows] = [bool(m) for m in mad]
            self._peers[key] = stats
        return self._peers[key]

    def _peer_sets(self, attr: str) -> list[tuple["PeerChanges", list[int]]]:
        """The distinct peer sets of the rows (W406 needs a non-empty one, W605 any), and their rows."""
        if attr not in self._peer_lists:
            by_id: dict[int, tuple[PeerChanges, list[int]]] = {}
            for i, c in enumerate(self.contexts):
                peers = getattr(c, attr)
                if peers is None or (attr == "group_changes" and not peers):
                    continue
                if id(peers) not in by_id:
                    by_id[id(peers)] = (peers if isinstance(peers, PeerChanges) else PeerChanges(peers), [])
                by_id[id(peers)][1].append(i)
            self._peer_lists[attr] = list(by_id.values())
        return self._peer_lists[attr]

    # text of a message
    def label(self, code: str) -> str:
        if code not in self._labels:
            self._labels[code] = self.definition.field(code).label_for(self.month)
        return self._labels[code]

    def amount(self, code: str, value: Decimal) -> str:
        return format_amount(value, self.definition.field(code).unit)

    def where(self, row: int, code: str | None) -> str:
        if code is None:
            return WHOLE_SHEET
        locate = self.contexts[row].locate
        return locate(code) if locate else self.label(code)


def _relative_changes(cur: Operands, prev: Operands) -> tuple[np.ndarray, np.ndarray]:
    """(current − previous) / |previous| per row, and where it is defined (both usable, previous ≠ 0)."""
    defined = cur.ok & prev.ok & (prev.v != 0)
    return (cur.v - prev.v) / np.abs(_guarded(prev.v, defined)), defined


@dataclass(frozen=True)
class Failures:
    """The rows of a frame where a rule fails on one field, and how to word each of them."""

    field: str | None
    rows: np.ndarray  # bool per row of the frame
    params: Callable[[int], dict]  # the message's parameters for row i, from that row's values
    fields: tuple[str, ...] = ()  # the fields the finding concerns; () → (field,)
    location: Callable[[int], str] | None = None  # where, when it is not the field's cell


Test = Callable[[Frame], Iterable[Failures]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    id: str
    severity: str
    scope: str
    fields: tuple[str, ...]  # field codes, or ("*",) for every field (of `kinds`, when given)
    message: str
    description: str
    test: Test  # vectorised: the frame's failing rows per field
    kinds: tuple[str, ...] = ()  # with fields ("*",): only fields of these kinds

    def applies(self, definition: FormDefinition) -> bool:
        if self.fields == ("*",):
            return not self.kinds or any(f.kind in self.kinds for f in definition.fields)
        return all(code in definition.codes for code in self.fields)

    def concerns(self, definition: FormDefinition) -> list[str]:
        """The codes of `definition` this rule looks at (for the rules page)."""
        if self.fields == ("*",):
            return [f.code for f in definition.fields if not self.kinds or f.kind in self.kinds]
        return [code for code in self.fields if code in definition.codes]

    def findings(self, frame: Frame) -> Iterator[tuple[int, Finding]]:
        """(row, finding) for every failing cell of the frame, in the order of the fields."""
        for failed in self.test(frame):
            for i in failed.rows.nonzero()[0].tolist():
                code = failed.field
                yield (
                    i,
                    Finding(
                        rule=self.id,
                        severity=self.severity,
                        field=code,
                        message=self.message.format(**failed.params(i)),
                        location=failed.location(i) if failed.location else frame.where(i, code),
                        fields=failed.fields or ((code,) if code else ()),
                    ),
                )


# ---- E1xx: each field on its own ---------------------------------------------------------------------------


def _required_in(*, numbers: bool) -> Test:
    def test(f: Frame) -> Iterator[Failures]:
        codes = [fd.code for fd in f.definition.fields if fd.is_number == numbers and fd.required]
        if not codes:
            return
        missing = f.blanks(codes)
        if f.any_unparsed:
            missing &= ~np.stack([f.unparsed(code) for code in codes], axis=1)
        for j, code in enumerate(codes):
            yield Failures(code, missing[:, j], lambda i, code=code: {"label": f.label(code)})

    return test


NUMERIC_ADVICE = "请填写阿拉伯数字（单位：{unit}），不要填写文字、公式或错误值。"


def not_numeric_message(fd: FieldDef, raw_text: str, *, month: int | None, advice: str = "") -> str:
    """The E102 message; parsing uses it for input it cannot read as a number."""
    return rule("E102").message.format(
        label=fd.label_for(month), raw=raw_text, advice=advice or NUMERIC_ADVICE.format(unit=fd.unit)
    )


def _numeric(f: Frame) -> Iterator[Failures]:
    # Parsing reports unreadable input; this catches values handed over already "parsed" but not numbers.
    fields = f.definition.number_fields
    if not fields:
        return
    codes = [fd.code for fd in fields]
    failing = ~f.blanks(codes) & ~f.block(codes).ok
    for j, fd in enumerate(fields):
        raw = f.raw(fd.code)

        def params(i, fd=fd, raw=raw):
            return {
                "label": f.label(fd.code),
                "raw": str(raw[i])[:30],
                "advice": NUMERIC_ADVICE.format(unit=fd.unit),
            }

        yield Failures(fd.code, failing[:, j], params)


def _value_params(f: Frame, code: str, **extra) -> Callable[[int], dict]:
    """label and value of `code` in row i (E103–E105)."""
    v = f.value(code).v
    return lambda i: {"label": f.label(code), "value": f.amount(code, v[i]), **extra}


def _non_negative(f: Frame) -> Iterator[Failures]:
    codes = [fd.code for fd in f.definition.number_fields]
    if not codes:
        return
    v = f.block(codes)
    negative = v.ok & (v.v < 0)
    for j, code in enumerate(codes):
        yield Failures(code, negative[:, j], _value_params(f, code))


def _integer(f: Frame) -> Iterator[Failures]:
    codes = [fd.code for fd in f.definition.number_fields if fd.integer]
    if not codes:
        return
    v = f.block(codes)
    fractional = _off_step(v.v, v.ok, _ONE)
    for j, code in enumerate(codes):
        yield Failures(code, fractional[:, j], _value_params(f, code))


def _precision(f: Frame) -> Iterator[Failures]:
    fields = [fd for fd in f.definition.number_fields if not fd.integer]
    if not fields:
        return
    v = f.block([fd.code for fd in fields])
    steps = np.array([_ONE.scaleb(-fd.decimals) for fd in fields], dtype=object)
    too_precise = _off_step(v.v, v.ok, steps)
    for j, fd in enumerate(fields):
        yield Failures(fd.code, too_precise[:, j], _value_params(f, fd.code, decimals=fd.decimals))


# ---- E2xx: a part never exceeds its whole --------------------------------------------------------------------


def _part_within_whole(part: str, whole: str) -> Test:
    def test(f: Frame) -> Iterator[Failures]:
        p, w = f.value(part), f.value(whole)

        def params(i):
            return {
                "part_label": f.label(part),
                "part_value": f.amount(part, p.v[i]),
                "whole_label": f.label(whole),
                "whole_value": f.amount(whole, w.v[i]),
            }

        yield Failures(part, p.ok & w.ok & (p.v > w.v), params, (part, whole))

    return test


# ---- E3xx: this month against last month ---------------------------------------------------------------------


def _month_params(f: Frame, code: str, cur, prev, j: int, *, more=None, **fixed) -> Callable[[int], dict]:
    """The message parameters of a field set against last month: its label, this month's and last month's
    amounts (column j of the blocks `cur` and `prev`), then `fixed` and what `more(i)` adds for row i."""

    def params(i):
        return {
            "label": f.label(code),
            "current": f.amount(code, cur.v[i, j]),
            "previous": f.amount(code, prev.v[i, j]),
            **fixed,
            **(more(i) if more else {}),
        }

    return params


def _ytd_not_falling(f: Frame) -> Iterator[Failures]:
    if f.month is None or f.month <= 1:  # January restarts every year-to-date figure
        return
    codes = f.codes_of(Kind.YTD)
    if not codes:
        return
    cur, prev = f.block(codes), f.block(codes, "previous")
    falling = cur.ok & prev.ok & (cur.v < prev.v)
    for j, code in enumerate(codes):
        yield Failures(code, falling[:, j], _month_params(f, code, cur, prev, j, previous_month=f.month - 1))


# ---- W4xx: plausibility, explained rather than blocked ------------------------------------------------------


def _band(code: str, low_name: str, high_name: str) -> Test:
    def test(f: Frame) -> Iterator[Failures]:
        v = f.value(code)
        low = getattr(f.thresholds, low_name)
        high = getattr(f.thresholds, high_name)
        outside = v.ok & ~((low <= v.v) & (v.v <= high))
        yield Failures(
            code, outside, _value_params(f, code, low=f.amount(code, low), high=f.amount(code, high))
        )

    return test


def _stock_swing(f: Frame) -> Iterator[Failures]:
    limit = f.thresholds.stock_mom_change
    codes = f.codes_of(Kind.STOCK)
    if not codes:
        return
    cur, prev = f.block(codes), f.block(codes, "previous")
    change, defined = _relative_changes(cur, prev)
    swung = defined & (np.abs(change) > limit)
    shown_limit = format_percent(limit, signed=False)
    for j, code in enumerate(codes):

        def extra(i, j=j):
            return {"change": format_percent(change[i, j]), "limit": shown_limit}

        yield Failures(code, swung[:, j], _month_params(f, code, cur, prev, j, more=extra))


def _same_as_last_month(f: Frame) -> Iterator[Failures]:
    codes = f.definition.codes
    same = f.has_previous.copy()
    if codes:
        cur, prev = f.block(codes), f.block(codes, "previous")
        same &= (cur.ok & prev.ok & (cur.v == prev.v)).all(axis=1)
    yield Failures(None, same, lambda i: {"count": len(codes)}, tuple(codes))


def _shares(part: Operands, whole: Operands) -> tuple[np.ndarray, np.ndarray]:
    """part / whole per row, and where it is defined (both usable, whole ≠ 0)."""
    defined = part.ok & whole.ok & (whole.v != 0)
    return part.v / _guarded(whole.v, defined), defined


def _first_loan_share_jump(f: Frame) -> Iterator[Failures]:
    current, now_defined = _shares(f.value(FIRST_LOAN_BORROWERS), f.value(NEW_BORROWERS))
    previous, then_defined = _shares(f.prev(FIRST_LOAN_BORROWERS), f.prev(NEW_BORROWERS))
    limit = f.thresholds.first_loan_share_jump
    compared = f.has_previous & now_defined & then_defined
    jump = compared & (np.abs(current - previous) > limit)

    def params(i):
        return {
            "part_label": f.label(FIRST_LOAN_BORROWERS),
            "whole_label": f.label(NEW_BORROWERS),
            "previous": format_percent(previous[i], signed=False),
            "current": format_percent(current[i], signed=False),
            "change": f"{(current[i] - previous[i]) * 100:+.1f}",
            "limit": format_decimal(limit * 100),
        }

    yield Failures(FIRST_LOAN_BORROWERS, jump, params, (FIRST_LOAN_BORROWERS, NEW_BORROWERS))


def _median(xs: list[Decimal]) -> Decimal:
    s = sorted(xs)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


class PeerChanges(dict):
    """Field code → the peers' month-on-month changes, remembering each field's count, median and MAD.

    Every row of one group and month is compared with the same peers (a bulk import shares one instance
    among them), so the sorts behind median and MAD are done once per field, not once per row: otherwise a
    month split over several workbooks costs rows × peers × log(peers).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stats: dict[str, tuple[int, Decimal | None, Decimal | None]] = {}

    def stats(self, code: str) -> tuple[int, Decimal | None, Decimal | None]:
        if code not in self._stats:
            peers = [p for p in (_number(x) for x in self.get(code) or ()) if p is not None]
            median = _median(peers) if peers else None
            mad = _median([abs(p - median) for p in peers]) if peers else None
            self._stats[code] = (len(peers), median, mad)
        return self._stats[code]


def _group_outlier(f: Frame) -> Iterator[Failures]:
    """Modified z-score (Iglewicz & Hoaglin) of this institution's change against its peers' changes.

    Median and MAD are taken over the peers only, so an outlier cannot pull the yardstick toward itself.
    """
    t = f.thresholds
    codes = f.codes_of(Kind.STOCK)
    if not codes:
        return
    x, defined = _relative_changes(f.block(codes), f.block(codes, "previous"))
    peers = f.peers("group_changes", codes)
    count, median, mad = peers.count, peers.median, peers.mad
    compared = defined & peers.present & peers.has_mad & (count >= t.group_min_peers)
    z = MAD_SCALE * (np.where(compared, x, _ZERO) - median) / mad
    outlying = compared & (np.abs(z) > t.group_outlier_z)
    for j, code in enumerate(codes):

        def params(i, j=j, code=code):
            return {
                "label": f.label(code),
                "change": format_percent(x[i, j]),
                "peers": int(count[i, j]),
                "median": format_percent(median[i, j]),
                "z": f"{z[i, j]:.1f}",
                "limit": format_decimal(t.group_outlier_z),
            }

        yield Failures(code, outlying[:, j], params)


def _write_off_share(f: Frame) -> Iterator[Failures]:
    """普惠小微不良贷款核销 (year to date) set against the 普惠小微 balance: a share above the configured one is
    implausible for a year's write-offs (a figure typed in 万元, or the whole 不良 stock rather than 核销)."""
    written_off, balance = f.value(NPL_WRITE_OFFS), f.value(LOAN_BALANCE)
    limit = f.thresholds.write_off_share_max
    compared = written_off.ok & balance.ok & (balance.v > 0)
    share = written_off.v / _guarded(balance.v, compared)

    def params(i):
        return {
            "label": f.label(NPL_WRITE_OFFS),
            "value": f.amount(NPL_WRITE_OFFS, written_off.v[i]),
            "balance_label": f.label(LOAN_BALANCE),
            "balance": f.amount(LOAN_BALANCE, balance.v[i]),
            "share": format_percent(share[i], signed=False),
            "limit": format_percent(limit, signed=False),
        }

    yield Failures(NPL_WRITE_OFFS, compared & (share > limit), params, (NPL_WRITE_OFFS, LOAN_BALANCE))


# ---- E6xx / W6xx: figures in the wrong unit ----------------------------------------------------------------


def _per_borrower(amount: str, count: str) -> Test:
    """An amount per borrower above the 普惠小微 cap of 1000万元 per 户: a figure in 万元 typed for 亿元."""

    def test(f: Frame) -> Iterator[Failures]:
        total, borrowers = f.value(amount), f.value(count)
        cap = f.thresholds.max_per_borrower
        factor = f.thresholds.unit_factor
        compared = total.ok & borrowers.ok & (borrowers.v > 0) & (total.v > 0)
        average = total.v / _guarded(borrowers.v, compared)

        def params(i):
            as_yi = total.v[i] / factor
            hint = (
                f"如果“{f.label(amount)}”是按万元填写的，应为 {format_decimal(round(as_yi, 4))} 亿元"
                if as_yi / borrowers.v[i] <= cap and average[i] >= cap * 100  # ~10,000× a typical average
                else f"请核对“{f.label(amount)}”（亿元）和“{f.label(count)}”（户）的单位"
            )
            return {
                "amount_label": f.label(amount),
                "amount_value": f.amount(amount, total.v[i]),
                "count_label": f.label(count),
                "count_value": f.amount(count, borrowers.v[i]),
                "average": f"{format_decimal(round(average[i] * factor, 2))} 万元",
                "cap": f"{format_decimal(cap * factor)} 万元",
                "hint": hint,
            }

        yield Failures(amount, compared & (average > cap), params, (amount, count))

    return test


def _likely_params(f: Frame, code: str, likely: Callable[[Decimal], str]) -> Callable[[int], dict]:
    v = f.value(code).v
    return lambda i: {"label": f.label(code), "value": format_decimal(v[i]), "likely": likely(v[i])}


def _rate_as_fraction(f: Frame) -> Iterator[Failures]:
    rate = f.value(WEIGHTED_RATE)
    fraction = rate.ok & (rate.v > 0) & (rate.v < f.thresholds.rate_fraction_below)
    yield Failures(
        WEIGHTED_RATE, fraction, _likely_params(f, WEIGHTED_RATE, lambda v: f"{format_decimal(v * 100)}%")
    )


def _ftp_in_percent(f: Frame) -> Iterator[Failures]:
    ftp = f.value(FTP_DISCOUNT)
    small = ftp.ok & (ftp.v > 0) & (ftp.v <= f.thresholds.ftp_percent_at_most)
    percent = _off_step(ftp.v, small, _ONE)
    yield Failures(
        FTP_DISCOUNT, percent, _likely_params(f, FTP_DISCOUNT, lambda v: f"{format_decimal(v * 100)} BP")
    )


def _unit_slip(ratio: Decimal, factor: Decimal, slack: Decimal) -> str | None:
    """ "大" / "小" when `ratio` is about `factor` or its inverse (a 万 / 亿 slip), else None."""
    if factor / slack <= ratio <= factor * slack:
        return "大"
    if ratio > 0 and factor / slack <= 1 / ratio <= factor * slack:
        return "小"
    return None


def _slips(value: np.ndarray, base: np.ndarray, usable: np.ndarray, t: Thresholds) -> np.ndarray:
    """Rows where value / base is about the unit factor or its inverse (`_unit_slip` over a column)."""
    if not usable.any():
        return usable
    low, high = t.unit_factor / t.unit_factor_slack, t.unit_factor * t.unit_factor_slack
    ratio = value / _guarded(base, usable)
    slips = usable & (low <= ratio) & (ratio <= high)
    # 1 / ratio ≥ low needs a ratio of about 1 / low or less: only those rows are inverted (as _unit_slip does)
    inverted = usable & (ratio > 0)
    if low > 0:
        inverted &= ratio < 2 / low
    tiny = inverted.nonzero()  # (rows,) or (rows, fields) of the cells to invert
    if tiny[0].size:
        inverse = 1 / ratio[tiny]
        slips[tiny] |= (low <= inverse) & (inverse <= high)
    return slips


def _unit_against_neighbours(f: Frame) -> Iterator[Failures]:
    """A figure about 10,000× (or 1/10,000) of last month's, or of its group's median this month."""
    t = f.thresholds
    fields = [
        fd
        for fd in f.definition.number_fields
        # W603 / W604 know the likely slip of a rate and a BP figure
        if fd.code not in (WEIGHTED_RATE, FTP_DISCOUNT) and fd.kind in (Kind.STOCK, Kind.YTD)
    ]
    if not fields:
        return
    codes = [fd.code for fd in fields]
    value, previous = f.block(codes), f.block(codes, "previous")  # rows × fields
    positive = value.ok & (value.v > 0)
    against_last_month = positive & previous.ok & (previous.v > 0)
    if f.month == 1:  # January's year-to-date figures start again
        against_last_month &= np.array([fd.kind != Kind.YTD for fd in fields])
    levels = f.peers("group_levels", codes)
    count, median = levels.count, levels.median
    against_group = (
        positive & levels.present & levels.has_median & (count >= t.group_min_peers) & (median > 0)
    )
    by_last_month = _slips(value.v, previous.v, against_last_month, t)
    by_group = _slips(value.v, median, against_group, t)
    slipped = by_last_month | by_group

    for j, code in enumerate(codes):

        def params(i, j=j, code=code):
            if by_last_month[i, j]:
                base = previous.v[i, j]
                what = f"上月（{f.amount(code, base)}）"
            else:
                base = median[i, j]
                what = f"同组 {int(count[i, j])} 家机构的中位数（{f.amount(code, base)}）"
            v = value.v[i, j]
            return {
                "label": f.label(code),
                "value": f.amount(code, v),
                "base": what,
                "times": format_decimal(round(v / base, 1))
                if _unit_slip(v / base, t.unit_factor, t.unit_factor_slack) == "大"
                else "1/" + format_decimal(round(base / v, 0)),
                "unit": f.definition.field(code).unit,
            }

        yield Failures(code, slipped[:, j], params)


# ---- 附件2: contact details ----------------------------------------------------------------------------------

_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
# 区号 3–4 digits (optional parentheses), a 7–8 digit local number (never starting 0 or 1), optional extension,
# or a 400/800 service number: 027-87654321, (027)8765-4321转123, 400-888-8888. "027-1234" is no number.
_PHONE = re.compile(
    r"^(?:\(?0\d{2,3}\)?)?[2-8]\d{6,7}(?:(?:转|ext\.?|#)\d{1,6})?$|^[48]00\d{7}$", re.IGNORECASE
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_FORMAT_HINTS = {
    "mobile": ("手机号码", "11 位手机号码，如 13912345678"),
    "phone": ("办公电话", "区号加号码，如 027-87654321，分机可写作 027-87654321转123"),
    "email": ("邮箱地址", "完整的邮箱地址，如 name@bank.com.cn"),
}


def _format_ok(text: str, kind: str) -> bool:
    compact = re.sub(r"[\s\-－—]", "", text) if kind in {"mobile", "phone"} else text.strip()
    if kind == "mobile":
        return bool(_MOBILE.match(compact))
    if kind == "phone":
        return bool(_PHONE.match(compact)) or bool(_MOBILE.match(compact))
    if kind == "email":
        return bool(_EMAIL.match(compact))
    return True


def _text_format(f: Frame) -> Iterator[Failures]:
    for fd in f.definition.fields:
        if not fd.text_format:
            continue
        raw = f.raw(fd.code)
        bad = [isinstance(x, str) and not _format_ok(x, fd.text_format) for x in raw]
        what, hint = _FORMAT_HINTS[fd.text_format]

        def params(i, code=fd.code, raw=raw, what=what, hint=hint):
            return {"label": f.label(code), "value": raw[i][:40], "what": what, "hint": hint}

        yield Failures(fd.code, np.fromiter(bad, dtype=bool, count=f.n), params)


def _text_length(f: Frame) -> Iterator[Failures]:
    for fd in f.definition.fields:
        if fd.is_number:
            continue
        raw = f.raw(fd.code)
        long = [isinstance(x, str) and len(x) > fd.max_length for x in raw]

        def params(i, code=fd.code, raw=raw, limit=fd.max_length):
            return {"label": f.label(code), "length": len(raw[i]), "limit": limit}

        yield Failures(fd.code, np.fromiter(long, dtype=bool, count=f.n), params)


# ---- 附件3: the loan plan -------------------------------------------------------------------------------------

PLAN_QUARTERS = ("q1_actual", "q2_plan", "q3_plan", "q4_plan")
PLAN_ANNUAL = "planned_increase"


def _plan_rows(definition: FormDefinition) -> list[str]:
    return [r.code for r in definition.rows if r.code != definition.total_row]


def _total(columns: list[Operands], n: int) -> Operands:
    """The sum of columns per row (as `sum` adds, from 0), usable where every part is."""
    ok = np.ones(n, dtype=bool)
    total: np.ndarray | int = 0
    for c in columns:
        ok &= c.ok
        total = total + c.v
    return Operands(total if columns else np.full(n, _ZERO, dtype=object), ok)


def _quarters_add_up(f: Frame) -> Iterator[Failures]:
    tolerance = f.thresholds.quarter_sum_tolerance
    for row in _plan_rows(f.definition):
        total = _total([f.value(f"{row}.{q}") for q in PLAN_QUARTERS], f.n)
        code = f"{row}.{PLAN_ANNUAL}"
        annual = f.value(code)
        gap = total.v - annual.v

        def params(i, code=code, total=total, annual=annual, gap=gap):
            return {
                "row": f.definition.field(code).row_label,
                "quarters": format_amount(total.v[i], "亿元"),
                "annual": format_amount(annual.v[i], "亿元"),
                "gap": format_amount(gap[i], "亿元"),
                "tolerance": format_amount(tolerance, "亿元"),
            }

        yield Failures(
            code,
            total.ok & annual.ok & (np.abs(gap) > tolerance),
            params,
            (code, *(f"{row}.{q}" for q in PLAN_QUARTERS)),
        )


def _plan_growth(f: Frame) -> Iterator[Failures]:
    """The 增速 the portal derives (`FormDefinition.derive`): (numerator − base) / denominator."""
    t = f.thresholds
    zero = Operands(np.full(f.n, _ZERO, dtype=object), np.ones(f.n, dtype=bool))
    for row in _plan_rows(f.definition):
        for computed in f.definition.computed:
            top = f.value(f"{row}.{computed.numerator}")
            base = f.value(f"{row}.{computed.base}") if computed.base else zero
            bottom = f.value(f"{row}.{computed.denominator}")
            defined = top.ok & base.ok & bottom.ok & (bottom.v != 0)
            ratio = (top.v - base.v) / _guarded(bottom.v, defined)
            code = f"{row}.{computed.numerator}"

            def params(i, code=code, computed=computed, ratio=ratio):
                return {
                    "row": f.definition.field(code).row_label,
                    "label": computed.label,
                    "value": format_percent(ratio[i], signed=False),
                    "low": format_percent(t.plan_growth_min, signed=False),
                    "high": format_percent(t.plan_growth_max, signed=False),
                }

            outside = defined & ~((t.plan_growth_min <= ratio) & (ratio <= t.plan_growth_max))
            yield Failures(code, outside, params, (code, f"{row}.{computed.denominator}"))


def _against_monthly(column: str, describe: Callable[[dict], Decimal | None], source: str) -> Test:
    """全省 (the sum of the regions, unknown while any is missing) against the approved 附件4's figure."""

    def test(f: Frame) -> Iterator[Failures]:
        rows = _plan_rows(f.definition)
        planned = _total([f.value(f"{row}.{column}") for row in rows], f.n)
        actual = f.related(describe)
        gap = planned.v - actual.v
        compared = planned.ok & actual.ok
        code = f"{rows[0]}.{column}"
        label = f.definition.field(code).label.split(" · ", 1)[1]
        total_label = dict((r.code, r.label) for r in f.definition.rows)[f.definition.total_row]

        def params(i):
            return {
                "label": label,
                "planned": format_amount(planned.v[i], "亿元"),
                "actual": format_amount(actual.v[i], "亿元"),
                "source": source.format(year=f.year, prev=f.year - 1),
                "gap": format_amount(gap[i], "亿元"),
            }

        yield Failures(
            code,
            compared & (np.abs(gap) > f.thresholds.cross_return_tolerance),
            params,
            tuple(f"{row}.{column}" for row in rows),
            location=lambda i: f"{total_label} · {label}",
        )

    return test


def _q1_growth(related: dict) -> Decimal | None:
    march, december = related.get("balance_march"), related.get("balance_prev_dec")
    return None if march is None or december is None else march - december


_UNSORTED: tuple[Rule, ...] = (
    Rule(
        id="E101",
        severity=ERROR,
        scope=Scope.FIELD,
        fields=("*",),
        message="“{label}”未填写：本项为必填项，请填写数值；如确实为零，请填写 0。",
        description="每一项都必须填写；空白与 0 不同，数值为零时应填 0。",
        test=_required_in(numbers=True),
    ),
    Rule(
        id="E102",
        severity=ERROR,
        scope=Scope.FIELD,
        fields=("*",),
        message="“{label}”填写的“{raw}”不是数值：{advice}",
        description="每一项都必须是数字；可带千分位、全角数字或与本项一致的单位，不接受文字、公式或错误值（如 #DIV/0!）。",
        test=_numeric,
    ),
    Rule(
        id="E103",
        severity=ERROR,
        scope=Scope.FIELD,
        fields=("*",),
        message="“{label}”为负数（{value}）：余额、金额、户数、点数和利率都不应为负，请核对。",
        description="所有指标都不能为负数。",
        test=_non_negative,
    ),
    Rule(
        id="E104",
        severity=ERROR,
        scope=Scope.FIELD,
        fields=("*",),
        message="“{label}”（{value}）不是整数：户数按户统计，请填写整数。",
        description="户数类指标必须是整数。",
        test=_integer,
    ),
    Rule(
        id="E105",
        severity=ERROR,
        scope=Scope.FIELD,
        fields=("*",),
        message="“{label}”（{value}）小数位数过多：本项最多保留 {decimals} 位小数，请按要求四舍五入后填写。",
        description="金额、点数和利率的小数位数不超过该项规定的精度。",
        test=_precision,
    ),
    Rule(
        id="E201",
        severity=ERROR,
        scope=Scope.CROSS_FIELD,
        fields=(CREDIT_LOAN_BALANCE, LOAN_BALANCE),
        message="“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "信用贷款是普惠小微贷款的一部分，请核对两项数据。",
        description="普惠小微信用贷款余额不大于普惠小微贷款余额。",
        test=_part_within_whole(CREDIT_LOAN_BALANCE, LOAN_BALANCE),
    ),
    Rule(
        id="E202",
        severity=ERROR,
        scope=Scope.CROSS_FIELD,
        fields=(NEW_CREDIT_LOANS, NEW_LOANS),
        message="“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "新发放信用贷款是新发放普惠小微贷款的一部分，请核对两项数据。",
        description="新发放普惠小微信用贷款金额不大于新发放普惠小微贷款金额。",
        test=_part_within_whole(NEW_CREDIT_LOANS, NEW_LOANS),
    ),
    Rule(
        id="E203",
        severity=ERROR,
        scope=Scope.CROSS_FIELD,
        fields=(FIRST_LOAN_AMOUNT, NEW_LOANS),
        message="“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "首贷是年内新发放普惠小微贷款的一部分，请核对两项数据。",
        description="首贷金额不大于新发放普惠小微贷款金额。",
        test=_part_within_whole(FIRST_LOAN_AMOUNT, NEW_LOANS),
    ),
    Rule(
        id="E204",
        severity=ERROR,
        scope=Scope.CROSS_FIELD,
        fields=(FIRST_LOAN_BORROWERS, NEW_BORROWERS),
        message="“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "首贷户是年内获得新发放贷款的小微企业的一部分，请核对两项户数。",
        description="拓展首贷户数不大于新发放小微企业贷款户数。",
        test=_part_within_whole(FIRST_LOAN_BORROWERS, NEW_BORROWERS),
    ),
    Rule(
        id="E205",
        severity=ERROR,
        scope=Scope.CROSS_FIELD,
        fields=(LOAN_BALANCE, TOTAL_LOAN_BALANCE),
        message="“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "普惠小微贷款是各项贷款的一部分，请核对两项数据（两项均以亿元填写）。",
        description="普惠小微贷款余额不大于各项贷款余额（2023年版起）。",
        test=_part_within_whole(LOAN_BALANCE, TOTAL_LOAN_BALANCE),
    ),
    Rule(
        id="W409",
        severity=WARNING,
        scope=Scope.CROSS_FIELD,
        fields=(NPL_WRITE_OFFS, LOAN_BALANCE),
        message="“{label}”（{value}）占“{balance_label}”（{balance}）的 {share}，超过 {limit} 的合理比例："
        "本项为年初至本期末核销的普惠小微不良贷款，请核对单位（亿元）和口径；如数据属实，请说明原因。",
        description="年初至今普惠小微不良贷款核销金额不超过普惠小微贷款余额的配置比例（2023年版起）。",
        test=_write_off_share,
    ),
    Rule(
        id="E301",
        severity=ERROR,
        scope=Scope.CROSS_PERIOD,
        fields=("*",),
        message="“{label}”是年初至本期末的累计数，本月（{current}）小于{previous_month}月（{previous}）："
        "累计数在年内不会减少，请核对本月数据；如{previous_month}月数据有误，请先更正{previous_month}月报表。",
        description="年初至今累计类指标（新发放金额、户数、首贷、减费让利）在同一年内逐月不减少；1月重新起算，不作比较。",
        test=_ytd_not_falling,
        kinds=(Kind.YTD,),
    ),
    Rule(
        id="W401",
        severity=WARNING,
        scope=Scope.FIELD,
        fields=(WEIGHTED_RATE,),
        message="“{label}”为 {value}，超出合理区间 {low}～{high}：请核对是否按百分数填写（如 4.35 而不是 0.0435）；"
        "如数据属实，请说明原因。",
        description="普惠小微贷款加权平均利率应在配置的合理区间内。",
        test=_band(WEIGHTED_RATE, "rate_min", "rate_max"),
    ),
    Rule(
        id="W402",
        severity=WARNING,
        scope=Scope.FIELD,
        fields=(FTP_DISCOUNT,),
        message="“{label}”为 {value}，超出合理区间 {low}～{high}：请核对是否按基点填写（1 个百分点 = 100 BP）；"
        "如数据属实，请说明原因。",
        description="一年期普惠小微贷款 FTP 优惠点数应在配置的合理区间内。",
        test=_band(FTP_DISCOUNT, "ftp_min", "ftp_max"),
    ),
    Rule(
        id="W403",
        severity=WARNING,
        scope=Scope.CROSS_PERIOD,
        fields=("*",),
        message="“{label}”本月为 {current}，上月为 {previous}，环比变动 {change}，超过 ±{limit} 的预警幅度："
        "请核对数据；如数据属实，请说明原因。",
        description="月末余额、户数等时点指标环比变动幅度不超过配置的比例；上月为 0 或缺失时不比较。",
        test=_stock_swing,
        kinds=(Kind.STOCK,),
    ),
    Rule(
        id="W404",
        severity=WARNING,
        scope=Scope.CROSS_PERIOD,
        fields=("*",),
        message="本月全部 {count} 项数据与上月完全相同：请确认没有误将上月数据重复报送；如数据属实，请说明原因。",
        description="整张表与上月逐项相同，可能是误报了上月数据。",
        test=_same_as_last_month,
    ),
    Rule(
        id="W405",
        severity=WARNING,
        scope=Scope.CROSS_PERIOD,
        fields=(FIRST_LOAN_BORROWERS, NEW_BORROWERS),
        message="首贷户比重（“{part_label}”÷“{whole_label}”）由上月 {previous} 变为本月 {current}，"
        "变动 {change} 个百分点，超过 {limit} 个百分点的预警幅度：请核对两项户数；如数据属实，请说明原因。",
        description="首贷户比重（004 脚注2）环比变动不超过配置的百分点；比重无定义（新发放户数为 0 或缺失）时不比较。",
        test=_first_loan_share_jump,
    ),
    Rule(
        id="W406",
        severity=WARNING,
        scope=Scope.GROUP,
        fields=("*",),
        message="“{label}”环比变动 {change}，明显偏离同组其他 {peers} 家机构（中位数 {median}）："
        "修正 z 分数 {z}，绝对值超过 {limit}；请核对数据；如数据属实，请说明原因。",
        description="时点指标的环比变动与同一评估组其他机构相比不应是离群值（修正 z 分数，中位数与 MAD 取自同组其他机构；"
        "同组机构过少或 MAD 为 0 时不比较）。",
        test=_group_outlier,
        kinds=(Kind.STOCK,),
    ),
    Rule(
        id="E106",
        severity=ERROR,
        scope=Scope.FIELD,
        fields=("*",),
        message="“{label}”未填写：本项为必填项，请填写。",
        description="联系人表的每一格都必须填写。",
        test=_required_in(numbers=False),
        kinds=(Kind.TEXT,),
    ),
    Rule(
        id="E107",
        severity=ERROR,
        scope=Scope.FIELD,
        fields=("*",),
        message="“{label}”填写的“{value}”不是有效的{what}：请填写{hint}。",
        description="办公电话、手机和邮箱须符合格式（手机 11 位；电话为区号加号码，可带分机；邮箱含 @ 和域名）。",
        test=_text_format,
        kinds=(Kind.TEXT,),
    ),
    Rule(
        id="E108",
        severity=ERROR,
        scope=Scope.FIELD,
        fields=("*",),
        message="“{label}”过长（{length} 个字）：本项最多 {limit} 个字，请精简。",
        description="文字项不超过规定长度。",
        test=_text_length,
        kinds=(Kind.TEXT,),
    ),
    Rule(
        id="W407",
        severity=WARNING,
        scope=Scope.CROSS_FIELD,
        fields=("*",),
        message="{row}：四个季度合计 {quarters}，与全年预计新增额 {annual} 相差 {gap}（容差 {tolerance}）："
        "一季度实际新增额与二、三、四季度预计新增额之和应等于全年预计新增额，请核对；如属实，请说明原因。",
        description="附件3 每一行：一季度实际新增额 + 二、三、四季度预计新增额 = 全年预计新增额（超出容差为预警）。",
        test=_quarters_add_up,
        kinds=(Kind.PLAN,),
    ),
    Rule(
        id="W408",
        severity=WARNING,
        scope=Scope.CROSS_FIELD,
        fields=("*",),
        message="{row}：{label}为 {value}，超出合理区间 {low}～{high}：请核对余额和新增额的单位（亿元）；如属实，请说明原因。",
        description="附件3 的上年增速和本年预计增速应在配置的合理区间内；分母为 0 或缺失时增速无定义，不比较。",
        test=_plan_growth,
        kinds=(Kind.PLAN,),
    ),
    Rule(
        id="W501",
        severity=WARNING,
        scope=Scope.CROSS_RETURN,
        fields=("*",),
        message="全省“{label}”为 {planned}，而已审核的监测表显示 {source}为 {actual}，相差 {gap}：请核对两张表；"
        "如属实，请说明原因。",
        description="附件3 全省一季度实际新增额应等于已审核的附件4 3月末余额减上年12月末余额。",
        test=_against_monthly("q1_actual", _q1_growth, "{year}年3月末余额减{prev}年12月末余额（附件4）"),
        kinds=(Kind.PLAN,),
    ),
    Rule(
        id="W502",
        severity=WARNING,
        scope=Scope.CROSS_RETURN,
        fields=("*",),
        message="全省“{label}”为 {planned}，而已审核的监测表显示 {source}为 {actual}，相差 {gap}：请核对两张表；"
        "如属实，请说明原因。",
        description="附件3 全省上年末余额应等于已审核的附件4 上年12月末普惠小微贷款余额。",
        test=_against_monthly(
            "balance_y1",
            lambda r: r.get("balance_prev_dec"),
            "{prev}年12月末普惠小微贷款余额（附件4）",
        ),
        kinds=(Kind.PLAN,),
    ),
    Rule(
        id="E601",
        severity=ERROR,
        scope=Scope.CROSS_FIELD,
        fields=(LOAN_BALANCE, BORROWERS),
        message="“{amount_label}”（{amount_value}）÷“{count_label}”（{count_value}）= 平均每户 {average}，"
        "超过普惠小微单户授信上限 {cap}：余额以亿元填写，{hint}。",
        description="普惠小微是单户授信 1000万元（含）以下的贷款，普惠小微贷款余额 ÷ 户数不超过 0.1 亿元（按万元填写会大 10000 倍）。",
        test=_per_borrower(LOAN_BALANCE, BORROWERS),
    ),
    Rule(
        id="W602",
        severity=WARNING,
        scope=Scope.CROSS_FIELD,
        fields=(FIRST_LOAN_AMOUNT, FIRST_LOAN_BORROWERS),
        message="“{amount_label}”（{amount_value}）÷“{count_label}”（{count_value}）= 平均每户 {average}，"
        "超过普惠小微单户授信上限 {cap}：金额以亿元填写，{hint}；如数据属实，请说明原因。",
        description="首贷金额 ÷ 拓展首贷户数一般不超过普惠小微单户授信上限 0.1 亿元。",
        test=_per_borrower(FIRST_LOAN_AMOUNT, FIRST_LOAN_BORROWERS),
    ),
    Rule(
        id="W603",
        severity=WARNING,
        scope=Scope.FIELD,
        fields=(WEIGHTED_RATE,),
        message="“{label}”填写的 {value} 像是按小数填写的利率：本项以百分数填写，很可能应为 {likely}；"
        "请更正，如数据属实，请说明原因。",
        description="加权平均利率以百分数填写（4.98 而不是 0.0498）；小于 1 时预警并给出可能的更正。",
        test=_rate_as_fraction,
    ),
    Rule(
        id="W604",
        severity=WARNING,
        scope=Scope.FIELD,
        fields=(FTP_DISCOUNT,),
        message="“{label}”填写的 {value} 像是按百分点填写的：本项以基点（BP）填写，1 个百分点 = 100 BP，很可能应为 {likely}；"
        "请更正，如数据属实，请说明原因。",
        description="FTP 优惠以基点填写；不超过 3 且带小数时，多半是按百分点填写。",
        test=_ftp_in_percent,
    ),
    Rule(
        id="W605",
        severity=WARNING,
        scope=Scope.CROSS_PERIOD,
        fields=("*",),
        message="“{label}”为 {value}，约为{base}的 {times} 倍：很可能是单位填错（万元与亿元、户与万户都相差 10000 倍），"
        "本项单位为{unit}，请核对；如数据属实，请说明原因。",
        description="金额和户数约为上月或同组中位数的 10000 倍（或 1/10000）时，预警单位可能填错。",
        test=_unit_against_neighbours,
        kinds=(Kind.STOCK, Kind.YTD),
    ),
)

RULES: tuple[Rule, ...] = tuple(sorted(_UNSORTED, key=lambda r: r.id))
_BY_ID = {r.id: r for r in RULES}


def rule(id: str) -> Rule:
    """The rule with this id; KeyError for an unknown id."""
    return _BY_ID[id]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then by rule id; within a rule, the order the fields appear on the form."""
    return sorted(findings, key=lambda f: (not f.is_error, f.rule))


_APPLICABLE: dict[int, tuple[FormDefinition, tuple[Rule, ...]]] = {}


def _applicable(definition: FormDefinition) -> tuple[Rule, ...]:
    """The rules that apply to an edition, kept per definition object (there are a handful)."""
    known = _APPLICABLE.get(id(definition))
    if known is None or known[0] is not definition:
        if len(_APPLICABLE) > 256:
            _APPLICABLE.clear()
        known = _APPLICABLE[id(definition)] = (definition, tuple(r for r in RULES if r.applies(definition)))
    return known[1]


def validate_many(contexts: Sequence[Context]) -> list[list[Finding]]:
    """The findings of each context, sorted as `sort_findings` sorts them.

    Contexts of one definition, year and month are checked together as one frame: each rule marks the failing
    rows of a column at once, and a message is built only for a failing cell. `validate` is the one-row
    case, so a return is checked the same way alone and in a bulk import of thousands."""
    out: list[list[Finding]] = [[] for _ in contexts]
    batches: dict[tuple[int, int, int | None], list[int]] = {}
    for i, ctx in enumerate(contexts):
        batches.setdefault((id(ctx.definition), ctx.year, ctx.month), []).append(i)
    for rows in batches.values():
        first = contexts[rows[0]]
        frame = Frame(first.definition, first.year, first.month, [contexts[i] for i in rows])
        for r in _applicable(first.definition):
            for i, finding in r.findings(frame):
                out[rows[i]].append(finding)
    return [sort_findings(findings) for findings in out]


def validate(ctx: Context) -> list[Finding]:
    return validate_many([ctx])[0]


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {ERROR: 0, WARNING: 0}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def unexplained(findings: Iterable[Finding], explanations: dict[str, str]) -> list[Finding]:
    """Warnings that still lack a non-blank explanation (errors cannot be explained away)."""
    return [f for f in findings if f.severity == WARNING and not str(explanations.get(f.key) or "").strip()]
