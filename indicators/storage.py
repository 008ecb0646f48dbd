"""How the stored indicators are laid out (监测指标的存储): one row per scope and month, every indicator in it.

At national scale a refresh stores 4,500 institutions × 48 months of every indicator. One row per indicator
was 8.9 million rows, a 56 s COPY; one row per scope-month (`IndicatorMonth`) is 216,000 rows (figures in
bench/README.md). A row holds:

- `values`: the unrounded results as float64 in the order of its `IndicatorLayout`'s codes, NaN when
  undefined. Read, each becomes the stored Decimal by `indicators.to_decimal` — the same number the
  per-indicator rows held;
- `notes_id`: the `IndicatorNotes` beside those values — per code, why a value is "—" ("" when defined), the
  contributors and the members. Thousands of rows say the same (every institution without a 2024年3月
  sheet, every national bank's “仅地方法人银行”): each distinct set is stored once.

Layouts and notes are named by the hash of their content, so a reader may keep them for good and a writer
never looks them up. The refresh writes through `write` — COPY (binary) on PostgreSQL, bulk_create elsewhere
— and pages, exports and the API read through `read`.
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection, transaction

from . import indicators as ind
from .models import IndicatorLayout, IndicatorMonth, IndicatorNotes

NO_REASON = "无法计算"
REASON_LIMIT = 300
BATCH = 2000  # rows per INSERT where there is no COPY

_layouts: dict[str, tuple[str, ...]] = {}
_notes: dict[int, tuple[list, list, list]] = {}


def _hash64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little", signed=True)


def layout_key(codes: Iterable[str]) -> str:
    return hashlib.sha1(",".join(codes).encode()).hexdigest()[:16]


def layout_codes(keys: set[str]) -> dict[str, tuple[str, ...]]:
    """{layout key: codes}; a layout once read is kept (its key is the hash of its codes)."""
    missing = set(keys) - _layouts.keys()
    if missing:
        for key, codes in IndicatorLayout.objects.filter(key__in=missing).values_list("key", "codes"):
            _layouts[key] = tuple(codes)
    return {k: _layouts.get(k, ()) for k in keys}


def forget_cached() -> None:
    """Drop this process's cache of layouts and notes (both keyed by content hash, so never stale): the next
    read queries them again, as a freshly started worker would."""
    _layouts.clear()
    _notes.clear()


def forget_unused_layouts() -> None:
    """Drop the layouts no stored row uses any more (after a full refresh, usually all but the current one):
    while only one is stored, the API counts its values without reading the rows."""
    if IndicatorLayout.objects.count() < 2:
        return
    used = set(IndicatorMonth.objects.order_by().values_list("layout_key", flat=True).distinct())
    IndicatorLayout.objects.exclude(key__in=used).delete()


def _notes_of(ids: set[int]) -> dict[int, tuple[list, list, list]]:
    missing = ids - _notes.keys()
    if missing:
        if len(_notes) > 100_000:  # a long-lived process keeps the recent ones only
            _notes.clear()
        for pk, reasons, contributors, members in IndicatorNotes.objects.filter(
            pk__in=list(missing)
        ).values_list("pk", "reasons", "contributors", "members"):
            _notes[pk] = (reasons, contributors, members)
    return _notes


# --- writing -------------------------------------------------------------------------------------------------


@dataclass
class Block:
    """Wide rows to store: `keys` (scope_kind, scope_key, year, month) and n × len(codes) arrays — values
    (float64, NaN undefined), reasons (int codes into `texts`, −1 where the value is defined), contributors
    and members."""

    keys: list[tuple[str, str, int, int]]
    codes: tuple[str, ...]
    values: np.ndarray
    reasons: np.ndarray
    texts: list[str]
    contributors: np.ndarray
    members: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


class _Texts:
    """Reason texts numbered as they come (one number per distinct text)."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.texts: list[str] = []

    def codes(self, values: np.ndarray) -> np.ndarray:
        codes, uniques = pd.factorize(values, sort=False)
        mapping = np.array([self._number(u) for u in uniques] or [0], dtype=np.int64)
        return mapping[codes]

    def _number(self, text) -> int:
        text = (text if isinstance(text, str) and text else NO_REASON)[:REASON_LIMIT]
        if text not in self.index:
            self.index[text] = len(self.texts)
            self.texts.append(text)
        return self.index[text]


def from_result(result: ind.Result, *, codes: tuple[str, ...] | None = None, wanted=None) -> Block:
    """The wide rows of a computed Result: one per institution-month of its grid, then one per aggregate —
    or only those whose key (scope_kind, scope_key, year, month) `wanted(key)` accepts (as `select` after,
    without building the others)."""
    codes = tuple(codes or result.values.columns)
    grid = result.grid.reset_index(drop=True)
    rows = None
    if wanted is not None:
        rows = np.flatnonzero(
            np.fromiter(
                (
                    bool(wanted(("institution", str(i), y, m)))
                    for i, y, m in zip(
                        grid["institution_id"].tolist(),
                        grid["year"].astype(int).tolist(),
                        grid["month"].astype(int).tolist(),
                        strict=True,
                    )
                ),
                dtype=bool,
                count=len(grid),
            )
        )
        grid = grid.iloc[rows].reset_index(drop=True)
    texts = _Texts()
    agg = _aggregate_block(result.aggregates, codes, texts)
    if wanted is not None:
        agg = select(agg, wanted)
    n, w, m = len(grid), len(codes), len(agg)
    # filled a code (column) at a time: Fortran order keeps each column contiguous; every cell of values,
    # members and contributors is written below (no fill first), reasons only where a value is "—"
    values = np.empty((n + m, w), order="F")
    reasons = np.full((n + m, w), -1, dtype=np.int64, order="F")
    members = np.empty((n + m, w), dtype=np.int32, order="F")
    contributors = np.empty((n + m, w), dtype=np.int32, order="F")
    for j, code in enumerate(codes):
        v = result.values[code].to_numpy(dtype=float)
        v = np.where(np.isfinite(v), v, np.nan)
        applicable = result.applicable[code].to_numpy()
        if rows is not None:
            v, applicable = v[rows], applicable[rows]
        values[:n, j] = v
        members[:n, j] = applicable
        undefined = np.isnan(v)
        contributors[:n, j] = ~undefined
        if undefined.any():
            column = reasons[:n, j]
            r = result.reasons.get(code)
            if r is not None and len(r):
                at = r.index.to_numpy()
                if rows is not None:  # the reasons' positions among the kept rows
                    at = np.searchsorted(rows, at)
                    inside = at < len(rows)
                    inside[inside] = rows[at[inside]] == r.index.to_numpy()[inside]
                    r, at = r[inside], at[inside]
                keep = undefined[at]  # a reason is kept only where the value is "—"
                column[at[keep]] = texts.codes(r.to_numpy(dtype=object)[keep])
            bare = undefined & (column < 0)
            if bare.any():
                column[bare] = texts.codes(np.array([None]))[0]
    values[n:], reasons[n:], contributors[n:], members[n:] = (
        agg.values,
        agg.reasons,
        agg.contributors,
        agg.members,
    )
    keys = list(
        zip(
            ["institution"] * n,
            grid["institution_id"].astype(str).tolist(),
            grid["year"].astype(int).tolist(),
            grid["month"].astype(int).tolist(),
            strict=True,
        )
    )
    return Block(keys + agg.keys, codes, values, reasons, texts.texts, contributors, members)


def _aggregate_block(agg: pd.DataFrame, codes: tuple[str, ...], texts: _Texts) -> Block:
    w = len(codes)
    if agg is None or not len(agg):
        empty = np.zeros((0, w), dtype=np.int32)
        return Block([], codes, np.zeros((0, w)), empty.astype(np.int64), texts.texts, empty, empty)
    index = ["scope_kind", "scope_key", "year", "month"]
    frame = agg[agg["code"].isin(codes)].assign(
        scope_key=lambda f: f["scope_key"].astype(str),
        year=lambda f: f["year"].astype(int),
        month=lambda f: f["month"].astype(int),
    )
    keys_frame = frame[index].drop_duplicates().reset_index(drop=True)
    at = pd.MultiIndex.from_frame(keys_frame).get_indexer(pd.MultiIndex.from_frame(frame[index]))
    col = pd.Index(codes).get_indexer(frame["code"])
    shape = (len(keys_frame), w)
    values = np.full(shape, np.nan)
    v = frame["value"].to_numpy(dtype=float)
    values[at, col] = np.where(np.isfinite(v), v, np.nan)
    reasons = np.full(shape, -1, dtype=np.int64)
    undefined = np.isnan(values[at, col])
    reasons[at[undefined], col[undefined]] = texts.codes(frame["reason"].to_numpy(dtype=object)[undefined])
    contributors = np.zeros(shape, dtype=np.int32)
    contributors[at, col] = frame["contributors"].to_numpy(dtype=np.int64)
    members = np.zeros(shape, dtype=np.int32)
    members[at, col] = frame["members"].to_numpy(dtype=np.int64)
    keys = list(keys_frame.itertuples(index=False, name=None))
    return Block(keys, codes, values, reasons, texts.texts, contributors, members)


def concat(blocks: list[Block]) -> Block:
    return Block(
        [k for b in blocks for k in b.keys],
        blocks[0].codes,
        np.concatenate([b.values for b in blocks]),
        np.concatenate([b.reasons for b in blocks]),
        blocks[0].texts,
        np.concatenate([b.contributors for b in blocks]),
        np.concatenate([b.members for b in blocks]),
    )


def select(block: Block, wanted) -> Block:
    """The rows of `block` whose key `wanted(key)` accepts."""
    mask = np.fromiter((bool(wanted(k)) for k in block.keys), dtype=bool, count=len(block.keys))
    return Block(
        [k for k, m in zip(block.keys, mask, strict=True) if m],
        block.codes,
        block.values[mask],
        block.reasons[mask],
        block.texts,
        block.contributors[mask],
        block.members[mask],
    )


def _distinct_rows(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct row, inverse) over integer columns: rows keyed by a 64-bit hash of
    theirs, each group then checked column by column equal to its first row (on a collision the rows are
    sorted instead)."""
    rng = np.random.default_rng(20_220_520)
    weights = rng.integers(1, 2**63, size=len(columns), dtype=np.uint64)
    h = np.zeros(len(columns[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c, weight in zip(columns, weights, strict=True):
            h += c.astype(np.uint64) * weight  # wraps modulo 2**64
    codes, _uniques = pd.factorize(h)
    first = np.full(len(_uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    representative = first[codes]
    if all((c == c[representative]).all() for c in columns):
        return first, codes
    matrix = np.ascontiguousarray(np.column_stack(columns).astype(np.int64))
    rows = matrix.view(np.dtype((np.void, 8 * matrix.shape[1]))).ravel()
    _u, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def _notes_ids(block: Block) -> np.ndarray:
    """The IndicatorNotes id of every row (its distinct notes stored when missing)."""
    w = len(block.codes)
    arrays = (block.reasons, block.contributors, block.members)
    first, inverse = _distinct_rows([a[:, j] for a in arrays for j in range(w)])
    notes, ids = [], np.empty(len(first), dtype=np.int64)
    for u, row in enumerate(first.tolist()):
        reasons = ["" if r < 0 else block.texts[r] for r in block.reasons[row].tolist()]
        contributors, members = block.contributors[row].tolist(), block.members[row].tolist()
        pk = _hash64(repr((reasons, contributors, members)).encode())
        ids[u] = pk
        notes.append(IndicatorNotes(id=pk, reasons=reasons, contributors=contributors, members=members))
    # every distinct set of the write, known or not (a cached one may be of a rolled-back transaction)
    IndicatorNotes.objects.bulk_create(notes, ignore_conflicts=True, batch_size=BATCH)
    return ids[inverse]


def _prepared(block: Block) -> tuple[str, np.ndarray, np.ndarray]:
    """The block's layout key (its layout stored when missing), each row's notes id (the notes stored when
    missing) and its values as little-endian float64 rows."""
    layout = layout_key(block.codes)
    IndicatorLayout.objects.get_or_create(key=layout, defaults={"codes": list(block.codes)})
    return layout, _notes_ids(block), np.ascontiguousarray(block.values, dtype="<f8")


def write(block: Block, *, table: str | None = None) -> int:
    """Insert the block's rows (the caller deleted what they replace) — into `table` (PostgreSQL: a table like
    IndicatorMonth's, see `replace_all`); returns the number of values."""
    if not len(block):
        return 0
    layout, notes, values = _prepared(block)
    if connection.vendor == "postgresql":
        _copy(block.keys, layout, values, notes, table=table or IndicatorMonth._meta.db_table)
    else:
        IndicatorMonth.objects.bulk_create(
            [
                IndicatorMonth(
                    scope_kind=kind,
                    scope_key=key,
                    year=year,
                    month=month,
                    layout_key=layout,
                    values=values[i].tobytes(),
                    notes_id=int(notes[i]),
                )
                for i, (kind, key, year, month) in enumerate(block.keys)
            ],
            batch_size=BATCH,
        )
    return values.size


_COLUMNS = ("scope_kind", "scope_key", "year", "month", "layout_key", "values", "notes_id")


_KEY = ("scope_kind", "scope_key", "year", "month")
_NEXT = "indicator_month_next"
_NEXT_COLUMNS = ("scope_kind", "scope_key", "year", "month", "layout_key", "digest", "notes_id", "ord")


def replace_all(block: Block, *, years: list[int] | None = None) -> int:
    """Make the stored rows — of `years`, every row when None — the block's (whose rows are of those years),
    in the caller's transaction: readers see the old rows or the new. Returns the number of values.

    On PostgreSQL each row's key, layout, notes and the md5 of its values are COPYed into a TEMP table (no
    index, dropped at commit), which one FULL JOIN by key (scope_kind, scope_key, year, month) compares with
    the stored rows; then only the stored rows that differ or whose key the block lacks are deleted, and the
    block's rows that differ or are new COPYed in. A refresh over unchanged data (the beat's and the admins'
    usual one) so writes no row and every id stays; one that changes every row costs the compare more than a
    DELETE and a COPY (figures in bench/README.md). Only rows change: the web and worker processes connect
    as a role that owns no table and may not CREATE, DROP or ALTER one — only TEMP tables of its own
    (audit/privileges.py)."""
    replaced = (
        IndicatorMonth.objects.all() if years is None else IndicatorMonth.objects.filter(year__in=years)
    )
    stored_rows = replaced.count() if connection.vendor == "postgresql" and len(block) else 0
    if not stored_rows:
        replaced.delete()
        return write(block)
    layout, notes, values = _prepared(block)
    digests = np.array([hashlib.md5(row).hexdigest().encode() for row in values], dtype="S32")
    qn = connection.ops.quote_name
    table = IndicatorMonth._meta.db_table
    stored, fresh = qn(table), qn(_NEXT)
    of_years, params = ("", []) if years is None else (" WHERE year = ANY(%s)", [list(years)])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{fresh}")
        cursor.execute(
            f"CREATE TEMP TABLE {fresh} (scope_kind text, scope_key text, year smallint, month smallint,"
            " layout_key text, digest text, notes_id bigint, ord integer) ON COMMIT DROP"
        )
        _copy(block.keys, layout, values, notes, table=_NEXT, digests=digests)
        # (stored id, block row) of every key whose row differs; (id, NULL) a key the block lacks, (NULL, row)
        # a new one: one hash join of two narrow sides (the stored values hashed first), in memory
        cursor.execute("SELECT current_setting('work_mem'), current_setting('enable_mergejoin')")
        saved = cursor.fetchone()
        cursor.execute(
            "SELECT set_config('work_mem', '128MB', true), set_config('enable_mergejoin', 'off', true)"
        )
        cursor.execute(
            f"WITH t AS MATERIALIZED (SELECT id, {', '.join(_KEY)}, layout_key, notes_id, md5(values) AS digest"
            f" FROM {stored}{of_years})"
            f" SELECT t.id, n.ord FROM {fresh} n FULL JOIN t ON {' AND '.join(f't.{c} = n.{c}' for c in _KEY)}"
            " WHERE t.id IS NULL OR n.ord IS NULL OR t.layout_key <> n.layout_key OR t.notes_id <> n.notes_id"
            " OR t.digest <> n.digest",
            params,
        )
        pairs = cursor.fetchall()
        cursor.execute(
            "SELECT set_config('work_mem', %s, true), set_config('enable_mergejoin', %s, true)", saved
        )
        cursor.execute(f"DROP TABLE {fresh}")
        gone = [pk for pk, _ in pairs if pk is not None]
        if len(gone) == stored_rows:
            cursor.execute(f"DELETE FROM {stored}{of_years}", params)
        elif gone:
            cursor.execute(f"DELETE FROM {stored} WHERE id = ANY(%s)", [gone])
        at = sorted(row for _, row in pairs if row is not None)
        if at:
            _copy([block.keys[i] for i in at], layout, values[at], notes[at], table=table)
    return values.size


def _copy(keys, layout: str, values: np.ndarray, notes: np.ndarray, *, table: str, digests=None) -> None:
    """COPY … FROM STDIN (FORMAT binary), each tuple laid out by numpy: rows whose scope_kind and scope_key
    have the same lengths are one record array, so no per-row Python runs. With `digests` (the rows' values'
    md5, hex), into `replace_all`'s TEMP table: the digest in place of the values and each row's position."""
    n, w = values.shape
    columns = _COLUMNS if digests is None else _NEXT_COLUMNS
    payload = ("values", "<f8", (w,)) if digests is None else ("values", "S32")
    position = [] if digests is None else [("ord_n", ">i4"), ("ord", ">i4")]
    kinds = np.array([k[0] for k in keys], dtype=object)
    scope_keys = np.array([k[1] for k in keys], dtype=object)
    years = np.fromiter((k[2] for k in keys), dtype=np.int64, count=n)
    months = np.fromiter((k[3] for k in keys), dtype=np.int64, count=n)
    kind_len = np.fromiter((len(k.encode()) for k in kinds), dtype=np.int64, count=n)
    key_len = np.fromiter((len(k.encode()) for k in scope_keys), dtype=np.int64, count=n)
    lay = layout.encode()
    out = io.BytesIO()
    out.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0))
    for lk, lkey in sorted(set(zip(kind_len.tolist(), key_len.tolist(), strict=True))):
        rows = np.flatnonzero((kind_len == lk) & (key_len == lkey))
        record = np.zeros(
            len(rows),
            dtype=[
                ("fields", ">i2"),
                ("kind_n", ">i4"),
                ("kind", f"S{lk}"),
                ("key_n", ">i4"),
                ("key", f"S{lkey}"),
                ("year_n", ">i4"),
                ("year", ">i2"),
                ("month_n", ">i4"),
                ("month", ">i2"),
                ("layout_n", ">i4"),
                ("layout", f"S{len(lay)}"),
                ("values_n", ">i4"),
                payload,
                ("notes_n", ">i4"),
                ("notes", ">i8"),
                *position,
            ],
        )
        record["fields"] = len(columns)
        record["kind_n"], record["key_n"] = lk, lkey
        record["kind"] = [k.encode() for k in kinds[rows]]
        record["key"] = [k.encode() for k in scope_keys[rows]]
        record["year_n"] = record["month_n"] = 2
        record["year"], record["month"] = years[rows], months[rows]
        record["layout_n"], record["layout"] = len(lay), lay
        if digests is None:
            record["values_n"], record["values"] = 8 * w, values[rows]
        else:
            record["values_n"], record["values"] = 32, digests[rows]
            record["ord_n"], record["ord"] = 4, rows
        record["notes_n"], record["notes"] = 8, notes[rows]
        out.write(record.tobytes())
    out.write(struct.pack("!h", -1))
    out.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {connection.ops.quote_name(table)} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)",
            out,
        )


# --- reading -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """One stored indicator of one scope-month, as the per-indicator rows were."""

    scope_kind: str
    scope_key: str
    year: int
    month: int
    code: str
    value: Decimal | None
    reason: str
    contributors: int
    members: int


def read(queryset, codes=None) -> Iterator[Stored]:
    """Every stored indicator of the IndicatorMonth rows of `queryset` (in its order) — or only `codes`: a list,
    or {scope_kind: list or None} (a kind not named: every indicator). Within a row, in the order of the list
    (the layout's order for every indicator). A query more for layouts and notes not read before."""
    rows = list(
        queryset.values_list("scope_kind", "scope_key", "year", "month", "layout_key", "values", "notes_id")
    )
    if not rows:
        return
    layouts = layout_codes({r[4] for r in rows})
    notes = _notes_of({r[6] for r in rows})
    by_kind = codes if isinstance(codes, dict) else None
    positions: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for kind, key, year, month, layout, raw, note in rows:
        where = positions.get((kind, layout))
        if where is None:
            order = layouts[layout]
            wanted = by_kind.get(kind) if by_kind is not None else codes
            if wanted is None:
                where = list(zip(order, range(len(order)), strict=True))
            else:
                index = {c: j for j, c in enumerate(order)}
                where = [(c, index[c]) for c in wanted if c in index]
            positions[(kind, layout)] = where
        if not where:
            continue
        v = np.frombuffer(bytes(raw), dtype="<f8").tolist()
        reasons, contributors, members = notes.get(note) or ([NO_REASON] * len(v), [0] * len(v), [0] * len(v))
        for code, j in where:
            value = v[j]
            yield Stored(
                kind,
                key,
                year,
                month,
                code,
                None if value != value else ind.to_decimal(value),  # NaN: undefined
                reasons[j],
                contributors[j],
                members[j],
            )


def defined_months(queryset) -> list[tuple[int, int]]:
    """The (year, month) of the rows of `queryset` with at least one defined value."""
    return [
        (year, month)
        for year, month, raw in queryset.values_list("year", "month", "values")
        if not np.isnan(np.frombuffer(bytes(raw), dtype="<f8")).all()
    ]


# --- single values (set-ups and checks: tests, the shell) ------------------------------------------------------


def values(*, code: str | None = None, **filters) -> list[Stored]:
    """The stored values of the IndicatorMonth rows `filters` select (scope_kind, scope_key, year, month …),
    every indicator or one `code`, as Stored items."""
    return list(
        read(IndicatorMonth.objects.filter(**filters).order_by("pk"), None if code is None else [code])
    )


def value(scope_kind: str, scope_key, year: int, month: int, code: str) -> Stored:
    """One stored value; LookupError when it was not stored."""
    found = values(scope_kind=scope_kind, scope_key=str(scope_key), year=year, month=month, code=code)
    if not found:
        raise LookupError(f"{scope_kind}:{scope_key} {year}-{month:02d} {code} is not stored")
    return found[0]


def put(items: Iterable[Stored]) -> int:
    """Store single values (scope_kind, scope_key, year, month, code, value, reason, contributors, members),
    beside what their scope-months already hold; a value given replaces the stored one."""
    by_row: dict[tuple[str, str, int, int], dict[str, Stored]] = {}
    for item in items:
        key = (item.scope_kind, str(item.scope_key), int(item.year), int(item.month))
        by_row.setdefault(key, {})[item.code] = item
    count = 0
    for (kind, key, year, month), given in by_row.items():
        row = IndicatorMonth.objects.filter(scope_kind=kind, scope_key=key, year=year, month=month)
        merged = {s.code: s for s in read(row)} | given
        row.delete()
        codes = tuple(sorted(merged))
        texts = _Texts()
        items_ = [merged[c] for c in codes]
        block = Block(
            [(kind, key, year, month)],
            codes,
            np.array([[np.nan if s.value is None else float(s.value) for s in items_]]),
            np.array(
                [
                    [
                        -1 if s.value is not None else texts.codes(np.array([s.reason or None]))[0]
                        for s in items_
                    ]
                ]
            ),
            texts.texts,
            np.array([[s.contributors for s in items_]], dtype=np.int32),
            np.array([[s.members for s in items_]], dtype=np.int32),
        )
        count += write(block)
    return count
