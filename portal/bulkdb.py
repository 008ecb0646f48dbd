"""Set-based writes for the services that store many rows at once: ids taken ahead, COPY, one UPDATE.

PostgreSQL (production, CI) gets COPY for inserts and one `UPDATE … FROM (VALUES …)` for updates —
`bulk_create`/`bulk_update` cost seconds per thousand rows there. Elsewhere (the embedded SQLite default of
`make run`) the ORM's bulk operations do the same work. Rows are given as {attname: value}; every other field
takes its default, as `Model()` would give it (auto_now/auto_now_add: now). Callers own the transaction.
"""

import io
import json

from django.db import connection
from django.db.models import (
    AutoField,
    BigAutoField,
    BooleanField,
    DateField,
    DateTimeField,
    IntegerField,
    JSONField,
)
from django.utils import timezone


def next_ids(model, count: int) -> list[int]:
    """Primary keys for `count` new rows, taken before they are written (so rows written together can refer
    to each other: a filing to its new version, a transition and an audit entry to both)."""
    if not count:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return [pk for (pk,) in cursor.fetchall()]
        quote = connection.ops.quote_name
        # SQLite serialises writers: the caller's transaction holds the database until it commits
        cursor.execute(f"SELECT MAX({quote(column)}) FROM {quote(table)}")
        start = (cursor.fetchone()[0] or 0) + 1
        return list(range(start, start + count))


def on_postgresql() -> bool:
    """PostgreSQL: COPY, and `insert(…, ignore_conflicts=True)` says how many rows it wrote."""
    return connection.vendor == "postgresql"


def insert(model, rows: list[dict], *, ignore_conflicts: bool = False) -> int | None:
    """Insert `rows` ({attname: value}). PostgreSQL: COPY, or INSERT … ON CONFLICT DO NOTHING when conflicts
    are to be ignored (returning how many rows it wrote); elsewhere bulk_create (returning None)."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], ignore_conflicts=ignore_conflicts)
        return None
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.attname in rows[0]]
    now = timezone.now()
    defaults = {
        f.attname: now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in fields
    }
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        if ignore_conflicts:
            # one statement whatever the number of rows: each column sent as one array literal, unnested
            arrays = [
                "{" + ",".join(_column(rows, f.attname, defaults[f.attname], _array_converter(f))) + "}"
                for f in fields
            ]
            unnest = ", ".join(f"%s::{_cast(f)}[]" for f in fields)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({unnest}) ON CONFLICT DO NOTHING",
                arrays,
            )
            return cursor.rowcount
        # built a column at a time: each column's values converted by one function, then the lines joined
        converted = [_column(rows, f.attname, defaults[f.attname], _copy_converter(f)) for f in fields]
        buffer = io.StringIO("\n".join(map("\t".join, zip(*converted, strict=True))) + "\n")
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)
    return len(rows)


def _column(rows: list[dict], name: str, default, convert) -> list[str]:
    """The text of one column: a field no row sets is its default's text repeated."""
    if not any(name in row for row in rows):
        return [convert(default)] * len(rows)
    return list(map(convert, [row.get(name, default) for row in rows]))


def _array_converter(field):
    """value → an element of a PostgreSQL array literal: NULL, or its text as PostgreSQL reads it, quoted."""
    plain = _plain(field)

    def convert(v):
        if v is None:
            return "NULL"
        return '"' + plain(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return convert


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _plain(field):
    """value (not None) → its text as PostgreSQL reads it: JSON, timestamps, booleans, numbers, text."""
    if isinstance(field, JSONField):
        encode = json.JSONEncoder().encode if field.encoder is None else field.encoder().encode
        return _repeated(lambda v: ("[]" if isinstance(v, list) else "{}") if v in ([], {}) else encode(v))
    if isinstance(field, DateTimeField | DateField):
        return _repeated(lambda v: v.isoformat())
    if isinstance(field, BooleanField):
        return lambda v: "t" if v else "f"
    if isinstance(field, IntegerField | AutoField | BigAutoField):
        return lambda v: str(int(v))
    return str


_UNSEEN = object()


def _repeated(convert):
    """`convert`, answering again without converting when handed the very object it converted last (the
    rows written together share their timestamp and default values); made afresh for each write."""
    last: list = [_UNSEEN, None]

    def convert_repeated(v):
        if v is last[0]:
            return last[1]
        text = convert(v)
        last[0], last[1] = v, text
        return text

    return convert_repeated


def _copy_converter(field):
    """value → COPY text, chosen once per field: \\N for NULL; JSON, timestamps, booleans and numbers as
    PostgreSQL reads them; text with backslash, tab and line breaks escaped."""
    plain = _plain(field)
    if isinstance(field, JSONField):
        # JSON text holds no raw tab or line break (json.dumps escapes them): only its backslashes need doubling
        return lambda v: _NULL if v is None else plain(v).replace("\\", "\\\\")
    if isinstance(field, DateTimeField | DateField | BooleanField | IntegerField | AutoField | BigAutoField):
        return lambda v: _NULL if v is None else plain(v)
    return lambda v: _NULL if v is None else _text(str(v))


def _text(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.translate(_COPY_ESCAPES)
    return text


def update(model, names: list[str], rows: list[tuple]) -> None:
    """Set the fields `names` of the rows given as (pk, value, …) in that order: one UPDATE … FROM (VALUES …)
    on PostgreSQL (its first row's casts type the columns), bulk_update elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(pk=row[0], **dict(zip(names, row[1:], strict=True))) for row in rows]
        model.objects.bulk_update(objects, names)
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk_type = model._meta.pk.db_type(connection) or "bigint"
    casts = [_cast(f) for f in fields]
    first = "(" + ", ".join([f"%s::{_cast(model._meta.pk, pk_type)}", *(f"%s::{c}" for c in casts)]) + ")"
    other = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    values = ", ".join([first] + [other] * (len(rows) - 1))
    columns = [quote(f.column) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(f'{c} = v.{c}' for c in columns)} "
            f"FROM (VALUES {values}) AS v(id, {', '.join(columns)}) "
            f"WHERE {table}.{quote(model._meta.pk.column)} = v.id",
            [value for row in rows for value in row],
        )


def _cast(field, db_type: str | None = None) -> str:
    """The SQL type a VALUES column is cast to: a foreign key takes its target's key type, a serial its integer."""
    kind = db_type or (
        field.target_field.db_type(connection) if field.is_relation else field.db_type(connection)
    )
    return {"serial": "integer", "bigserial": "bigint"}.get(kind, kind)
