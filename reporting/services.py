"""Every state change of a return: save a version, submit, approve, return, reopen, bulk approve.

Each service is keyword-only, runs in one transaction with the filing row locked (`select_for_update`),
writes a Transition and an audit entry in that transaction, and queues follow-up work on commit.
Every version is stored by `write_versions`, set-based (one write per table, COPY on PostgreSQL): the web
form, the API and the Excel upload through `save_version` (one item), documents through `save_document`, an
officer's bulk import and the demo loader with thousands of items — one validator (reporting.parsing +
reporting.rules) checks every way in, and each way writes the same version, transition and audit rows.
"""

import calendar
import contextvars
import functools
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from audit import services as audit
from institutions import access
from institutions.models import Institution
from institutions.services import sync_contacts
from outbox import services as outbox
from portal import bulkdb, clock
from portal.errors import Conflict, ServiceError, require

from . import bulk, events, excel, names, parsing, rules, selectors, tasks
from .definitions import FormDefinition, Layout, definition_for
from .models import Filing, FilingStatus, FilingVersion, Form, ImportJob, Period, Transition, VersionSource
from .uploads import UploadRejected, inspect_document, inspect_workbook

# --- periods --------------------------------------------------------------------------------


def monthly_period_dates(year: int, month: int) -> dict[str, date]:
    """附件4: month-end data, filed from the 1st and due by the 15th of the following month (004 §(十九))."""
    ends_on = date(year, month, calendar.monthrange(year, month)[1])
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return {
        "ends_on": ends_on,
        "opens_on": date(next_year, next_month, 1),
        "due_on": date(next_year, next_month, 15),
    }


def create_periods(periods: list[Period]) -> list[Period]:
    """Store new periods (a campaign set up ahead, indicators/campaigns.py) and announce them: the dashboard's
    filing rates count what is expected."""
    Period.objects.bulk_create(periods)
    events.announce(events.filings_changed, sender=Period, filings=[])  # bulk_create sends no post_save
    return periods


def ensure_monthly_periods(first: tuple[int, int], last: tuple[int, int]) -> list[Period]:
    """Create the monitoring periods from (year, month) to (year, month) inclusive; existing ones are kept."""
    existing = {(p.year, p.month): p for p in Period.objects.filter(form=Form.MONITORING)}
    year, month = first
    created = []
    while (year, month) <= last:
        if (year, month) not in existing:
            created.append(
                Period(form=Form.MONITORING, year=year, month=month, **monthly_period_dates(year, month))
            )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    Period.objects.bulk_create(created)
    events.announce(events.filings_changed, sender=Period, filings=[])  # bulk_create sends no post_save
    return created


def quarter_due(year: int, quarter: int) -> date:
    """经验做法: due within a month after the quarter ends (004 §(二十)) — the last day of the next month."""
    month = quarter * 3 + 1
    y, m = (year + 1, 1) if month == 13 else (year, month)
    return date(y, m, calendar.monthrange(y, m)[1])


def ensure_campaign_periods(year: int, *, due_on: date) -> list[Period]:
    """The once-a-year returns of a campaign year — 附件3 plan, 附件2 contacts, 工作方案 — due on `due_on`
    (2022-04-29 in 武银〔2022〕45号), and the four quarterly 经验做法. Existing periods are kept."""
    wanted = [
        Period(form=form, year=year, ends_on=date(year, 12, 31), opens_on=date(year, 1, 1), due_on=due_on)
        for form in (Form.PLAN, Form.CONTACTS, Form.WORK_PLAN)
    ] + [
        Period(
            form=Form.EXPERIENCE,
            year=year,
            quarter=q,
            ends_on=date(year, q * 3, calendar.monthrange(year, q * 3)[1]),
            opens_on=date(year, (q - 1) * 3 + 1, 1),
            due_on=quarter_due(year, q),
        )
        for q in (1, 2, 3, 4)
    ]
    existing = set(Period.objects.filter(year=year).values_list("form", "quarter"))
    created = [p for p in wanted if (p.form, p.quarter) not in existing]
    Period.objects.bulk_create(created)
    events.announce(events.filings_changed, sender=Period, filings=[])  # bulk_create sends no post_save
    return created


@transaction.atomic
def change_period_window(*, period: Period, actor, due_on: date, closes_on: date | None = None) -> Period:
    """A PBoC admin moves a period's deadline (e.g. for a public holiday) or closes its window."""
    require(access.is_pboc_admin(actor), "只有人民银行管理员可以调整报送期。")
    if due_on < period.opens_on:
        raise ServiceError(
            f"截止日 {due_on:%Y-%m-%d} 早于开始报送日 {period.opens_on:%Y-%m-%d}，请重新选择。"
        )
    if closes_on is not None and closes_on < due_on:
        raise ServiceError(f"关闭日 {closes_on:%Y-%m-%d} 早于截止日 {due_on:%Y-%m-%d}，请重新选择。")
    changes = {
        name: [str(getattr(period, name)), str(new)]
        for name, new in (("due_on", due_on), ("closes_on", closes_on))
        if getattr(period, name) != new
    }
    period.due_on, period.closes_on = due_on, closes_on
    period.save(update_fields=["due_on", "closes_on"])
    audit.record(
        actor=actor,
        action="period.window",
        obj=period,
        summary=f"调整 {period} 报送期",
        changes=changes,
    )
    events.announce(events.filings_changed, sender=Period, filings=[])
    return period


# --- validation -----------------------------------------------------------------------------


def _values_of(filing: Filing | None) -> dict | None:
    if filing is None or filing.current_version is None:
        return None
    return parsing.values_from_json(filing.current_version.values)


def _previous_month(period: Period) -> tuple[int, int]:
    index = period.year * 12 + period.month - 2
    return index // 12, index % 12 + 1


def _relative_changes(current: dict, previous: dict, codes: list[str]) -> dict[str, Decimal]:
    out = {}
    for code in codes:
        now, before = current.get(code), previous.get(code)
        if now is not None and before not in (None, Decimal(0)):
            out[code] = (now - before) / before
    return out


def build_context(
    *, institution: Institution, period: Period, values: dict, definition: FormDefinition, locate=None
) -> rules.Context:
    """Everything the rules need besides the values. For 附件4: last month, the same month last year, and
    the month-on-month changes of the institution's evaluation group (three queries whatever the group size).
    For 附件3: the approved 附件4 balances it is checked against. Other returns: the values alone."""
    if period.form == Form.PLAN:
        return rules.Context(
            definition=definition,
            year=period.year,
            month=None,
            values=values,
            locate=locate,
            related=selectors.approved_monthly_balances(institution, period.year),
        )
    if period.form != Form.MONITORING:
        return rules.Context(
            definition=definition, year=period.year, month=None, values=values, locate=locate
        )
    previous, last_year = selectors.neighbour_values(institution, period)
    prev_key = _previous_month(period)

    stock_codes = [f.code for f in definition.fields if f.kind == "stock"]
    peer_rows = (
        Filing.objects.filter(
            period__form=period.form,
            institution__evaluation_group=institution.evaluation_group,
            status__in=[FilingStatus.SUBMITTED, FilingStatus.APPROVED],
        )
        .exclude(institution=institution)
        .filter(
            period__in=Period.objects.filter(form=period.form).filter(
                year__in={period.year, prev_key[0]}, month__in={period.month, prev_key[1]}
            )
        )
        .select_related("period", "current_version")
    )
    by_peer: dict[int, dict] = {}
    for f in peer_rows:
        slot = "now" if (f.period.year, f.period.month) == (period.year, period.month) else "prev"
        if (f.period.year, f.period.month) in {(period.year, period.month), prev_key}:
            by_peer.setdefault(f.institution_id, {})[slot] = _values_of(f)
    group_changes = rules.PeerChanges({code: [] for code in stock_codes})
    group_levels = rules.PeerChanges({code: [] for code in definition.codes})
    for pair in by_peer.values():
        if pair.get("now") and pair.get("prev"):
            for code, change in _relative_changes(pair["now"], pair["prev"], stock_codes).items():
                group_changes[code].append(change)
        for code in definition.codes:
            if (pair.get("now") or {}).get(code) is not None:
                group_levels[code].append(pair["now"][code])
    return rules.Context(
        definition=definition,
        year=period.year,
        month=period.month,
        values=values,
        previous=previous,
        last_year=last_year,
        group_changes=group_changes,
        group_levels=group_levels,
        locate=locate,
    )


def check(*, institution: Institution, period: Period, raw: dict, locate=None):
    """Parse and validate raw values without storing anything: (definition, values, findings).

    `values` holds the parsed fields plus what the portal derives from them (附件3's 全省 row and 增速)."""
    definition = definition_for(period.form, period.year)
    values, findings = parsing.parse_values(definition, raw, locate=locate, month=period.month)
    context = build_context(
        institution=institution, period=period, values=values, definition=definition, locate=locate
    )
    # a value that could not be read is reported once, not again as missing
    unparsable = {f.field for f in findings}
    findings = findings + [f for f in rules.validate(context) if f.field not in unparsable]
    return definition, {**values, **definition.derive(values)}, rules.sort_findings(findings)


# --- versions and workflow ------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    data: bytes
    name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _lock(filing: Filing) -> Filing:
    return (
        Filing.objects.select_for_update(of=("self",))
        .select_related("period", "institution", "current_version")
        .get(pk=filing.pk)
    )


def _check_expected(filing: Filing, expected_lock_version: int | None) -> None:
    if expected_lock_version is not None and expected_lock_version != filing.lock_version:
        raise Conflict(
            f"{filing} 已被他人修改（您打开的是第 {expected_lock_version} 次修订，当前为第 {filing.lock_version} 次）。"
            "为避免覆盖他人的修改，请刷新页面，核对后再保存。"
        )


def _transition(filing: Filing, *, to: str, actor, reason: str = "", field_comments=None) -> Transition:
    step = Transition.objects.create(
        filing=filing,
        version=filing.current_version,
        from_status=filing.status,
        to_status=to,
        actor=actor,
        reason=reason,
        field_comments=field_comments or {},
    )
    filing.status = to
    return step


def save_version(
    *,
    institution: Institution,
    period: Period,
    actor,
    raw: dict,
    source: str,
    explanations: dict[str, str] | None = None,
    upload: Upload | None = None,
    expected_lock_version: int | None = None,
    locate=None,
    reading_notes: list[str] | None = None,
) -> FilingVersion:
    """Store a new immutable version of the institution's return for the period, with its findings.

    Errors do not prevent saving (a draft may be incomplete); they prevent submitting. `reading_notes` are
    what the reader of an uploaded workbook set aside (an extra column), kept on the version for the filer.
    """
    if definition_for(period.form, period.year).layout == Layout.DOCUMENT:
        raise ServiceError(
            f"{period.get_form_display()}是文件类报送，请上传 PDF 或 Word 文件。", code="not_applicable"
        )
    if source == VersionSource.BULK:
        require(access.can_review(actor, institution), "您无权为该机构导入数据。")
    else:
        require(access.can_prepare(actor, institution), "只有本机构的填报人或分管领导可以填报。")
    if not period.is_open() and source != VersionSource.BULK:
        if period.closes_on is None or clock.today() < period.opens_on:  # set up ahead, not yet open
            raise ServiceError(f"{period} 自 {period.opens_on:%Y-%m-%d} 起接受报送，届时再填报。")
        raise ServiceError(
            f"{period} 的报送窗口已关闭（{period.closes_on:%Y-%m-%d}），如需补报请联系人民银行经办。"
        )
    definition, values, findings = check(institution=institution, period=period, raw=raw, locate=locate)
    keep = {f.key for f in findings if f.severity == "warning"}
    item = NewVersion(
        institution=institution,
        period=period,
        edition=definition.edition,
        source=source,
        values=parsing.values_to_json(values),
        findings=[f.as_dict() for f in findings],
        explanations=_carried_explanations(institution, period, explanations, keep),
        reading_notes=list(reading_notes or []),
        upload=upload,
        expected_lock_version=expected_lock_version,
    )
    return _stored_version(write_versions([item], actor=actor)[0])


def _stored_version(written: "Written") -> FilingVersion:
    return FilingVersion.objects.select_related("filing__institution", "filing__period").get(
        pk=written.version_id
    )


def _carried_explanations(institution, period, posted: dict | None, keep: set[str]) -> dict[str, str]:
    """The explanations of the new version: those of the current version whose warning (rule and field) comes
    back — whatever the value now is, so a re-uploaded workbook keeps them — then what was posted: a text
    replaces, a blank removes. Only warnings of the new version keep an explanation."""
    current = (
        Filing.objects.filter(institution=institution, period=period)
        .values_list("current_version__explanations", flat=True)
        .first()
    )
    merged = {k: v for k, v in (current or {}).items() if k in keep}
    for key, text in (posted or {}).items():
        if text and text.strip():
            merged[key] = text.strip()
        else:
            merged.pop(key, None)
    return {k: v for k, v in merged.items() if k in keep}


# --- the one write path: versions, their workflow steps, filing updates and audit entries, set-based ---------


@dataclass(frozen=True)
class Step:
    """A workflow step written with a new version (the bulk import's approval, the demo's history):
    to which status, by whom, when (None: now), why, and its audit entry's action and summary — the summary
    a template over {filing}, {number} and {receipt}."""

    to: str
    actor: object
    action: str
    summary: str
    reason: str = ""
    at: datetime | None = None


@dataclass
class NewVersion:
    """One version to store: for which filing, its stored values, findings, explanations and origin; the
    uploaded file it came from; the revision its author saw; the steps that follow it; `replaces` the bank's
    own draft or returned sheet's status when an officer's import replaces it (with `reason`)."""

    institution: Institution
    period: Period
    edition: str
    source: str
    values: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)  # Finding.as_dict() each
    explanations: dict = field(default_factory=dict)
    reading_notes: list = field(default_factory=list)
    upload: "Upload | None" = None
    extension: str = ".xlsx"
    expected_lock_version: int | None = None
    steps: tuple[Step, ...] = ()
    replaces: str = ""
    reason: str = ""
    action: str = "filing.save"
    summary: str = (
        ""  # the save's audit summary, a template like SAVE_SUMMARY (braces in a file name doubled)
    )
    changes: dict | None = (
        None  # the save's audit changes; default the values' diff against the current version
    )
    created_at: datetime | None = None


@dataclass
class Written:
    """What became of a NewVersion: stored (its version's id and number, the filing's new status) or refused
    (`refused`: why — the filing is submitted or approved)."""

    item: NewVersion
    filing_id: int | None = None
    version_id: int | None = None
    number: int = 0
    status: str = ""
    refused: str = ""


def locked_message(filing_name: str, status: str) -> str:
    """Why a submitted or approved return takes no new version, and whom to ask."""
    if status == FilingStatus.APPROVED:
        return f"{filing_name} 已通过审核并锁定。如需更正，请联系人民银行经办退回后再报送。"
    return f"{filing_name} 已提交，正在审核，不能修改。如需更正，请联系人民银行经办退回。"


SAVE_SUMMARY = "{filing} 保存第 {number} 版（{source}，错误 {errors}，预警 {warnings}）"
_FILING_FIELDS = [
    "current_version",
    "status",
    "lock_version",
    "approved_at",
    "submitted_at",
    "first_submitted_at",
    "updated_at",
]


def write_versions(items: list[NewVersion], *, actor, strict: bool = True) -> list[Written]:
    """Store new versions with one write per table, in the caller's transaction (or one of its own): the
    filings created when missing and locked (select_for_update), each version numbered after its filing's
    last, its file saved, the filing pointed at it (a 已退回 filing back to 草稿, "退回后重新报送"), then each
    item's steps; transitions, the filings' new state and every audit entry (filing.save, filing.import_replace,
    each step's) written together — COPY and one UPDATE on PostgreSQL. A filing submitted or approved refuses
    its version: with `strict` (one filer's save) that raises ServiceError (code "locked"), and a revision
    other than the one its author saw raises Conflict; otherwise (an import) the item comes back refused.

    Every way a version is stored goes through here — the web form, the API, a workbook upload, a document,
    an officer's bulk import and the demo loader — so each writes the same rows."""
    if not items:
        return []
    with transaction.atomic():
        keys = {(i.institution.pk, i.period.pk) for i in items}
        filings = _lock_filings(keys, fresh=all(i.upload is None for i in items))
        numbers = {f.pk: f.last_number for f in filings.values()}
        ids = iter(bulkdb.next_ids(FilingVersion, len(items)))
        rows = _Rows(actor=actor)
        written = []
        for item in items:
            filing = filings[(item.institution.pk, item.period.pk)]
            refused = _refusal(item, filing, strict=strict)
            if refused:
                written.append(Written(item, filing_id=filing.pk, status=filing.status, refused=refused))
                continue
            number = numbers[filing.pk] = numbers.get(filing.pk, 0) + 1
            version_id = next(ids)
            rows.add(item, filing, number, version_id)
            written.append(Written(item, filing.pk, version_id, number, filing.status))
        rows.write(created={f.pk: f.created for f in filings.values() if f.created})
        events.announce(
            events.filings_changed, sender=Filing, filings=[w.filing_id for w in written if w.version_id]
        )
    return written


class _Raced(Exception):
    """A filing `write_versions` found missing was created by another transaction before this one inserted it."""


_CREATE_FIRST = contextvars.ContextVar("create_first", default=False)


def _again_if_raced(write):
    """`write_versions`, run again — its filings created first, then locked as they stand — when another
    transaction created one of the filings it was about to insert (its own transaction or savepoint undone)."""

    @functools.wraps(write)
    def wrapper(*args, **kwargs):
        try:
            return write(*args, **kwargs)
        except _Raced:
            token = _CREATE_FIRST.set(True)
            try:
                return write(*args, **kwargs)
            finally:
                _CREATE_FIRST.reset(token)

    return wrapper


write_versions = _again_if_raced(write_versions)


def _refusal(item: NewVersion, filing: "_Locked", *, strict: bool) -> str:
    """Why `filing` takes no new version now ("" when it does); raised instead with `strict`."""
    name = f"{item.institution} {item.period}"
    seen = item.expected_lock_version
    if strict and seen is not None and seen != filing.lock_version:
        raise Conflict(
            f"{name} 已被他人修改（您打开的是第 {seen} 次修订，当前为第 {filing.lock_version} 次）。"
            "为避免覆盖他人的修改，请刷新页面，核对后再保存。"
        )
    if filing.status not in Filing.LOCKED_STATUSES:
        return ""
    message = locked_message(name, filing.status)
    if strict:
        raise ServiceError(message, code="locked")
    return message


class _Rows:
    """The rows `write_versions` writes, collected item by item, then written with one statement per table."""

    def __init__(self, *, actor):
        self.actor, self.now = actor, timezone.now()
        self.versions, self.transitions, self.entries = [], [], []
        self.filings: dict[int, tuple] = {}

    def add(self, item: NewVersion, filing: "_Locked", number: int, version_id: int) -> None:
        """The version, its save entry (and import_replace entry), 已退回 → 草稿 when due, then its steps."""
        name = f"{item.institution} {item.period}"
        created = item.created_at or self.now
        version = {
            "id": version_id,
            "filing_id": filing.pk,
            "number": number,
            "edition": item.edition,
            "values": item.values,
            "findings": item.findings,
            "explanations": item.explanations,
            "reading_notes": list(item.reading_notes),
            "source": item.source,
            "created_by_id": getattr(self.actor, "pk", None),
            "created_at": created,
            **(_store_upload(item, number) if item.upload is not None else {}),
        }
        self.entries.append(self._save_entry(item, name, number, version_id, old_values=filing.values))
        if item.replaces:
            self.entries.append(
                self._entry(
                    self.actor,
                    "filing.import_replace",
                    Filing,
                    filing.pk,
                    item,
                    f"{name} 机构的{FilingStatus(item.replaces).label}被批量导入替换（第 {number} 版）",
                    {"replaced": item.replaces, "reason": item.reason},
                )
            )
        if filing.status == FilingStatus.RETURNED:
            self._transition(filing, version_id, FilingStatus.DRAFT, self.actor, "退回后重新报送", created)
        filing.status = FilingStatus.DRAFT
        filing.lock_version += 1
        filing.values = item.values
        for step in item.steps:
            self._step(item, filing, step, version, name, number)
        self.versions.append(version)
        self.filings[filing.pk] = (
            filing.pk,
            version_id,
            filing.status,
            filing.lock_version,
            filing.approved_at,
            filing.submitted_at,
            filing.first_submitted_at,
            self.now,
        )

    def _save_entry(self, item: NewVersion, name: str, number: int, version_id: int, *, old_values) -> dict:
        errors = sum(1 for f in item.findings if f.get("severity") == rules.ERROR)
        warnings = sum(1 for f in item.findings if f.get("severity") == rules.WARNING)
        summary = (item.summary or SAVE_SUMMARY).format(
            filing=name,
            number=number,
            source=self._source_label(item.source),
            errors=errors,
            warnings=warnings,
        )
        changes = item.changes if item.changes is not None else audit.diff(old_values, item.values)
        return self._entry(
            self.actor, item.action, FilingVersion, version_id, item, summary, changes, at=item.created_at
        )

    @functools.cached_property
    def _labels(self) -> dict[str, str]:
        return {}

    def _source_label(self, source: str) -> str:
        """VersionSource(source).label as text, translated once per write (a bulk import formats thousands of
        save summaries; a lazy translation looks up the active language each time)."""
        label = self._labels.get(source)
        if label is None:
            label = self._labels[source] = str(VersionSource(source).label)
        return label

    def _step(self, item: NewVersion, filing: "_Locked", step: Step, version: dict, name: str, number: int):
        at = step.at or self.now
        receipt = ""
        if step.to == FilingStatus.SUBMITTED:
            receipt = _receipt(item.period, item.institution, number)
            demo = item.source == VersionSource.DEMO
            version.update(
                submitted_by_id=step.actor.pk,
                submitted_at=at,
                attestation="演示数据" if demo else attestation_text(step.actor),
                receipt_no=receipt,
            )
            filing.submitted_at = at
        if step.to == FilingStatus.APPROVED:
            filing.approved_at = at
            filing.submitted_at = filing.submitted_at or at
        if step.to in (FilingStatus.SUBMITTED, FilingStatus.APPROVED):
            filing.first_submitted_at = filing.first_submitted_at or at
        summary = step.summary.format(filing=name, number=number, receipt=receipt)
        changes = {"status": [filing.status, step.to]}
        self.entries.append(
            self._entry(step.actor, step.action, Filing, filing.pk, item, summary, changes, at=step.at)
        )
        self._transition(filing, version["id"], step.to, step.actor, step.reason, at)
        filing.status = step.to
        filing.lock_version += 1

    def _transition(self, filing: "_Locked", version_id: int, to: str, actor, reason: str, at) -> None:
        self.transitions.append(
            {
                "filing_id": filing.pk,
                "version_id": version_id,
                "from_status": filing.status,
                "to_status": to,
                "actor_id": actor.pk,
                "reason": reason,
                "field_comments": {},
                "at": at,
            }
        )

    def _entry(self, actor, action, model, pk, item: NewVersion, summary, changes, *, at=None) -> dict:
        return audit.row(
            actor=actor,
            action=action,
            object_type=model._meta.label,
            object_id=pk,
            institution_id=item.institution.pk,
            summary=summary,
            changes=changes,
            at=at,
        )

    def write(self, *, created: dict[int, tuple[int, int]]) -> None:
        """One write per table. The filings `created` (id → institution id, period id: missing when locked) are
        inserted as they end up — no INSERT then UPDATE — first, so that a race (_Raced) is found before the
        rest is written; the others are updated."""
        if created:
            names = ["id", *(Filing._meta.get_field(name).attname for name in _FILING_FIELDS)]
            new = [
                {
                    "institution_id": created[pk][0],
                    "period_id": created[pk][1],
                    **dict(zip(names, row, strict=True)),
                }
                for pk, row in self.filings.items()
                if pk in created
            ]
            if bulkdb.insert(Filing, new, ignore_conflicts=True) != len(created):
                raise _Raced
        bulkdb.insert(FilingVersion, self.versions)
        bulkdb.insert(Transition, self.transitions)
        bulkdb.update(Filing, _FILING_FIELDS, [row for pk, row in self.filings.items() if pk not in created])
        audit.record_many(self.entries)


@dataclass
class _Locked:
    """A filing as `write_versions` holds it locked: plain values, updated as its items are written."""

    pk: int
    status: str
    lock_version: int
    approved_at: datetime | None
    submitted_at: datetime | None
    first_submitted_at: datetime | None
    values: dict  # its current version's values, {} without one
    last_number: int = 0  # the number of its latest version, 0 without one
    created: tuple[int, int] | None = None  # (institution id, period id) of a filing not yet inserted


def _lock_filings(keys: set[tuple[int, int]], *, fresh: bool) -> dict[tuple[int, int], _Locked]:
    """The filings of (institution id, period id) `keys`, locked in id order, each with its current values and
    its latest version's number — read in the one query that locks them (a lookup of the (filing, number)
    index per filing, whatever the planner knows of the table).

    A missing filing is created first and then locked; or, when `fresh` (no uploaded file to save) and the
    database says how many rows an INSERT … ON CONFLICT DO NOTHING wrote (PostgreSQL), it is given its id now
    and inserted with its new state by `_Rows.write` — which finds a filing created meanwhile by another
    transaction (_Raced: `write_versions` runs again, creating first)."""
    fresh = fresh and bulkdb.on_postgresql() and not _CREATE_FIRST.get()
    if not fresh:
        bulkdb.insert(
            Filing, [{"institution_id": i, "period_id": p} for i, p in sorted(keys)], ignore_conflicts=True
        )
    if bulkdb.on_postgresql():
        rows = _locked_rows(sorted(keys))
    else:
        last = FilingVersion.objects.filter(filing=OuterRef("pk")).order_by("-number").values("number")[:1]
        rows = (
            Filing.objects.select_for_update(of=("self",))
            .filter(institution_id__in={i for i, _p in keys}, period_id__in={p for _i, p in keys})
            .annotate(last_number=Subquery(last))
            .order_by("pk")
            .values_list(
                "pk",
                "institution_id",
                "period_id",
                "status",
                "lock_version",
                "approved_at",
                "submitted_at",
                "first_submitted_at",
                "current_version__values",
                "last_number",
            )
        )
    found = {
        (inst, period): _Locked(pk, status, lock_version, approved, submitted, first, values or {}, last or 0)
        for pk, inst, period, status, lock_version, approved, submitted, first, values, last in rows
        if (inst, period) in keys
    }
    missing = sorted(keys - found.keys())
    status = Filing._meta.get_field("status").get_default()
    for key, pk in zip(missing, bulkdb.next_ids(Filing, len(missing)), strict=True):
        found[key] = _Locked(pk, status, 0, None, None, None, {}, created=key)
    return found


def _locked_rows(keys: list[tuple[int, int]]) -> list[tuple]:
    """PostgreSQL: the filings of exactly `keys`, found through the (institution, period) unique index — one
    probe a key, however many dead rows the period's index holds — and locked in id order; the current
    version's values and the latest version's number with each (the columns of `_lock_filings`)."""
    filing, version = Filing._meta.db_table, FilingVersion._meta.db_table
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT f.id, f.institution_id, f.period_id, f.status, f.lock_version, f.approved_at, f.submitted_at, "
            f"f.first_submitted_at, v.values, (SELECT n.number FROM {version} n WHERE n.filing_id = f.id "
            f"ORDER BY n.number DESC LIMIT 1) "
            f"FROM unnest(%s::bigint[], %s::bigint[]) AS k(institution_id, period_id) "
            f"JOIN {filing} f ON f.institution_id = k.institution_id AND f.period_id = k.period_id "
            f"LEFT JOIN {version} v ON v.id = f.current_version_id ORDER BY f.id FOR UPDATE OF f",
            [[i for i, _p in keys], [p for _i, p in keys]],
        )
        rows = cursor.fetchall()
    return [(*row[:8], None if row[8] is None else json.loads(row[8]), row[9]) for row in rows]


def _store_upload(item: NewVersion, number: int) -> dict:
    """Save the item's file under uploads/ (named by institution, return, period and content) and say where."""
    upload, institution, period = item.upload, item.institution, item.period
    field_ = FilingVersion._meta.get_field("upload")
    name = field_.generate_filename(
        None, f"{institution.code}-{period.form}-{period.key}-{upload.sha256[:12]}{item.extension}"
    )
    return {
        "upload": field_.storage.save(name, ContentFile(upload.data)),
        "upload_name": upload.name[:255],
        "upload_sha256": upload.sha256,
    }


RECEIPT_PREFIX = {
    Form.MONITORING: "XW",
    Form.PLAN: "XWJH",
    Form.CONTACTS: "XWLX",
    Form.WORK_PLAN: "XWFA",
    Form.EXPERIENCE: "XWJY",
}


def _receipt(period: Period, institution: Institution, number: int) -> str:
    when = f"{period.year}{period.month:02d}" if period.month else period.key.replace("-", "")
    return f"{RECEIPT_PREFIX[period.form]}{when}-{institution.code}-{number:02d}"


def receipt_number(filing: Filing, version: FilingVersion) -> str:
    """XW202203-ICBC-02 (附件4, 2022年3月, version 2); XWJH2022-…, XWJY2022Q1-… for the other returns."""
    return _receipt(filing.period, filing.institution, version.number)


def attestation_text(actor) -> str:
    return f"本人 {actor}（{actor.institution} {actor.get_role_display()}）确认本表数据真实、准确、完整，并代表本机构提交。"


def _record_step(
    filing: Filing,
    *,
    actor,
    action: str,
    summary: str,
    changes: dict,
    fields=(),
    notify: str | None = None,
) -> None:
    """The end of every workflow step: bump the revision, save, audit, and queue the follow-up on commit."""
    filing.lock_version += 1
    filing.save(update_fields=["status", "lock_version", "updated_at", *fields])
    events.announce(events.filings_changed, sender=Filing, filings=[filing.pk])
    audit.record(
        actor=actor,
        action=action,
        obj=filing,
        institution=filing.institution,
        summary=summary,
        changes=changes,
    )
    if notify:
        # stored with the step: with the broker down the step still commits, the user still gets an answer,
        # and the follow-up is sent when the broker is back (outbox)
        outbox.enqueue(tasks.after_transition, filing.pk, notify)


@transaction.atomic
def submit(
    *, filing: Filing, actor, confirm: bool, expected_lock_version: int | None = None
) -> FilingVersion:
    """草稿 → 已提交, by the bank's signer, only with no errors and every warning explained."""
    filing = _lock(filing)
    require(access.can_submit(actor, filing.institution), "只有本机构的分管领导（签批人）可以提交报表。")
    _check_expected(filing, expected_lock_version)
    if filing.status != FilingStatus.DRAFT:
        raise Conflict(f"{filing} 当前状态为“{filing.get_status_display()}”，不能提交。")
    version = filing.current_version
    if version is None:
        raise ServiceError("尚未填报任何数据，请先填写并保存。")
    if (
        definition_for(filing.period.form, filing.period.year).layout == Layout.DOCUMENT
        and not version.upload
    ):
        raise ServiceError("尚未上传文件，请先上传 PDF 或 Word（.docx）文件。")
    found = [rules.Finding.from_dict(d) for d in version.findings]
    errors = [f for f in found if f.is_error]
    if errors:
        raise ServiceError(f"还有 {len(errors)} 个错误，请修改后再提交。", code="has_errors", details=errors)
    missing = rules.unexplained(found, version.explanations)
    if missing:
        raise ServiceError(
            f"还有 {len(missing)} 条预警没有说明，请逐条填写说明后再提交。",
            code="unexplained",
            details=missing,
        )
    if not confirm:
        raise ServiceError("请勾选确认声明后再提交。", code="attestation")
    now = timezone.now()
    version.submitted_by = actor
    version.submitted_at = now
    version.attestation = attestation_text(actor)
    version.receipt_no = receipt_number(filing, version)
    version.save(update_fields=["submitted_by", "submitted_at", "attestation", "receipt_no"])
    _transition(filing, to=FilingStatus.SUBMITTED, actor=actor)
    filing.submitted_at = now
    filing.first_submitted_at = filing.first_submitted_at or now
    _record_step(
        filing,
        actor=actor,
        action="filing.submit",
        summary=f"{filing} 提交第 {version.number} 版，回执 {version.receipt_no}",
        changes={"status": [FilingStatus.DRAFT, FilingStatus.SUBMITTED]},
        fields=["submitted_at", "first_submitted_at"],
        notify=FilingStatus.SUBMITTED,
    )
    return version


def _review(filing: Filing, actor, expected_lock_version, allowed_from: str) -> Filing:
    filing = _lock(filing)
    require(access.can_review(actor, filing.institution), "您无权审核该机构的报表。")
    _check_expected(filing, expected_lock_version)
    if filing.status != allowed_from:
        raise Conflict(
            f"{filing} 当前状态为“{filing.get_status_display()}”，可能已被他人处理，请刷新页面查看。",
            code="conflict",
        )
    return filing


@transaction.atomic
def approve(*, filing: Filing, actor, expected_lock_version: int | None = None) -> Filing:
    """已提交 → 已通过: the month's sheet is locked."""
    filing = _review(filing, actor, expected_lock_version, FilingStatus.SUBMITTED)
    _transition(filing, to=FilingStatus.APPROVED, actor=actor)
    filing.approved_at = timezone.now()
    if filing.period.form == Form.CONTACTS:
        definition = definition_for(filing.period.form, filing.period.year)
        sync_contacts(
            institution=filing.institution,
            values=parsing.values_from_json(filing.current_version.values, definition),
            actor=actor,
        )
    _record_step(
        filing,
        actor=actor,
        action="filing.approve",
        summary=f"{filing} 审核通过（第 {filing.current_version.number} 版）",
        changes={"status": [FilingStatus.SUBMITTED, FilingStatus.APPROVED]},
        fields=["approved_at"],
        notify=FilingStatus.APPROVED,
    )
    return filing


@transaction.atomic
def return_filing(
    *,
    filing: Filing,
    actor,
    reason: str,
    field_comments: dict[str, str] | None = None,
    expected_lock_version=None,
) -> Filing:
    """已提交 → 已退回, with the officer's reason and optional per-field comments."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("退回时必须填写退回原因，告诉机构需要修改什么。", code="reason_required")
    filing = _review(filing, actor, expected_lock_version, FilingStatus.SUBMITTED)
    definition = definition_for(filing.period.form, filing.period.year)
    comments = {
        k: v.strip() for k, v in (field_comments or {}).items() if k in definition.codes and v and v.strip()
    }
    _transition(filing, to=FilingStatus.RETURNED, actor=actor, reason=reason, field_comments=comments)
    _record_step(
        filing,
        actor=actor,
        action="filing.return",
        summary=f"{filing} 退回：{reason}",
        changes={
            "status": [FilingStatus.SUBMITTED, FilingStatus.RETURNED],
            "reason": reason,
            "comments": comments,
        },
        notify=FilingStatus.RETURNED,
    )
    return filing


@transaction.atomic
def reopen(*, filing: Filing, actor, reason: str, expected_lock_version=None) -> Filing:
    """已通过 → 已退回: an officer reopens an approved sheet, only with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("重新打开已通过的报表必须填写原因。", code="reason_required")
    filing = _review(filing, actor, expected_lock_version, FilingStatus.APPROVED)
    _transition(filing, to=FilingStatus.RETURNED, actor=actor, reason=reason)
    filing.approved_at = None
    _record_step(
        filing,
        actor=actor,
        action="filing.reopen",
        summary=f"{filing} 重新打开：{reason}",
        changes={"status": [FilingStatus.APPROVED, FilingStatus.RETURNED], "reason": reason},
        fields=["approved_at"],
        notify=FilingStatus.RETURNED,
    )
    return filing


def bulk_approve(*, filings, actor) -> dict[str, int]:
    """Approve every clean submission (no findings at all) among `filings`; others are left for review."""
    require(access.is_pboc(actor), "只有人民银行经办可以批量审核。")
    approved = skipped = 0
    for filing in filings:
        version = filing.current_version
        if filing.status != FilingStatus.SUBMITTED or version is None or version.findings:
            skipped += 1
            continue
        try:
            approve(filing=filing, actor=actor)
            approved += 1
        except (Conflict, ServiceError):
            skipped += 1
    return {"approved": approved, "skipped": skipped}


def record_rejected_upload(*, actor, institution, period, filename: str, sha256: str, message: str):
    """A refused file leaves only this trace: who tried what, and why it was refused."""
    audit.record(
        actor=actor,
        action="filing.upload_rejected",
        institution=institution,
        summary=f"上传被拒绝：{filename[:80]}（{period}）：{message}"[:300],
        changes={"filename": filename[:255], "sha256": sha256, "message": message},
    )


def start_import(*, actor, data: bytes, filename: str, size: int | None = None, sha256: str | None = None):
    """An officer's bulk workbook: checked as a file and as our bulk template now (so a wrong file never
    becomes a job), processed row by row by a Celery task."""

    require(access.is_pboc(actor), "只有人民银行经办或管理员可以批量导入。")
    upload = Upload(data, filename)
    try:
        inspect_workbook(data, filename, settings.UPLOAD_MAX_BYTES, size=size)
        excel.iter_bulk_rows(data, definition_for(Form.MONITORING, timezone.localdate().year))
    except UploadRejected as exc:
        audit.record(
            actor=actor,
            action="import.rejected",
            summary=f"批量导入文件被拒绝：{filename[:80]}：{exc.message}"[:300],
            changes={"filename": filename[:255], "sha256": sha256 or upload.sha256, "message": exc.message},
        )
        raise ServiceError(exc.message, code=exc.code) from None
    with transaction.atomic():
        job = ImportJob(created_by=actor, upload_name=filename[:255], upload_sha256=upload.sha256)
        job.upload.save(f"bulk-{upload.sha256[:16]}.xlsx", ContentFile(data), save=False)
        job.save()
        audit.record(actor=actor, action="import.start", obj=job, summary=f"批量导入 {filename[:80]}")
        outbox.enqueue(tasks.run_import, job.pk)
    return job


def _is(institution: Institution, name: str) -> bool:
    return names.same_institution(name, institution.name, institution.short_name)


def _mismatch(shown: str, institution: Institution):
    return UploadRejected(
        "institution_mismatch",
        f"文件中的机构为“{shown[:60] or '（空）'}”，与本次报送的机构“{institution.name}”不符："
        f"请下载{institution.short_name}的模板填写后上传。",
    )


def _own_row(sheet, institution: Institution):
    """The row of a 监测表 upload that is this institution's; another institution's row in a bank's own upload
    is refused by name (an officer's 汇总 of many banks goes through the bulk import)."""

    rows = sheet.rows
    ours = [i for i, row in enumerate(rows) if _is(institution, row.name)]
    unnamed = [i for i, row in enumerate(rows) if names.is_placeholder(row.name)]
    others = [row for i, row in enumerate(rows) if i not in ours and i not in unnamed]
    if others and (ours or len(others) > 1 or len(rows) > 1):
        listed = "、".join(f"第 {row.row} 行“{row.name[:30]}”" for row in others[:5])
        raise UploadRejected(
            "other_institutions",
            f"文件中除本机构外还有其他机构的数据：{listed}。一次上传只能报送{institution.short_name}一行："
            "请删除其他机构的行后上传（汇总多家机构请由人民银行经办使用批量导入）。",
        )
    if others:
        raise _mismatch(others[0].name, institution)
    if len(ours) > 1:
        raise UploadRejected(
            "duplicate_rows",
            f"文件中有 {len(ours)} 行都是{institution.short_name}（"
            + "、".join(f"第 {rows[i].row} 行" for i in ours)
            + "）：请只保留本月的一行后上传。",
        )
    if ours:
        return sheet.select(ours[0])
    filled = [i for i in unnamed if any(v not in (None, "") for v in rows[i].raw.values())]
    if len(filled) > 1:
        raise UploadRejected(
            "duplicate_rows",
            f"文件中有 {len(filled)} 行数据都没有写明机构：请只保留{institution.short_name}的一行，并填写机构名称后上传。",
        )
    return sheet.select(filled[0] if filled else unnamed[0])


def urge(*, period: Period, actor) -> list[Institution]:
    """An officer's 催报 for a period: every institution of the officer's jurisdiction whose return is not
    submitted or approved is e-mailed (with the link to its sheet; the officer gets a copy) — sent after the
    step commits, through the outbox, and recorded as Reminder rows by the task that sends them."""

    require(access.is_pboc(actor), "只有人民银行经办或管理员可以催报。")
    done = Filing.objects.filter(
        period=period, status__in=[FilingStatus.SUBMITTED, FilingStatus.APPROVED]
    ).values_list("institution_id", flat=True)
    pending = list(
        access.visible_institutions(actor)
        .filter(active_from__lte=period.ends_on)
        .exclude(pk__in=done)
        .order_by("order")
    )
    if not pending:
        raise ServiceError(
            f"{period} {period.get_form_display()}：辖区内机构均已提交，无需催报。", code="none_pending"
        )
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="period.urge",
            summary=f"催报 {period} {period.get_form_display()}：{len(pending)} 家机构"[:300],
            changes={"period": period.pk, "institutions": [i.code for i in pending]},
        )
        outbox.enqueue(tasks.send_urge, period.pk, actor.pk, [i.pk for i in pending])
    return pending


def confirm_import(*, job, actor, replace: list[str], reason: str, approve: bool):
    """The officer's decision on a previewed bulk import: which banks' own drafts or returned sheets to
    replace (a reason is required for any), and whether to approve the stored rows on the banks' behalf.
    Refused when the filings concerned changed since the preview was made: the officer previews again."""

    require(access.is_pboc(actor) and job.created_by_id == actor.pk, "只有发起导入的人民银行经办可以确认。")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.READY:
            raise Conflict(f"该导入任务当前为“{job.get_status_display()}”，不能确认。", code="not_ready")
        preview = job.result.get("preview") or []
        replaceable = {
            line["key"]
            for line in preview
            if line["category"] in (bulk.REPLACES_DRAFT, bulk.REPLACES_RETURNED)
        }
        chosen = sorted(set(replace) & replaceable)
        reason = (reason or "").strip()
        if chosen and not reason:
            raise ServiceError(
                "替换机构自己的草稿或退回稿时须填写原因（机构会收到通知）。", code="reason_required"
            )
        changed = _changed_since_preview(job.result.get("snapshot") or {})
        if changed:
            raise Conflict(
                "生成预览后，以下报表已有变化："
                + "、".join(changed[:5])
                + (f" 等 {len(changed)} 张" if len(changed) > 5 else "")
                + "。请重新生成预览后再确认。",
                code="stale_preview",
            )
        job.result = {
            **job.result,
            "choices": {"replace": chosen, "reason": reason, "approve": bool(approve)},
        }
        job.requeue("result")
        audit.record(
            actor=actor,
            action="import.confirm",
            obj=job,
            summary=f"确认批量导入 {job.upload_name[:80]}：替换 {len(chosen)} 张机构报表，"
            + ("导入后审核通过" if approve else "导入为草稿，由机构提交"),
            changes={"replace": chosen, "reason": reason, "approve": bool(approve)},
        )
        outbox.enqueue(tasks.run_import, job.pk)
    return job


def preview_again(*, job, actor):
    """Make the preview anew (the filings changed since it was made)."""

    require(
        access.is_pboc(actor) and job.created_by_id == actor.pk, "只有发起导入的人民银行经办可以重新预览。"
    )
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.READY:
            raise Conflict(f"该导入任务当前为“{job.get_status_display()}”，不能重新预览。", code="not_ready")
        job.result = {}
        job.requeue("result")
        audit.record(
            actor=actor, action="import.preview", obj=job, summary=f"重新预览 {job.upload_name[:80]}"
        )
        outbox.enqueue(tasks.run_import, job.pk)
    return job


def _changed_since_preview(snapshot: dict) -> list[str]:
    """The filings of a preview's snapshot ({"inst:period": [status, lock_version] or None}) that are not as
    they were: a bank saved, submitted or was approved meanwhile."""
    if not snapshot:
        return []
    pairs = [tuple(int(x) for x in key.split(":")) for key in snapshot]
    now = {
        f"{f.institution_id}:{f.period_id}": (f.status, f.lock_version, f)
        for f in Filing.objects.filter(
            institution_id__in={i for i, _p in pairs}, period_id__in={p for _i, p in pairs}
        ).select_related("institution", "period")
    }
    changed = []
    for key, then in snapshot.items():
        current = now.get(key)
        if current is None and then is None:
            continue
        if current is None or then is None or [current[0], current[1]] != list(then):
            changed.append(str(current[2]) if current else key)
    return changed


def _check_workbook_matches(sheet, institution: Institution, period: Period):
    """The file must be this institution's return for this period: the row (a 监测表) and the title's
    institution and period where they are stated. A wrong file is refused, not stored; returns the sheet
    with the institution's row selected."""

    if hasattr(sheet, "rows"):
        sheet = _own_row(sheet, institution)
        named = sheet.title_institution
        if named and not _is(institution, named):
            raise _mismatch(named, institution)
    elif sheet.institution_name and not names.is_placeholder(sheet.institution_name):
        if not _is(institution, sheet.institution_name):
            raise _mismatch(sheet.institution_name, institution)
    month = getattr(sheet, "month", None)
    stated_year = sheet.year if sheet.year is not None else period.year
    stated_month = month if month is not None else period.month
    if (stated_year, stated_month) != (period.year, period.month):
        shown = f"{stated_year}年{stated_month}月" if stated_month else f"{stated_year}年"
        raise UploadRejected(
            "period_mismatch",
            f"文件中的报送期为 {shown}，当前为 {period.label}：请下载 {period.label} 的模板填写后上传。",
        )
    return sheet


@dataclass(frozen=True)
class Received:
    """An uploaded file as the services take it: at most max_bytes + 1 bytes kept (enough to refuse it as
    too large), with the SHA-256 and size of all of it."""

    data: bytes
    sha256: str
    size: int


def read_limited(uploaded_file, max_bytes: int) -> Received:
    digest, kept, size = hashlib.sha256(), [], 0
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
        if size <= max_bytes:
            kept.append(chunk[: max_bytes + 1 - size])
        size += len(chunk)
    return Received(b"".join(kept), digest.hexdigest(), size)


def save_workbook(
    *,
    institution: Institution,
    period: Period,
    actor,
    data: bytes,
    filename: str,
    sha256: str | None = None,
    size: int | None = None,
    expected_lock_version: int | None = None,
) -> FilingVersion:
    """A bank's filled 附件4 template, from the browser or the API: checked as a file, matched to the
    institution and period, then stored like any other version with findings located by cell.
    A refused file leaves only the audit entry of the attempt."""

    require(access.can_prepare(actor, institution), "只有本机构的填报人或分管领导可以上传。")
    try:
        inspect_workbook(data, filename, settings.UPLOAD_MAX_BYTES, size=size)
        definition = definition_for(period.form, period.year)
        if period.form == Form.PLAN:
            sheet = excel.read_plan_workbook(data, definition)
        elif period.form == Form.MONITORING:
            sheet = excel.read_monitoring_workbook(data, definition)
        else:
            raise UploadRejected(
                "U209", f"{period.get_form_display()}没有 Excel 模板，请在网页上填写或上传文件。"
            )
        sheet = _check_workbook_matches(sheet, institution, period)
    except UploadRejected as exc:
        record_rejected_upload(
            actor=actor,
            institution=institution,
            period=period,
            filename=filename,
            sha256=sha256 or Upload(data, filename).sha256,
            message=exc.message,
        )
        raise ServiceError(exc.message, code=exc.code) from None
    return save_version(
        institution=institution,
        period=period,
        actor=actor,
        raw=sheet.raw,
        source=VersionSource.EXCEL,
        upload=Upload(data, filename),
        expected_lock_version=expected_lock_version,
        locate=lambda code: f"{sheet.sheet}!{sheet.cells[code]}",
        reading_notes=list(sheet.notes),
    )


DOCUMENT_TYPES = {
    "pdf": ("application/pdf", ".pdf"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
}


def save_document(
    *,
    institution: Institution,
    period: Period,
    actor,
    data: bytes,
    filename: str,
    sha256: str | None = None,
    size: int | None = None,
    expected_lock_version: int | None = None,
    source: str = VersionSource.WEB,
) -> FilingVersion:
    """A document return (工作方案, 经验做法): a PDF or DOCX, its type checked by content, stored as a new
    version with its SHA-256. A refused file leaves only the audit entry of the attempt."""

    require(access.can_prepare(actor, institution), "只有本机构的填报人或分管领导可以上传。")
    definition = definition_for(period.form, period.year)
    if definition.layout != Layout.DOCUMENT:
        raise ServiceError(f"{period.get_form_display()}不是文件类报送，请填写表格。", code="not_a_document")
    upload = Upload(data, filename)
    try:
        kind = inspect_document(data, filename, settings.UPLOAD_MAX_BYTES, size=size)
    except UploadRejected as exc:
        record_rejected_upload(
            actor=actor,
            institution=institution,
            period=period,
            filename=filename,
            sha256=sha256 or upload.sha256,
            message=exc.message,
        )
        raise ServiceError(exc.message, code=exc.code) from None
    if not period.is_open():
        raise ServiceError(f"{period} 的报送窗口已关闭，如需补报请联系人民银行经办。")
    item = NewVersion(
        institution=institution,
        period=period,
        edition=definition.edition,
        source=source,
        upload=upload,
        extension=DOCUMENT_TYPES[kind][1],
        expected_lock_version=expected_lock_version,
        action="filing.document",
        summary="{filing} 上传第 {number} 版文件 " + filename[:60].replace("{", "{{").replace("}", "}}"),
        changes={"sha256": upload.sha256, "type": kind},
    )
    return _stored_version(write_versions([item], actor=actor)[0])
