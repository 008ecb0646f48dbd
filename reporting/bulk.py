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
- each chunk of rows is stored in one transaction — versions, transitions and audit entries with one bulk
  write each (COPY on PostgreSQL), the filings locked (`select_for_update`) and updated with one statement —
  and that transaction also advances `job.processed` and the job's result: a worker killed half-way resumes
  after the last committed chunk and never stores a row twice.

The stored rows are what `services.save_version` + `services.approve_imported` write for each row: a version
numbered after the filing's last, a 已退回 filing back to 草稿 ("退回后重新报送"), 草稿 → 已通过 with the reason
"人民银行批量导入", and the audit entries filing.save and filing.import_approve.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import (
    AutoField,
    BigAutoField,
    BooleanField,
    DateField,
    DateTimeField,
    IntegerField,
    JSONField,
    Max,
)
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEntry
from indicators import dashcache
from institutions import access
from institutions.models import Role
from outbox import services as outbox

from . import excel, headings, names, parsing, rules
from .definitions import definition_for
from .models import Filing, FilingStatus, FilingVersion, Form, ImportJob, Period, Transition, VersionSource
from .uploads import UploadRejected

CHUNK = 500  # rows stored (and progress committed) per transaction
IMPORT_REASON = "人民银行批量导入"
REVIEWERS = {Role.PBOC_OFFICER, Role.PBOC_ADMIN, Role.SYSADMIN}
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
    for row in rows:
        outcome = _validate(row, institutions, periods, state, job.created_by, choices=None)
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
        outcomes = [_validate(row, institutions, periods, state, actor, choices=choices) for row in chunk]
        with transaction.atomic():
            _store(outcomes, actor, result, choices=choices, started=state.started)
            # the filings went in with COPY and UPDATE … FROM, past the signals the dashboard's cache follows
            dashcache.renew_filings_on_commit()
            job.processed = start + len(chunk)
            job.result = result
            job.save(update_fields=["processed", "total", "result"])
    _finish(job, ImportJob.Status.DONE, result=result)
    if result.get("replaced"):
        from . import tasks

        outbox.enqueue(tasks.notify_import_replaced, job.pk)
    if result["stored"] and choices["approve"]:
        # One recomputation for the whole import, not one per approved row.
        from indicators.models import RefreshRun
        from indicators.services import request_refresh

        request_refresh(trigger=RefreshRun.Trigger.APPROVAL)


def _resolve_names(rows: list[excel.BulkRow], institutions: dict) -> list[excel.BulkRow]:
    """A row that names its institution only by name (a branch's 汇总 in the notice's 附件4 layout) gets that
    institution's code; a name that is none of the officer's institutions is that row's error."""
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
    stored: dict | None = None  # the current version's values as stored
    parsed: dict | None = None
    lock_version: int = 0

    @property
    def values(self) -> dict | None:
        if self.parsed is None and self.stored is not None:
            self.parsed = parsing.values_from_json(self.stored)
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
        period_ids = [periods[key].pk for key in wanted if key in periods]
        sheets: dict[tuple[int, int, int], _Sheet] = {}
        groups: dict[int, str] = {}
        found = Filing.objects.filter(period_id__in=period_ids).values_list(
            "institution_id",
            "institution__evaluation_group",
            "period__year",
            "period__month",
            "status",
            "current_version__values",
            "lock_version",
        )
        for inst_id, group, year, month, status, values, lock_version in found:
            groups[inst_id] = group
            sheets[(inst_id, year, month)] = _Sheet(status, stored=values, lock_version=lock_version)
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


def _locked_message(institution, period, status: str) -> str:
    filing = f"{institution} {period}"
    if status == FilingStatus.APPROVED:
        return f"{filing} 已通过审核并锁定。如需更正，请联系人民银行经办退回后再报送。"
    return f"{filing} 已提交，正在审核，不能修改。如需更正，请联系人民银行经办退回。"


@lru_cache(maxsize=32)
def _definition(form: str, year: int):
    """The edition in force and its 时点 (stock) fields, whose month-on-month changes W406 compares."""
    definition = definition_for(form, year)
    return definition, [f.code for f in definition.fields if f.kind == "stock"]


def _validate(row, institutions, periods, state: _State, actor, *, choices: dict | None) -> _Outcome:
    """A row's outcome. With `choices` (storing a confirmed import) a bank's own draft or returned sheet is
    replaced only when the officer chose so; without (the preview) every row says what it would do."""
    problem = row.error or _problem(row, institutions, periods)
    if problem:
        return _Outcome(row, message=problem)
    institution = institutions[row.institution_code]
    period = periods[(row.year, row.month)]
    if actor.role not in REVIEWERS:  # what save_version's access check refuses
        return _Outcome(row, institution, period, message="您无权为该机构导入数据。")
    current = state.sheets.get((institution.pk, row.year, row.month))
    if current is not None and current.status in (FilingStatus.APPROVED, FilingStatus.SUBMITTED):
        return _Outcome(
            row,
            institution,
            period,
            message=_locked_message(institution, period, current.status),
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
    cells = row.cells

    def locate(code):
        return cells.get(code, code)

    definition, stock_codes = _definition(period.form, period.year)
    values, findings = parsing.parse_values(definition, row.raw, locate=locate, month=period.month)
    context = rules.Context(
        definition=definition,
        year=period.year,
        month=period.month,
        values=values,
        previous=state.values(institution.pk, *_previous(period.year, period.month)),
        last_year=state.values(institution.pk, period.year - 1, period.month),
        group_changes=state.group_changes(
            institution.evaluation_group, period.year, period.month, stock_codes
        ),
        group_levels=state.group_levels(
            institution.evaluation_group, period.year, period.month, definition.codes
        ),
        locate=locate,
    )
    # a value that could not be read is reported once, not again as missing (as services.check)
    unparsable = {f.field for f in findings}
    findings = rules.sort_findings(
        findings + [f for f in rules.validate(context) if f.field not in unparsable]
    )
    errors = [f for f in findings if f.severity == rules.ERROR]
    if errors:
        message = "；".join(f"{f.location}：{f.message}" for f in errors[:5])
        return _Outcome(row, institution, period, message=message)
    stored = parsing.values_to_json({**values, **definition.derive(values)})
    # accepted: later rows see this sheet as approved, and as their previous month
    state.sheets[(institution.pk, row.year, row.month)] = _Sheet(FilingStatus.APPROVED, stored=stored)
    return _Outcome(row, institution, period, values=stored, findings=findings, edition=definition.edition)


# --- storing a chunk ------------------------------------------------------------------------------------------


@dataclass
class _Locked:
    """A filing as locked for a chunk: plain values (a chunk holds hundreds; no model instances needed)."""

    pk: int
    status: str
    lock_version: int
    submitted_at: datetime | None
    first_submitted_at: datetime | None
    old_values: dict  # its current version's values, {} without one


def _store(outcomes: list[_Outcome], actor, result: dict, *, choices: dict, started) -> None:
    """Store the chunk's accepted rows as save_version (+ approve_imported when the officer chose to approve)
    would, in bulk, in the caller's transaction; record the others in `result`, and the banks' own sheets
    that were replaced, with the officer's reason."""
    approve = choices["approve"]
    result.setdefault("replaced", [])
    accepted = [o for o in outcomes if o.values is not None]
    filings = _lock_filings(accepted)
    numbers = dict(
        FilingVersion.objects.filter(filing_id__in=[f.pk for f in filings.values()])
        .values("filing")
        .annotate(n=Max("number"))
        .values_list("filing", "n")
    )
    version_ids = iter(_next_ids(FilingVersion, len(accepted)))
    now = timezone.now()
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    label = f"{actor_obj.username}（{actor_obj}）" if actor_obj else "系统"
    source = str(VersionSource.BULK.label)  # version.get_source_display(), translated once
    versions, transitions, updates, entries = [], [], [], []
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
        institution, period = outcome.institution, outcome.period
        filing = filings[(institution.pk, period.pk)]
        if filing.status in (FilingStatus.APPROVED, FilingStatus.SUBMITTED):  # changed since the import began
            message = _locked_message(institution, period, filing.status)
            result["skipped"].append(
                {"row": outcome.row.row, "institution": institution.code, "message": message}
            )
            continue
        number = numbers[filing.pk] = numbers.get(filing.pk, 0) + 1
        version_id = next(version_ids)
        values = outcome.values
        findings = [f.as_dict() for f in outcome.findings]
        versions.append(
            {
                "id": version_id,
                "filing_id": filing.pk,
                "number": number,
                "edition": outcome.edition,
                "values": values,
                "findings": findings,
                "explanations": {},
                "source": VersionSource.BULK,
                "created_by_id": actor.pk,
                "created_at": now,
            }
        )
        steps = (
            [(FilingStatus.RETURNED, FilingStatus.DRAFT, "退回后重新报送")]
            if filing.status == FilingStatus.RETURNED
            else []
        )
        if approve:
            steps.append((FilingStatus.DRAFT, FilingStatus.APPROVED, IMPORT_REASON))
        for from_status, to_status, reason in steps:
            transitions.append(
                {
                    "filing_id": filing.pk,
                    "version_id": version_id,
                    "from_status": from_status,
                    "to_status": to_status,
                    "actor_id": actor.pk,
                    "reason": reason,
                    "field_comments": {},
                    "at": now,
                }
            )
        # one revision for the saved version, one for the approval
        updates.append(
            (
                filing.pk,
                version_id,
                FilingStatus.APPROVED,
                filing.lock_version + 2,
                now,
                filing.submitted_at or now,
                filing.first_submitted_at or now,
                now,
            )
            if approve
            else (
                filing.pk,
                version_id,
                FilingStatus.DRAFT,
                filing.lock_version + 1,
                None,
                filing.submitted_at,
                filing.first_submitted_at,
                now,
            )
        )
        name = f"{institution} {period}"
        errors = sum(1 for f in findings if f["severity"] == rules.ERROR)
        warnings = sum(1 for f in findings if f["severity"] == rules.WARNING)
        common = {
            "actor_id": actor_obj.pk if actor_obj else None,
            "actor_label": label,
            "institution_id": institution.pk,
        }
        entries.append(
            {
                **common,
                "action": "filing.save",
                "object_type": FilingVersion._meta.label,
                "object_id": str(version_id),
                "summary": f"{name} 保存第 {number} 版（{source}，错误 {errors}，预警 {warnings}）"[:300],
                "changes": audit.diff(filing.old_values, values),
            }
        )
        start = started(institution.pk, period)
        if start is not None and start.status in BANKS_OWN_WORK:
            entries.append(
                {
                    **common,
                    "action": "filing.import_replace",
                    "object_type": Filing._meta.label,
                    "object_id": str(filing.pk),
                    "summary": f"{name} 机构的{FilingStatus(start.status).label}被批量导入替换（第 {number} 版）"[
                        :300
                    ],
                    "changes": {"replaced": start.status, "reason": choices["reason"]},
                }
            )
            result["replaced"].append({"filing": filing.pk, "row": outcome.row.row, "was": start.status})
        if approve:
            entries.append(
                {
                    **common,
                    "action": "filing.import_approve",
                    "object_type": Filing._meta.label,
                    "object_id": str(filing.pk),
                    "summary": f"{name} 批量导入并通过（第 {number} 版）"[:300],
                    "changes": {"status": [FilingStatus.DRAFT, FilingStatus.APPROVED]},
                }
            )
        result["stored"] += 1
    _insert(FilingVersion, versions)
    _insert(Transition, transitions)
    _update_filings(updates)
    _insert(AuditEntry, entries)  # the rows audit.record writes, one per call; here a chunk's at once


def _lock_filings(accepted: list[_Outcome]) -> dict[tuple[int, int], _Locked]:
    """The filings of the accepted rows, created when missing, locked (select_for_update), with their current
    version's values."""
    keys = {(o.institution.pk, o.period.pk) for o in accepted}
    if not keys:
        return {}
    _insert(Filing, [{"institution_id": i, "period_id": p} for i, p in sorted(keys)], ignore_conflicts=True)
    rows = (
        Filing.objects.select_for_update(of=("self",))
        .filter(institution_id__in={i for i, _p in keys}, period_id__in={p for _i, p in keys})
        .order_by("pk")
        .values_list(
            "pk",
            "institution_id",
            "period_id",
            "status",
            "lock_version",
            "submitted_at",
            "first_submitted_at",
            "current_version__values",
        )
    )
    return {
        (inst, period): _Locked(pk, status, lock_version, submitted, first, values or {})
        for pk, inst, period, status, lock_version, submitted, first, values in rows
        if (inst, period) in keys
    }


# --- bulk writes (PostgreSQL: COPY and one UPDATE per chunk; elsewhere the ORM's bulk operations) ---------------


def _next_ids(model, count: int) -> list[int]:
    """Primary keys for `count` new rows, taken before they are written (versions are referenced by the
    filings, transitions and audit entries written with them)."""
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
        cursor.execute(
            f"SELECT MAX({quote(column)}) FROM {quote(table)}"
        )  # the caller's transaction holds the lock
        start = (cursor.fetchone()[0] or 0) + 1
        return list(range(start, start + count))


def _insert(model, rows: list[dict], *, ignore_conflicts: bool = False) -> None:
    """Insert rows given as {attname: value}; every other field takes its default, as Model() would give it
    (auto_now/auto_now_add: now). PostgreSQL: COPY, or INSERT … ON CONFLICT DO NOTHING when conflicts are
    to be ignored; elsewhere bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], ignore_conflicts=ignore_conflicts)
        return
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
            from psycopg2.extras import Json, execute_values

            values = [
                tuple(
                    Json(v) if isinstance(f, JSONField) and v is not None else v
                    for f in fields
                    for v in (row.get(f.attname, defaults[f.attname]),)
                )
                for row in rows
            ]
            execute_values(
                cursor.cursor, f"INSERT INTO {table} ({columns}) VALUES %s ON CONFLICT DO NOTHING", values
            )
            return
        convert = [(f.attname, defaults[f.attname], _copy_converter(f)) for f in fields]
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join([fn(row.get(name, default)) for name, default, fn in convert]))
            buffer.write("\n")
        buffer.seek(0)
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _copy_converter(field):
    """value → COPY text, chosen once per field: \\N for NULL; JSON, timestamps, booleans and numbers as
    PostgreSQL reads them; text with backslash, tab and line breaks escaped."""
    if isinstance(field, JSONField):
        encoder = field.encoder
        return lambda v: _NULL if v is None else json.dumps(v, cls=encoder).translate(_COPY_ESCAPES)
    if isinstance(field, DateTimeField | DateField):
        return lambda v: _NULL if v is None else v.isoformat()
    if isinstance(field, BooleanField):
        return lambda v: _NULL if v is None else ("t" if v else "f")
    if isinstance(field, IntegerField | AutoField | BigAutoField):
        return lambda v: _NULL if v is None else str(int(v))
    return lambda v: _NULL if v is None else str(v).translate(_COPY_ESCAPES)


_UPDATED = (
    "current_version",
    "status",
    "lock_version",
    "approved_at",
    "submitted_at",
    "first_submitted_at",
    "updated_at",
)


def _update_filings(updates: list[tuple]) -> None:
    """Set (pk, current_version_id, status, lock_version, approved_at, submitted_at, first_submitted_at,
    updated_at) of the chunk's filings: one UPDATE … FROM (VALUES …) on PostgreSQL (bulk_update's CASE per
    field costs seconds per thousand rows), bulk_update elsewhere (the embedded SQLite default)."""
    if not updates:
        return
    if connection.vendor != "postgresql":
        filings = [
            Filing(
                pk=pk,
                current_version_id=v,
                status=st,
                lock_version=lv,
                approved_at=ap,
                submitted_at=sub,
                first_submitted_at=first,
                updated_at=up,
            )
            for pk, v, st, lv, ap, sub, first, up in updates
        ]
        Filing.objects.bulk_update(filings, list(_UPDATED))
        return
    columns = [Filing._meta.get_field(name).column for name in _UPDATED]
    quote = connection.ops.quote_name
    table = quote(Filing._meta.db_table)
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    # the first row's casts type every column of the VALUES list
    first = "(%s::bigint, %s::bigint, %s::varchar, %s::integer, " + ", ".join(["%s::timestamptz"] * 4) + ")"
    values = ", ".join([first] + [row] * (len(updates) - 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(f'{quote(c)} = v.{quote(c)}' for c in columns)} "
            f"FROM (VALUES {values}) AS v(id, {', '.join(quote(c) for c in columns)}) WHERE {table}.id = v.id",
            [value for update in updates for value in update],
        )


def _finish(job: ImportJob, status: str, *, result=None, error: str = "") -> None:
    job.status = status
    job.error = error
    if result is not None:
        job.result = result
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "result", "finished_at", "processed", "total"])
