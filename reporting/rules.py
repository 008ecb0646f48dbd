"""Validation rules for the returns banks file — one registry for the web form, the workbook and the API.

Modelled on CFPB regtech-data-validator: every rule is a pure function over parsed values (never the ORM),
with a stable id, a severity, the fields it concerns, a Chinese message template and a plain description.
Errors (E…) block submission; warnings (W…) need a written explanation keyed by `Finding.key`.

Rules are written over field *kinds* and codes looked up in the definition, so a later edition of
附件4 (2023: 各项贷款余额, 普惠小微不良贷款核销金额) gets the generic rules for its new fields without code
changes; a rule naming a code an edition lacks (E205, W409) does not apply to that edition.
Every threshold comes from `definition.thresholds` (`reporting.definitions.Thresholds`).

Sources: 004 §(十九) (monthly monitoring sheet, 附件4) and the notes printed on it: 户数 are counts of
borrowers; "新发放" figures run from the start of the year to the period end; 首贷户 are a subset of the
borrowers that got a new loan; 首贷户比重 = 拓展首贷户数 / 新发放小微企业贷款户数 (004 footnote 2).

Families: E1xx one field; E2xx a part within its whole; E3xx against last month; W4xx plausibility (bands,
swings, the group); W5xx against the institution's other returns; E6xx/W6xx figures in the wrong unit —
普惠小微 is 单户授信 1000万元（含）以下 (004 附件3 note), so no average balance per borrower exceeds 0.1 亿元,
and a figure 10,000× last month's or the group's median is a 万元 / 亿元 slip.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from reporting.definitions import FieldDef, FormDefinition, Kind

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

    def has(self, code: str) -> bool:
        return code in self.definition.codes

    def fields_of(self, kind: str) -> list[FieldDef]:
        return [f for f in self.definition.fields if f.kind == kind]

    def label(self, code: str) -> str:
        return self.definition.field(code).label_for(self.month)

    def where(self, code: str) -> str:
        return self.locate(code) if self.locate else self.label(code)

    def value(self, code: str) -> Decimal | None:
        return _number(self.values.get(code))

    def prev(self, code: str) -> Decimal | None:
        return _number(self.previous.get(code)) if self.previous else None

    def amount(self, code: str, value: Decimal) -> str:
        return format_amount(value, self.definition.field(code).unit)


def _number(value: object) -> Decimal | None:
    """A usable operand, or None: blanks and non-numbers are reported by E101/E102, not by every rule."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return None


Check = Callable[[Context], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    scope: str
    fields: tuple[str, ...]  # field codes, or ("*",) for every field (of `kinds`, when given)
    message: str
    description: str
    check: Check
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


def _finding(ctx: Context, rule_id: str, code: str | None, fields: tuple[str, ...] = (), **params) -> Finding:
    r = rule(rule_id)
    return Finding(
        rule=r.id,
        severity=r.severity,
        field=code,
        message=r.message.format(**params),
        location=ctx.where(code) if code else WHOLE_SHEET,
        fields=fields or ((code,) if code else ()),
    )


# ---- E1xx: each field on its own ---------------------------------------------------------------------------


def _required_in(rule_id: str, *, numbers: bool) -> Check:
    def check(ctx: Context) -> Iterator[Finding]:
        for fd in ctx.definition.fields:
            missing = ctx.values.get(fd.code) is None and fd.code not in ctx.unparsed
            if fd.is_number == numbers and fd.required and missing:
                yield _finding(ctx, rule_id, fd.code, label=ctx.label(fd.code))

    return check


NUMERIC_ADVICE = "请填写阿拉伯数字（单位：{unit}），不要填写文字、公式或错误值。"


def not_numeric_message(fd: FieldDef, raw_text: str, *, month: int | None, advice: str = "") -> str:
    """The E102 message; parsing uses it for input it cannot read as a number."""
    return rule("E102").message.format(
        label=fd.label_for(month), raw=raw_text, advice=advice or NUMERIC_ADVICE.format(unit=fd.unit)
    )


def _numeric(ctx: Context) -> Iterator[Finding]:
    # Parsing reports unreadable input; this catches values handed over already "parsed" but not numbers.
    for fd in ctx.definition.number_fields:
        raw = ctx.values.get(fd.code)
        if raw is not None and _number(raw) is None:
            yield Finding(
                rule="E102",
                severity=rule("E102").severity,
                field=fd.code,
                message=not_numeric_message(fd, str(raw)[:30], month=ctx.month),
                location=ctx.where(fd.code),
                fields=(fd.code,),
            )


def _non_negative(ctx: Context) -> Iterator[Finding]:
    for fd in ctx.definition.number_fields:
        v = ctx.value(fd.code)
        if v is not None and v < 0:
            yield _finding(ctx, "E103", fd.code, label=ctx.label(fd.code), value=ctx.amount(fd.code, v))


def _integer(ctx: Context) -> Iterator[Finding]:
    for fd in ctx.definition.number_fields:
        v = ctx.value(fd.code)
        if fd.integer and v is not None and v != v.to_integral_value():
            yield _finding(ctx, "E104", fd.code, label=ctx.label(fd.code), value=ctx.amount(fd.code, v))


def _precision(ctx: Context) -> Iterator[Finding]:
    for fd in ctx.definition.number_fields:
        v = ctx.value(fd.code)
        if not fd.integer and v is not None and decimal_places(v) > fd.decimals:
            yield _finding(
                ctx,
                "E105",
                fd.code,
                label=ctx.label(fd.code),
                value=ctx.amount(fd.code, v),
                decimals=fd.decimals,
            )


# ---- E2xx: a part never exceeds its whole --------------------------------------------------------------------


def _part_within_whole(rule_id: str, part: str, whole: str) -> Check:
    def check(ctx: Context) -> Iterator[Finding]:
        p, w = ctx.value(part), ctx.value(whole)
        if p is not None and w is not None and p > w:
            yield _finding(
                ctx,
                rule_id,
                part,
                (part, whole),
                part_label=ctx.label(part),
                part_value=ctx.amount(part, p),
                whole_label=ctx.label(whole),
                whole_value=ctx.amount(whole, w),
            )

    return check


# ---- E3xx: this month against last month ---------------------------------------------------------------------


def _ytd_not_falling(ctx: Context) -> Iterator[Finding]:
    if ctx.month <= 1 or ctx.previous is None:  # January restarts every year-to-date figure
        return
    for fd in ctx.fields_of(Kind.YTD):
        cur, prev = ctx.value(fd.code), ctx.prev(fd.code)
        if cur is not None and prev is not None and cur < prev:
            yield _finding(
                ctx,
                "E301",
                fd.code,
                label=ctx.label(fd.code),
                current=ctx.amount(fd.code, cur),
                previous=ctx.amount(fd.code, prev),
                previous_month=ctx.month - 1,
            )


# ---- W4xx: plausibility, explained rather than blocked ------------------------------------------------------


def _band(rule_id: str, code: str, low_name: str, high_name: str) -> Check:
    def check(ctx: Context) -> Iterator[Finding]:
        v = ctx.value(code)
        low = getattr(ctx.definition.thresholds, low_name)
        high = getattr(ctx.definition.thresholds, high_name)
        if v is not None and not low <= v <= high:
            yield _finding(
                ctx,
                rule_id,
                code,
                label=ctx.label(code),
                value=ctx.amount(code, v),
                low=ctx.amount(code, low),
                high=ctx.amount(code, high),
            )

    return check


def _relative_change(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """(current − previous) / previous; undefined when either is missing or previous is 0."""
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / abs(previous)


def _stock_swing(ctx: Context) -> Iterator[Finding]:
    limit = ctx.definition.thresholds.stock_mom_change
    for fd in ctx.fields_of(Kind.STOCK):
        cur, prev = ctx.value(fd.code), ctx.prev(fd.code)
        change = _relative_change(cur, prev)
        if change is not None and abs(change) > limit:
            yield _finding(
                ctx,
                "W403",
                fd.code,
                label=ctx.label(fd.code),
                current=ctx.amount(fd.code, cur),
                previous=ctx.amount(fd.code, prev),
                change=format_percent(change),
                limit=format_percent(limit, signed=False),
            )


def _same_as_last_month(ctx: Context) -> Iterator[Finding]:
    if not ctx.previous:
        return
    codes = ctx.definition.codes
    current = [ctx.value(c) for c in codes]
    previous = [ctx.prev(c) for c in codes]
    if None not in current and None not in previous and current == previous:
        yield _finding(ctx, "W404", None, tuple(codes), count=len(codes))


def _share(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or whole is None or whole == 0:
        return None
    return part / whole


def _first_loan_share_jump(ctx: Context) -> Iterator[Finding]:
    if not ctx.previous:
        return
    current = _share(ctx.value(FIRST_LOAN_BORROWERS), ctx.value(NEW_BORROWERS))
    previous = _share(ctx.prev(FIRST_LOAN_BORROWERS), ctx.prev(NEW_BORROWERS))
    limit = ctx.definition.thresholds.first_loan_share_jump
    if current is None or previous is None or abs(current - previous) <= limit:
        return
    yield _finding(
        ctx,
        "W405",
        FIRST_LOAN_BORROWERS,
        (FIRST_LOAN_BORROWERS, NEW_BORROWERS),
        part_label=ctx.label(FIRST_LOAN_BORROWERS),
        whole_label=ctx.label(NEW_BORROWERS),
        previous=format_percent(previous, signed=False),
        current=format_percent(current, signed=False),
        change=f"{(current - previous) * 100:+.1f}",
        limit=format_decimal(limit * 100),
    )


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


def _group_outlier(ctx: Context) -> Iterator[Finding]:
    """Modified z-score (Iglewicz & Hoaglin) of this institution's change against its peers' changes.

    Median and MAD are taken over the peers only, so an outlier cannot pull the yardstick toward itself.
    """
    if not ctx.group_changes:
        return
    peers = ctx.group_changes
    if not isinstance(peers, PeerChanges):
        peers = PeerChanges(peers)
    t = ctx.definition.thresholds
    for fd in ctx.fields_of(Kind.STOCK):
        x = _relative_change(ctx.value(fd.code), ctx.prev(fd.code))
        count, median, mad = peers.stats(fd.code)
        if x is None or count < t.group_min_peers or not mad:
            continue
        z = MAD_SCALE * (x - median) / mad
        if abs(z) > t.group_outlier_z:
            yield _finding(
                ctx,
                "W406",
                fd.code,
                label=ctx.label(fd.code),
                change=format_percent(x),
                peers=count,
                median=format_percent(median),
                z=f"{z:.1f}",
                limit=format_decimal(t.group_outlier_z),
            )


def _write_off_share(ctx: Context) -> Iterator[Finding]:
    """普惠小微不良贷款核销 (year to date) set against the 普惠小微 balance: a share above the configured one is
    implausible for a year's write-offs (a figure typed in 万元, or the whole 不良 stock rather than 核销)."""
    written_off, balance = ctx.value(NPL_WRITE_OFFS), ctx.value(LOAN_BALANCE)
    limit = ctx.definition.thresholds.write_off_share_max
    if written_off is None or not balance or balance <= 0 or written_off / balance <= limit:
        return
    yield _finding(
        ctx,
        "W409",
        NPL_WRITE_OFFS,
        (NPL_WRITE_OFFS, LOAN_BALANCE),
        label=ctx.label(NPL_WRITE_OFFS),
        value=ctx.amount(NPL_WRITE_OFFS, written_off),
        balance_label=ctx.label(LOAN_BALANCE),
        balance=ctx.amount(LOAN_BALANCE, balance),
        share=format_percent(written_off / balance, signed=False),
        limit=format_percent(limit, signed=False),
    )


# ---- E6xx / W6xx: figures in the wrong unit ----------------------------------------------------------------


def _per_borrower(rule_id: str, amount: str, count: str) -> Check:
    """An amount per borrower above the 普惠小微 cap of 1000万元 per 户: a figure in 万元 typed for 亿元."""

    def check(ctx: Context) -> Iterator[Finding]:
        total, borrowers = ctx.value(amount), ctx.value(count)
        cap = ctx.definition.thresholds.max_per_borrower
        if total is None or not borrowers or borrowers <= 0 or total <= 0 or total / borrowers <= cap:
            return
        average = total / borrowers
        factor = ctx.definition.thresholds.unit_factor
        as_yi = total / factor
        hint = (
            f"如果“{ctx.label(amount)}”是按万元填写的，应为 {format_decimal(round(as_yi, 4))} 亿元"
            if as_yi / borrowers <= cap and average >= cap * 100  # ~10,000× a typical average
            else f"请核对“{ctx.label(amount)}”（亿元）和“{ctx.label(count)}”（户）的单位"
        )
        yield _finding(
            ctx,
            rule_id,
            amount,
            (amount, count),
            amount_label=ctx.label(amount),
            amount_value=ctx.amount(amount, total),
            count_label=ctx.label(count),
            count_value=ctx.amount(count, borrowers),
            average=f"{format_decimal(round(average * factor, 2))} 万元",
            cap=f"{format_decimal(cap * factor)} 万元",
            hint=hint,
        )

    return check


def _rate_as_fraction(ctx: Context) -> Iterator[Finding]:
    rate = ctx.value(WEIGHTED_RATE)
    if rate is not None and 0 < rate < ctx.definition.thresholds.rate_fraction_below:
        yield _finding(
            ctx,
            "W603",
            WEIGHTED_RATE,
            label=ctx.label(WEIGHTED_RATE),
            value=format_decimal(rate),
            likely=f"{format_decimal(rate * 100)}%",
        )


def _ftp_in_percent(ctx: Context) -> Iterator[Finding]:
    ftp = ctx.value(FTP_DISCOUNT)
    limit = ctx.definition.thresholds.ftp_percent_at_most
    if ftp is not None and 0 < ftp <= limit and ftp != ftp.to_integral_value():
        yield _finding(
            ctx,
            "W604",
            FTP_DISCOUNT,
            label=ctx.label(FTP_DISCOUNT),
            value=format_decimal(ftp),
            likely=f"{format_decimal(ftp * 100)} BP",
        )


def _unit_slip(ratio: Decimal, factor: Decimal, slack: Decimal) -> str | None:
    """ "大" / "小" when `ratio` is about `factor` or its inverse (a 万 / 亿 slip), else None."""
    if factor / slack <= ratio <= factor * slack:
        return "大"
    if ratio > 0 and factor / slack <= 1 / ratio <= factor * slack:
        return "小"
    return None


def _unit_against_neighbours(ctx: Context) -> Iterator[Finding]:
    """A figure about 10,000× (or 1/10,000) of last month's, or of its group's median this month."""
    t = ctx.definition.thresholds
    levels = ctx.group_levels
    if levels is not None and not isinstance(levels, PeerChanges):
        levels = PeerChanges(levels)
    for fd in ctx.definition.number_fields:
        if fd.code in (WEIGHTED_RATE, FTP_DISCOUNT) or fd.kind not in (Kind.STOCK, Kind.YTD):
            continue  # W603 / W604 know the likely slip of a rate and a BP figure
        value = ctx.value(fd.code)
        if not value or value <= 0:
            continue
        yardsticks = []
        previous = ctx.prev(fd.code)
        if previous and previous > 0 and not (fd.kind == Kind.YTD and ctx.month == 1):
            yardsticks.append((f"上月（{ctx.amount(fd.code, previous)}）", previous))
        if levels is not None:
            count, median, _mad = levels.stats(fd.code)
            if count >= t.group_min_peers and median and median > 0:
                yardsticks.append((f"同组 {count} 家机构的中位数（{ctx.amount(fd.code, median)}）", median))
        for what, base in yardsticks:
            direction = _unit_slip(value / base, t.unit_factor, t.unit_factor_slack)
            if direction:
                yield _finding(
                    ctx,
                    "W605",
                    fd.code,
                    label=ctx.label(fd.code),
                    value=ctx.amount(fd.code, value),
                    base=what,
                    times=format_decimal(round(value / base, 1))
                    if direction == "大"
                    else "1/" + format_decimal(round(base / value, 0)),
                    unit=fd.unit,
                )
                break


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


def _text_format(ctx: Context) -> Iterator[Finding]:
    for fd in ctx.definition.fields:
        value = ctx.values.get(fd.code)
        if fd.text_format and isinstance(value, str) and not _format_ok(value, fd.text_format):
            what, hint = _FORMAT_HINTS[fd.text_format]
            yield _finding(
                ctx, "E107", fd.code, label=ctx.label(fd.code), value=value[:40], what=what, hint=hint
            )


def _text_length(ctx: Context) -> Iterator[Finding]:
    for fd in ctx.definition.fields:
        value = ctx.values.get(fd.code)
        if not fd.is_number and isinstance(value, str) and len(value) > fd.max_length:
            yield _finding(
                ctx, "E108", fd.code, label=ctx.label(fd.code), length=len(value), limit=fd.max_length
            )


# ---- 附件3: the loan plan -------------------------------------------------------------------------------------

PLAN_QUARTERS = ("q1_actual", "q2_plan", "q3_plan", "q4_plan")
PLAN_ANNUAL = "planned_increase"


def _plan_rows(ctx: Context) -> list[str]:
    return [r.code for r in ctx.definition.rows if r.code != ctx.definition.total_row]


def _quarters_add_up(ctx: Context) -> Iterator[Finding]:
    tolerance = ctx.definition.thresholds.quarter_sum_tolerance
    for row in _plan_rows(ctx):
        quarters = [ctx.value(f"{row}.{q}") for q in PLAN_QUARTERS]
        annual = ctx.value(f"{row}.{PLAN_ANNUAL}")
        if annual is None or any(q is None for q in quarters):
            continue
        total = sum(quarters)
        if abs(total - annual) > tolerance:
            code = f"{row}.{PLAN_ANNUAL}"
            yield _finding(
                ctx,
                "W407",
                code,
                fields=(code, *(f"{row}.{q}" for q in PLAN_QUARTERS)),
                row=ctx.definition.field(code).row_label,
                quarters=format_amount(total, "亿元"),
                annual=format_amount(annual, "亿元"),
                gap=format_amount(total - annual, "亿元"),
                tolerance=format_amount(tolerance, "亿元"),
            )


def _plan_growth(ctx: Context) -> Iterator[Finding]:
    t = ctx.definition.thresholds
    derived = ctx.definition.derive(ctx.values)
    for row in _plan_rows(ctx):
        for computed in ctx.definition.computed:
            ratio = derived.get(f"{row}.{computed.code}")
            if ratio is None or t.plan_growth_min <= ratio <= t.plan_growth_max:
                continue
            code = f"{row}.{computed.numerator}"
            yield _finding(
                ctx,
                "W408",
                code,
                fields=(code, f"{row}.{computed.denominator}"),
                row=ctx.definition.field(code).row_label,
                label=computed.label,
                value=format_percent(ratio, signed=False),
                low=format_percent(t.plan_growth_min, signed=False),
                high=format_percent(t.plan_growth_max, signed=False),
            )


def _province(ctx: Context, column: str) -> Decimal | None:
    """The 全省 figure of a plan column: the sum of the regions (None while any is missing)."""
    parts = [ctx.value(f"{row}.{column}") for row in _plan_rows(ctx)]
    return None if any(p is None for p in parts) else sum(parts)


def _against_monthly(
    rule_id: str, column: str, describe: Callable[[dict], Decimal | None], source: str
) -> Check:
    def check(ctx: Context) -> Iterator[Finding]:
        planned = _province(ctx, column)
        actual = describe(ctx.related or {})
        if planned is None or actual is None:
            return
        if abs(planned - actual) > ctx.definition.thresholds.cross_return_tolerance:
            total_row = ctx.definition.total_row
            code = f"{_plan_rows(ctx)[0]}.{column}"
            yield Finding(
                rule=rule_id,
                severity=rule(rule_id).severity,
                field=code,
                message=rule(rule_id).message.format(
                    label=ctx.definition.field(code).label.split(" · ", 1)[1],
                    planned=format_amount(planned, "亿元"),
                    actual=format_amount(actual, "亿元"),
                    source=source.format(year=ctx.year, prev=ctx.year - 1),
                    gap=format_amount(planned - actual, "亿元"),
                ),
                location=f"{dict((r.code, r.label) for r in ctx.definition.rows)[total_row]} · "
                + ctx.definition.field(code).label.split(" · ", 1)[1],
                fields=tuple(f"{row}.{column}" for row in _plan_rows(ctx)),
            )

    return check


def _q1_growth(related: dict) -> Decimal | None:
    march, december = related.get("balance_march"), related.get("balance_prev_dec")
    return None if march is None or december is None else march - december


_UNSORTED: tuple[Rule, ...] = (
    Rule(
        "E101",
        ERROR,
        Scope.FIELD,
        ("*",),
        "“{label}”未填写：本项为必填项，请填写数值；如确实为零，请填写 0。",
        "每一项都必须填写；空白与 0 不同，数值为零时应填 0。",
        _required_in("E101", numbers=True),
    ),
    Rule(
        "E102",
        ERROR,
        Scope.FIELD,
        ("*",),
        "“{label}”填写的“{raw}”不是数值：{advice}",
        "每一项都必须是数字；可带千分位、全角数字或与本项一致的单位，不接受文字、公式或错误值（如 #DIV/0!）。",
        _numeric,
    ),
    Rule(
        "E103",
        ERROR,
        Scope.FIELD,
        ("*",),
        "“{label}”为负数（{value}）：余额、金额、户数、点数和利率都不应为负，请核对。",
        "所有指标都不能为负数。",
        _non_negative,
    ),
    Rule(
        "E104",
        ERROR,
        Scope.FIELD,
        ("*",),
        "“{label}”（{value}）不是整数：户数按户统计，请填写整数。",
        "户数类指标必须是整数。",
        _integer,
    ),
    Rule(
        "E105",
        ERROR,
        Scope.FIELD,
        ("*",),
        "“{label}”（{value}）小数位数过多：本项最多保留 {decimals} 位小数，请按要求四舍五入后填写。",
        "金额、点数和利率的小数位数不超过该项规定的精度。",
        _precision,
    ),
    Rule(
        "E201",
        ERROR,
        Scope.CROSS_FIELD,
        (CREDIT_LOAN_BALANCE, LOAN_BALANCE),
        "“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "信用贷款是普惠小微贷款的一部分，请核对两项数据。",
        "普惠小微信用贷款余额不大于普惠小微贷款余额。",
        _part_within_whole("E201", CREDIT_LOAN_BALANCE, LOAN_BALANCE),
    ),
    Rule(
        "E202",
        ERROR,
        Scope.CROSS_FIELD,
        (NEW_CREDIT_LOANS, NEW_LOANS),
        "“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "新发放信用贷款是新发放普惠小微贷款的一部分，请核对两项数据。",
        "新发放普惠小微信用贷款金额不大于新发放普惠小微贷款金额。",
        _part_within_whole("E202", NEW_CREDIT_LOANS, NEW_LOANS),
    ),
    Rule(
        "E203",
        ERROR,
        Scope.CROSS_FIELD,
        (FIRST_LOAN_AMOUNT, NEW_LOANS),
        "“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "首贷是年内新发放普惠小微贷款的一部分，请核对两项数据。",
        "首贷金额不大于新发放普惠小微贷款金额。",
        _part_within_whole("E203", FIRST_LOAN_AMOUNT, NEW_LOANS),
    ),
    Rule(
        "E204",
        ERROR,
        Scope.CROSS_FIELD,
        (FIRST_LOAN_BORROWERS, NEW_BORROWERS),
        "“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "首贷户是年内获得新发放贷款的小微企业的一部分，请核对两项户数。",
        "拓展首贷户数不大于新发放小微企业贷款户数。",
        _part_within_whole("E204", FIRST_LOAN_BORROWERS, NEW_BORROWERS),
    ),
    Rule(
        "E205",
        ERROR,
        Scope.CROSS_FIELD,
        (LOAN_BALANCE, TOTAL_LOAN_BALANCE),
        "“{part_label}”（{part_value}）大于“{whole_label}”（{whole_value}）："
        "普惠小微贷款是各项贷款的一部分，请核对两项数据（两项均以亿元填写）。",
        "普惠小微贷款余额不大于各项贷款余额（2023年版起）。",
        _part_within_whole("E205", LOAN_BALANCE, TOTAL_LOAN_BALANCE),
    ),
    Rule(
        "W409",
        WARNING,
        Scope.CROSS_FIELD,
        (NPL_WRITE_OFFS, LOAN_BALANCE),
        "“{label}”（{value}）占“{balance_label}”（{balance}）的 {share}，超过 {limit} 的合理比例："
        "本项为年初至本期末核销的普惠小微不良贷款，请核对单位（亿元）和口径；如数据属实，请说明原因。",
        "年初至今普惠小微不良贷款核销金额不超过普惠小微贷款余额的配置比例（2023年版起）。",
        _write_off_share,
    ),
    Rule(
        "E301",
        ERROR,
        Scope.CROSS_PERIOD,
        ("*",),
        "“{label}”是年初至本期末的累计数，本月（{current}）小于{previous_month}月（{previous}）："
        "累计数在年内不会减少，请核对本月数据；如{previous_month}月数据有误，请先更正{previous_month}月报表。",
        "年初至今累计类指标（新发放金额、户数、首贷、减费让利）在同一年内逐月不减少；1月重新起算，不作比较。",
        _ytd_not_falling,
        kinds=(Kind.YTD,),
    ),
    Rule(
        "W401",
        WARNING,
        Scope.FIELD,
        (WEIGHTED_RATE,),
        "“{label}”为 {value}，超出合理区间 {low}～{high}：请核对是否按百分数填写（如 4.35 而不是 0.0435）；"
        "如数据属实，请说明原因。",
        "普惠小微贷款加权平均利率应在配置的合理区间内。",
        _band("W401", WEIGHTED_RATE, "rate_min", "rate_max"),
    ),
    Rule(
        "W402",
        WARNING,
        Scope.FIELD,
        (FTP_DISCOUNT,),
        "“{label}”为 {value}，超出合理区间 {low}～{high}：请核对是否按基点填写（1 个百分点 = 100 BP）；"
        "如数据属实，请说明原因。",
        "一年期普惠小微贷款 FTP 优惠点数应在配置的合理区间内。",
        _band("W402", FTP_DISCOUNT, "ftp_min", "ftp_max"),
    ),
    Rule(
        "W403",
        WARNING,
        Scope.CROSS_PERIOD,
        ("*",),
        "“{label}”本月为 {current}，上月为 {previous}，环比变动 {change}，超过 ±{limit} 的预警幅度："
        "请核对数据；如数据属实，请说明原因。",
        "月末余额、户数等时点指标环比变动幅度不超过配置的比例；上月为 0 或缺失时不比较。",
        _stock_swing,
        kinds=(Kind.STOCK,),
    ),
    Rule(
        "W404",
        WARNING,
        Scope.CROSS_PERIOD,
        ("*",),
        "本月全部 {count} 项数据与上月完全相同：请确认没有误将上月数据重复报送；如数据属实，请说明原因。",
        "整张表与上月逐项相同，可能是误报了上月数据。",
        _same_as_last_month,
    ),
    Rule(
        "W405",
        WARNING,
        Scope.CROSS_PERIOD,
        (FIRST_LOAN_BORROWERS, NEW_BORROWERS),
        "首贷户比重（“{part_label}”÷“{whole_label}”）由上月 {previous} 变为本月 {current}，"
        "变动 {change} 个百分点，超过 {limit} 个百分点的预警幅度：请核对两项户数；如数据属实，请说明原因。",
        "首贷户比重（004 脚注2）环比变动不超过配置的百分点；比重无定义（新发放户数为 0 或缺失）时不比较。",
        _first_loan_share_jump,
    ),
    Rule(
        "W406",
        WARNING,
        Scope.GROUP,
        ("*",),
        "“{label}”环比变动 {change}，明显偏离同组其他 {peers} 家机构（中位数 {median}）："
        "修正 z 分数 {z}，绝对值超过 {limit}；请核对数据；如数据属实，请说明原因。",
        "时点指标的环比变动与同一评估组其他机构相比不应是离群值（修正 z 分数，中位数与 MAD 取自同组其他机构；"
        "同组机构过少或 MAD 为 0 时不比较）。",
        _group_outlier,
        kinds=(Kind.STOCK,),
    ),
    Rule(
        "E106",
        ERROR,
        Scope.FIELD,
        ("*",),
        "“{label}”未填写：本项为必填项，请填写。",
        "联系人表的每一格都必须填写。",
        _required_in("E106", numbers=False),
        kinds=(Kind.TEXT,),
    ),
    Rule(
        "E107",
        ERROR,
        Scope.FIELD,
        ("*",),
        "“{label}”填写的“{value}”不是有效的{what}：请填写{hint}。",
        "办公电话、手机和邮箱须符合格式（手机 11 位；电话为区号加号码，可带分机；邮箱含 @ 和域名）。",
        _text_format,
        kinds=(Kind.TEXT,),
    ),
    Rule(
        "E108",
        ERROR,
        Scope.FIELD,
        ("*",),
        "“{label}”过长（{length} 个字）：本项最多 {limit} 个字，请精简。",
        "文字项不超过规定长度。",
        _text_length,
        kinds=(Kind.TEXT,),
    ),
    Rule(
        "W407",
        WARNING,
        Scope.CROSS_FIELD,
        ("*",),
        "{row}：四个季度合计 {quarters}，与全年预计新增额 {annual} 相差 {gap}（容差 {tolerance}）："
        "一季度实际新增额与二、三、四季度预计新增额之和应等于全年预计新增额，请核对；如属实，请说明原因。",
        "附件3 每一行：一季度实际新增额 + 二、三、四季度预计新增额 = 全年预计新增额（超出容差为预警）。",
        _quarters_add_up,
        kinds=(Kind.PLAN,),
    ),
    Rule(
        "W408",
        WARNING,
        Scope.CROSS_FIELD,
        ("*",),
        "{row}：{label}为 {value}，超出合理区间 {low}～{high}：请核对余额和新增额的单位（亿元）；如属实，请说明原因。",
        "附件3 的上年增速和本年预计增速应在配置的合理区间内；分母为 0 或缺失时增速无定义，不比较。",
        _plan_growth,
        kinds=(Kind.PLAN,),
    ),
    Rule(
        "W501",
        WARNING,
        Scope.CROSS_RETURN,
        ("*",),
        "全省“{label}”为 {planned}，而已审核的监测表显示 {source}为 {actual}，相差 {gap}：请核对两张表；"
        "如属实，请说明原因。",
        "附件3 全省一季度实际新增额应等于已审核的附件4 3月末余额减上年12月末余额。",
        _against_monthly("W501", "q1_actual", _q1_growth, "{year}年3月末余额减{prev}年12月末余额（附件4）"),
        kinds=(Kind.PLAN,),
    ),
    Rule(
        "W502",
        WARNING,
        Scope.CROSS_RETURN,
        ("*",),
        "全省“{label}”为 {planned}，而已审核的监测表显示 {source}为 {actual}，相差 {gap}：请核对两张表；"
        "如属实，请说明原因。",
        "附件3 全省上年末余额应等于已审核的附件4 上年12月末普惠小微贷款余额。",
        _against_monthly(
            "W502",
            "balance_y1",
            lambda r: r.get("balance_prev_dec"),
            "{prev}年12月末普惠小微贷款余额（附件4）",
        ),
        kinds=(Kind.PLAN,),
    ),
    Rule(
        "E601",
        ERROR,
        Scope.CROSS_FIELD,
        (LOAN_BALANCE, BORROWERS),
        "“{amount_label}”（{amount_value}）÷“{count_label}”（{count_value}）= 平均每户 {average}，"
        "超过普惠小微单户授信上限 {cap}：余额以亿元填写，{hint}。",
        "普惠小微是单户授信 1000万元（含）以下的贷款，普惠小微贷款余额 ÷ 户数不超过 0.1 亿元（按万元填写会大 10000 倍）。",
        _per_borrower("E601", LOAN_BALANCE, BORROWERS),
    ),
    Rule(
        "W602",
        WARNING,
        Scope.CROSS_FIELD,
        (FIRST_LOAN_AMOUNT, FIRST_LOAN_BORROWERS),
        "“{amount_label}”（{amount_value}）÷“{count_label}”（{count_value}）= 平均每户 {average}，"
        "超过普惠小微单户授信上限 {cap}：金额以亿元填写，{hint}；如数据属实，请说明原因。",
        "首贷金额 ÷ 拓展首贷户数一般不超过普惠小微单户授信上限 0.1 亿元。",
        _per_borrower("W602", FIRST_LOAN_AMOUNT, FIRST_LOAN_BORROWERS),
    ),
    Rule(
        "W603",
        WARNING,
        Scope.FIELD,
        (WEIGHTED_RATE,),
        "“{label}”填写的 {value} 像是按小数填写的利率：本项以百分数填写，很可能应为 {likely}；"
        "请更正，如数据属实，请说明原因。",
        "加权平均利率以百分数填写（4.98 而不是 0.0498）；小于 1 时预警并给出可能的更正。",
        _rate_as_fraction,
    ),
    Rule(
        "W604",
        WARNING,
        Scope.FIELD,
        (FTP_DISCOUNT,),
        "“{label}”填写的 {value} 像是按百分点填写的：本项以基点（BP）填写，1 个百分点 = 100 BP，很可能应为 {likely}；"
        "请更正，如数据属实，请说明原因。",
        "FTP 优惠以基点填写；不超过 3 且带小数时，多半是按百分点填写。",
        _ftp_in_percent,
    ),
    Rule(
        "W605",
        WARNING,
        Scope.CROSS_PERIOD,
        ("*",),
        "“{label}”为 {value}，约为{base}的 {times} 倍：很可能是单位填错（万元与亿元、户与万户都相差 10000 倍），"
        "本项单位为{unit}，请核对；如数据属实，请说明原因。",
        "金额和户数约为上月或同组中位数的 10000 倍（或 1/10000）时，预警单位可能填错。",
        _unit_against_neighbours,
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
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.rule))


def validate(ctx: Context) -> list[Finding]:
    return sort_findings(f for r in RULES if r.applies(ctx.definition) for f in r.check(ctx))


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {ERROR: 0, WARNING: 0}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def unexplained(findings: Iterable[Finding], explanations: dict[str, str]) -> list[Finding]:
    """Warnings that still lack a non-blank explanation (errors cannot be explained away)."""
    return [f for f in findings if f.severity == WARNING and not str(explanations.get(f.key) or "").strip()]
