"""A PBoC officer's bulk import: one workbook, many institutions and/or months, run as a tracked job.

Rows are read with python-calamine and each is validated by the same parsing and rules as a bank's own filing
(`reporting.parsing.parse_values`, `reporting.rules.validate`, located by cell). A clean row becomes a new
version, approved on import (the PBoC entered it; the transition says so). A row with errors is not stored and
is listed in the job's result with its cells. Filings already submitted or approved are not overwritten.

The work is set-based, so an import of thousands of rows costs a few statements per chunk, not a dozen per row:

- the context every row's rules need — the institution's previous month and the same month last year, and
  the month-on-month changes of its evaluation group — is read once, in one query, before the first row;
- rows are validated in file order against that data; a row stored earlier in the same import is the
  institution's "previous month" for a later row (so E301 still catches a 年初至今 figure that falls between
  two months of one workbook), while the group's changes (W406) are those of the group as it stood when the
  import began, so a row's findings never depend on where it sits in the file;
- each chunk of rows is stored in one transaction through the one write path every version takes,
  `services.write_versions` — versions, transitions, the filings' new state and audit entries with one bulk
  write each (COPY on PostgreSQL), the filings locked (`select_for_update`) — and that transaction also
  advances `job.processed` and the job's result: a worker killed half-way resumes after the last committed
  chunk and never stores a row twice.

A stored row is what a bank's own save is (the same version, 草稿 transition after 已退回, filing.save audit
entry), followed, when the officer approves on import, by 草稿 → 已通过 with the reason "人民银行批量导入" and
the audit entry filing.import_approve.
"""

from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

from django.db import connection, transaction
from django.utils import timezone

from institutions import access
from institutions.models import Institution
from outbox import services as outbox

from . import events, excel, headings, names, parsing, rules, services, tasks
from .definitions import definition_for
from .models import Filing, FilingStatus, FilingVersion, Form, ImportJob, Period, VersionSource
from .uploads import UploadRejected

CHUNK = 500  # rows stored (and progress committed) per transaction
IMPORT_REASON = "人民银行批量导入"
PEER_STATUSES = {FilingStatus.SUBMITTED, FilingStatus.APPROVED}


# What a row would do, as the officer's preview shows it.
NEW, REPLACES_DRAFT, REPLACES_RETURNED, SKIPPED, HAS_ERRORS = (
    "new",
    "replaces_draft",
    "replaces_returned",
    "skipped",
    "has_errors",
)
CATEGORY_LABELS = {
    NEW: "新报表",
    REPLACES_DRAFT: "将替换机构的草稿",
    REPLACES_RETURNED: "将替换机构的退回稿",
    SKIPPED: "跳过（已提交或已通过）",
    HAS_ERRORS: "有错误，不导入",
}
BANKS_OWN_WORK = {FilingStatus.DRAFT: REPLACES_DRAFT, FilingStatus.RETURNED: REPLACES_RETURNED}


def key_of(institution, period) -> str:
    """A (institution, period) as the preview and the officer's choices name it."""
    return f"{institution.pk}:{period.pk}"


def choices_of(job: ImportJob) -> dict:
    """The officer's decisions on a previewed import: which banks' own drafts or returned sheets to replace,
    why, and whether to approve the rows on the banks' behalf. A job confirmed without a preview (a caller
    of `process` that sets none) replaces nothing and approves what it stores, as the import always did."""
    return {"replace": [], "reason": "", "approve": True, **((job.result or {}).get("choices") or {})}


def _read(job: ImportJob):
    """The job's rows with names resolved, the officer's institutions and the monitoring periods; None (the
    job failed) when the file no longer reads."""
    actor = job.created_by
    try:
        data = job.upload.open("rb").read()
        total, rows = excel.iter_bulk_rows(data, definition_for(Form.MONITORING, timezone.localdate().year))
    except UploadRejected as exc:
        _finish(job, ImportJob.Status.FAILED, error=exc.message)
        return None
    institutions = {i.code: i for i in access.visible_institutions(actor)}
    notes = list(getattr(rows, "notes", ()))
    rows = _resolve_names(list(rows), institutions)
    periods = {(p.year, p.month): p for p in Period.objects.filter(form=Form.MONITORING)}
    return total, rows, institutions, periods, notes


def run(job: ImportJob) -> None:
    """The import job's service (reporting.tasks.run_import): first the preview (nothing stored), then — once
    the officer confirmed it, their choices in the job's result — the import itself."""
    if "choices" in (job.result or {}):
        process(job)
    else:
        preview(job)


def preview(job: ImportJob) -> None:
    """Validate every row as the import would and say what each would do — new, replaces a bank's draft or
    returned sheet, skipped (submitted or approved), has errors — storing nothing but the job's result, with
    a snapshot of the filings concerned so that a confirmation can tell when they changed since."""
    read = _read(job)
    if read is None:
        return
    total, rows, institutions, periods, notes = read
    state = _State.read(rows, institutions, periods)
    lines, snapshot = [], {}
    counts = dict.fromkeys(CATEGORY_LABELS, 0)
    for row, outcome in zip(
        rows, _validate(rows, institutions, periods, state, job.created_by, choices=None), strict=True
    ):
        line = {
            "row": row.row,
            "institution": outcome.institution.short_name if outcome.institution else row.institution_code,
            "code": outcome.institution.code if outcome.institution else row.institution_code,
            "period": outcome.period.label if outcome.period else "",
            "key": key_of(outcome.institution, outcome.period) if outcome.period else "",
            "message": outcome.message,
        }
        if outcome.values is None:
            line["category"] = SKIPPED if outcome.skipped else HAS_ERRORS
        else:
            start = state.started(outcome.institution.pk, outcome.period)
            line["category"] = BANKS_OWN_WORK.get(start.status, NEW) if start else NEW
            snapshot[line["key"]] = [start.status, start.lock_version] if start else None
            line["warnings"] = sum(1 for f in outcome.findings if f.severity == rules.WARNING)
        counts[line["category"]] += 1
        lines.append(line)
    job.total = job.processed = total
    result = {"preview": lines, "counts": counts, "snapshot": snapshot, "notes": notes}
    _finish(job, ImportJob.Status.READY, result=result)


def process(job: ImportJob) -> None:
    """Store a confirmed import (see `choices_of`), in chunks that resume exactly once."""
    with _without_cycle_collection():
        _process(job)


@contextmanager
def _without_cycle_collection():
    """Python's cycle collector paused while an import runs: the import allocates hundreds of thousands of
    short-lived objects (cells, Decimals, rows) beside thousands of long-lived ones (institutions, the filings
    read), so the collector would walk that heap again and again to free almost nothing it creates (reference
    counting frees it); it is switched back on after, when it was on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _process(job: ImportJob) -> None:
    read = _read(job)
    if read is None:
        return
    total, rows, institutions, periods, _notes = read
    actor = job.created_by
    choices = choices_of(job)
    result = dict(job.result or {})
    result.setdefault("stored", 0)
    result.setdefault("rejected", [])
    result.setdefault("skipped", [])
    job.total = total
    done = job.processed  # a resumed job: these rows were handled (and committed) before the worker stopped
    state = _State.read(rows[done:], institutions, periods)
    for start in range(done, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        outcomes = _validate(chunk, institutions, periods, state, actor, choices=choices)
        with transaction.atomic():
            _store(outcomes, actor, result, choices=choices, started=state.started)
            job.result = result
            job.advance(start + len(chunk), "total", "result")
    _finish(job, ImportJob.Status.DONE, result=result)
    if result.get("replaced"):
        outbox.enqueue(tasks.notify_import_replaced, job.pk)
    if result.get("approved"):
        # one announcement for the whole import, not one per approved row: what follows approved sheets
        # (the indicators' refresh) recomputes what they reach at once
        events.announce(
            events.sheets_approved,
            sender=Filing,
            changes=[(inst, Form.MONITORING, year, month) for inst, year, month in result["approved"]],
        )


def _resolve_names(rows: list[excel.BulkRow], institutions: dict) -> list[excel.BulkRow]:
    """A row that names its institution only by name (a branch's 汇总 in the notice's 附件4 layout) gets that
    institution's code; a name that is none of the officer's institutions is that row's error."""
    if not any(row.institution_name and not (row.institution_code or row.error) for row in rows):
        return rows  # every row names its institution by code
    by_name: dict[str, str] = {}
    for institution in institutions.values():
        for variant in names.variants(institution.name, institution.short_name):
            by_name.setdefault(variant, institution.code)
    out = []
    for row in rows:
        if row.institution_code or row.error or not row.institution_name:
            out.append(row)
            continue
        code = by_name.get(headings.compact(row.institution_name))
        if code is None:
            shown = excel.safe_text(row.institution_name)[:40]
            out.append(
                replace(
                    row,
                    error=f"第 {row.row} 行：机构名称“{shown}”不是您辖区内的机构：请填写机构全称或简称，或加上“机构代码”列。",
                )
            )
        else:
            out.append(replace(row, institution_code=code))
    return out


def _problem(row, institutions, periods) -> str | None:
    if row.institution_code not in institutions:
        return f"第 {row.row} 行：机构代码“{row.institution_code}”不存在或不在您的辖区内。"
    if (row.year, row.month) not in periods:
        return f"第 {row.row} 行：{row.year}年{row.month}月 不是已设置的报送期。"
    return None


# --- what the rules need, read once ---------------------------------------------------------------------------


@dataclass
class _Sheet:
    """One filing as the import sees it: status and current values (None without a version), read from the
    stored JSON when first needed (most of the filings read are never looked at)."""

    status: str
    stored: dict | str | None = None  # the current version's values as stored (JSON text as read)
    parsed: dict | None = None
    lock_version: int = 0

    @property
    def values(self) -> dict | None:
        if self.parsed is None and self.stored is not None:
            stored = json.loads(self.stored) if isinstance(self.stored, str) else self.stored
            self.parsed = parsing.values_from_json(stored)
        return self.parsed


def _previous(year: int, month: int) -> tuple[int, int]:
    index = year * 12 + month - 2
    return index // 12, index % 12 + 1


@dataclass
class _State:
    """The monitoring filings around the imported months, keyed (institution id, year, month), updated as rows
    are accepted; and, per (evaluation group, year, month), the group's month-on-month changes at the start."""

    sheets: dict[tuple[int, int, int], _Sheet]
    groups: dict[int, str]  # institution id → evaluation group of every filing read
    peer_changes: dict[tuple, rules.PeerChanges] = field(default_factory=dict)

    @classmethod
    def read(cls, rows, institutions, periods) -> _State:
        """One query: every monitoring filing of the imported months, the months before them and the same months
        a year earlier (the institution's neighbours, and its group's peers for build_context's W406)."""
        wanted: set[tuple[int, int]] = set()
        for row in rows:
            if row.year is None or row.month is None:
                continue
            wanted |= {(row.year, row.month), _previous(row.year, row.month), (row.year - 1, row.month)}
        by_id = {periods[key].pk: key for key in wanted if key in periods}
        sheets: dict[tuple[int, int, int], _Sheet] = {}
        groups: dict[int, str] = {}
        if not by_id:
            return cls(sheets, groups)
        # a plain cursor: the values come as JSON text, decoded only for the sheets a rule looks at
        filing, version, institution = (m._meta.db_table for m in (Filing, FilingVersion, Institution))
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT f.institution_id, i.evaluation_group, f.period_id, f.status, v."values", '
                f"f.lock_version FROM {filing} f JOIN {institution} i ON i.id = f.institution_id "
                f"LEFT JOIN {version} v ON v.id = f.current_version_id "
                f"WHERE f.period_id IN ({', '.join(['%s'] * len(by_id))})",
                list(by_id),
            )
            found = cursor.fetchall()
        for inst_id, group, period_id, status, values, lock_version in found:
            groups[inst_id] = group
            sheets[(inst_id, *by_id[period_id])] = _Sheet(status, stored=values, lock_version=lock_version)
        return cls(sheets, groups)

    def values(self, inst_id: int, year: int, month: int) -> dict | None:
        sheet = self.sheets.get((inst_id, year, month))
        return sheet.values if sheet else None

    def group_changes(self, group: str, year: int, month: int, codes: list[str]) -> rules.PeerChanges:
        """The changes of the group's other institutions whose sheets for this month and the one before are
        both submitted or approved — as services.build_context computes them, from the state at the start."""
        key = (group, year, month)
        if key not in self.peer_changes:
            prev = _previous(year, month)
            changes: dict[str, list[Decimal]] = {code: [] for code in codes}
            for (inst_id, y, m), sheet in self._start.items():
                if (y, m) != (year, month) or self.groups.get(inst_id) != group:
                    continue
                before = self._start.get((inst_id, *prev))
                if sheet.status not in PEER_STATUSES or before is None or before.status not in PEER_STATUSES:
                    continue
                if sheet.values and before.values:
                    for code in codes:
                        now, then = sheet.values.get(code), before.values.get(code)
                        if now is not None and then not in (None, Decimal(0)):
                            changes[code].append((now - then) / then)
            self.peer_changes[key] = rules.PeerChanges(changes)
        return self.peer_changes[key]

    def group_levels(self, group: str, year: int, month: int, codes: list[str]) -> rules.PeerChanges:
        """This month's values of the group's submitted or approved sheets at the start (W605's median)."""
        key = ("levels", group, year, month)
        if key not in self.peer_changes:
            levels: dict[str, list[Decimal]] = {code: [] for code in codes}
            for (inst_id, y, m), sheet in self._start.items():
                if (y, m) != (year, month) or self.groups.get(inst_id) != group:
                    continue
                if sheet.status in PEER_STATUSES and sheet.values:
                    for code in codes:
                        if sheet.values.get(code) is not None:
                            levels[code].append(sheet.values[code])
            self.peer_changes[key] = rules.PeerChanges(levels)
        return self.peer_changes[key]

    def started(self, inst_id: int, period) -> _Sheet | None:
        """The institution's filing of the period as it stood when the import began (its own work)."""
        return self._start.get((inst_id, period.year, period.month))

    def __post_init__(self):
        self._start = dict(self.sheets)  # peers are read from the state at the start of the import


# --- validation, in file order --------------------------------------------------------------------------------


@dataclass
class _Outcome:
    row: excel.BulkRow
    institution: object = None
    period: Period | None = None
    message: str = ""  # why the row is not stored
    skipped: bool = False  # not stored because the filing is submitted or approved
    values: dict | None = None  # what is stored (values_to_json of the parsed and derived values)
    findings: list[rules.Finding] = field(default_factory=list)
    edition: str = ""


@lru_cache(maxsize=32)
def _definition(form: str, year: int):
    """The edition in force and its 时点 (stock) fields, whose month-on-month changes W406 compares."""
    definition = definition_for(form, year)
    return definition, [f.code for f in definition.fields if f.kind == "stock"]


def _screen(row, institutions, periods, state: _State, actor, *, choices: dict | None) -> _Outcome | None:
    """A row refused or skipped before its values are read, or None when its values are to be checked.
    With `choices` (storing a confirmed import) a bank's own draft or returned sheet is replaced only when the
    officer chose so; without (the preview) every row says what it would do."""
    problem = row.error or _problem(row, institutions, periods)
    if problem:
        return _Outcome(row, message=problem)
    institution = institutions[row.institution_code]
    period = periods[(row.year, row.month)]
    if not access.is_pboc(
        actor
    ):  # the rows' institutions are the officer's jurisdiction (visible_institutions)
        return _Outcome(row, institution, period, message="您无权为该机构导入数据。")
    current = state.sheets.get((institution.pk, row.year, row.month))
    if current is not None and current.status in Filing.LOCKED_STATUSES:
        return _Outcome(
            row,
            institution,
            period,
            message=services.locked_message(f"{institution} {period}", current.status),
            skipped=True,
        )
    start = state.started(institution.pk, period)
    if choices is not None and start is not None and start.status in BANKS_OWN_WORK:
        if key_of(institution, period) not in set(choices["replace"]):
            kept = "草稿" if start.status == FilingStatus.DRAFT else "退回后的报表"
            return _Outcome(
                row,
                institution,
                period,
                message=f"{institution} {period} 保留机构自己的{kept}：确认导入时未选择替换。",
                skipped=True,
            )
    return None


def _locator(cells: dict):
    def locate(code):
        return cells.get(code, code)

    return locate


def _validate(rows, institutions, periods, state: _State, actor, *, choices: dict | None) -> list[_Outcome]:
    """Every row's outcome, in file order. The rows' values are parsed and checked a frame at a time
    (`parsing.parse_many`, `rules.validate_many`: the same code as one bank's sheet), in waves: wave k holds
    each institution's k-th row of the file, so a row is checked after — and against — the rows of its own
    institution above it (an accepted row is the next month's "previous month"; a second row for an accepted
    month is skipped), exactly as one row after another would be, while a one-month import is one wave."""
    outcomes: list[_Outcome | None] = [None] * len(rows)
    waves: dict[int, list[int]] = {}
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        k = seen.get(row.institution_code, 0)
        seen[row.institution_code] = k + 1
        waves.setdefault(k, []).append(i)
    for k in sorted(waves):
        batches: dict[tuple, list[int]] = {}
        for i in waves[k]:
            outcomes[i] = _screen(rows[i], institutions, periods, state, actor, choices=choices)
            if outcomes[i] is None:
                period = periods[(rows[i].year, rows[i].month)]
                batches.setdefault((period.form, period.year, period.month), []).append(i)
        for (form, year, month), batch in batches.items():
            for i, outcome in zip(
                batch, _check(rows, batch, form, year, month, institutions, periods, state), strict=True
            ):
                outcomes[i] = outcome
    return outcomes


def _check(rows, batch: list[int], form: str, year: int, month: int, institutions, periods, state: _State):
    """The outcomes of the rows `batch` of one month: parsed and validated together, each against its
    institution's neighbours and its group as the import found them; an accepted row joins the state."""
    definition, stock_codes = _definition(form, year)
    locates = [_locator(rows[i].cells) for i in batch]
    parsed = parsing.parse_many(definition, [rows[i].raw for i in batch], locates=locates, month=month)
    contexts = []
    for i, locate, (values, _found) in zip(batch, locates, parsed, strict=True):
        institution = institutions[rows[i].institution_code]
        group = institution.evaluation_group
        contexts.append(
            rules.Context(
                definition=definition,
                year=year,
                month=month,
                values=values,
                previous=state.values(institution.pk, *_previous(year, month)),
                last_year=state.values(institution.pk, year - 1, month),
                group_changes=state.group_changes(group, year, month, stock_codes),
                group_levels=state.group_levels(group, year, month, definition.codes),
                locate=locate,
            )
        )
    out = []
    for i, (values, found), checked in zip(batch, parsed, rules.validate_many(contexts), strict=True):
        row, institution, period = rows[i], institutions[rows[i].institution_code], periods[(year, month)]
        # a value that could not be read is reported once, not again as missing (as services.check)
        unparsable = {f.field for f in found}
        findings = rules.sort_findings(found + [f for f in checked if f.field not in unparsable])
        errors = [f for f in findings if f.is_error]
        if errors:
            message = "；".join(f"{f.location}：{f.message}" for f in errors[:5])
            out.append(_Outcome(row, institution, period, message=message))
            continue
        stored = parsing.values_to_json({**values, **definition.derive(values)})
        # accepted: later rows see this sheet as approved, and as their previous month
        state.sheets[(institution.pk, year, month)] = _Sheet(FilingStatus.APPROVED, stored=stored)
        out.append(
            _Outcome(row, institution, period, values=stored, findings=findings, edition=definition.edition)
        )
    return out


# --- storing a chunk ------------------------------------------------------------------------------------------


def _store(outcomes: list[_Outcome], actor, result: dict, *, choices: dict, started) -> None:
    """Store the chunk's accepted rows through the one write path (`services.write_versions`, in the caller's
    transaction) — approved on import when the officer chose so, a bank's own draft or returned sheet
    replaced with the officer's reason — and record the others in `result`."""
    result.setdefault("replaced", [])
    approve = (
        (
            services.Step(
                to=FilingStatus.APPROVED,
                actor=actor,
                action="filing.import_approve",
                summary="{filing} 批量导入并通过（第 {number} 版）",
                reason=IMPORT_REASON,
            ),
        )
        if choices["approve"]
        else ()
    )
    items, rows = [], []
    for outcome in outcomes:
        if outcome.values is None:
            target = "skipped" if outcome.skipped else "rejected"
            result[target].append(
                {
                    "row": outcome.row.row,
                    "institution": outcome.row.institution_code,
                    "message": outcome.message,
                }
            )
            continue
        start = started(outcome.institution.pk, outcome.period)
        replaces = start.status if start is not None and start.status in BANKS_OWN_WORK else ""
        items.append(
            services.NewVersion(
                institution=outcome.institution,
                period=outcome.period,
                edition=outcome.edition,
                source=VersionSource.BULK,
                values=outcome.values,
                findings=[f.as_dict() for f in outcome.findings],
                steps=approve,
                replaces=replaces,
                reason=choices["reason"] if replaces else "",
            )
        )
        rows.append(outcome.row.row)
    for row, written in zip(rows, services.write_versions(items, actor=actor, strict=False), strict=True):
        institution = written.item.institution
        if written.refused:  # submitted or approved since the import began
            result["skipped"].append(
                {"row": row, "institution": institution.code, "message": written.refused}
            )
            continue
        if written.item.replaces:
            result["replaced"].append({"filing": written.filing_id, "row": row, "was": written.item.replaces})
        result["stored"] += 1
        if written.status == FilingStatus.APPROVED:
            result.setdefault("approved", []).append(
                [institution.pk, written.item.period.year, written.item.period.month]
            )


def _finish(job: ImportJob, status: str, *, result=None, error: str = "") -> None:
    if result is not None:
        job.result = result
    job.finish(status, "result", "processed", "total", error=error)
