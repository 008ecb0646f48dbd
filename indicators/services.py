"""Every write of the indicators app: refresh the stored values, keep targets and the LPR, log supervision.

Keyword-only, one transaction each, with the audit entry in that transaction and Celery work queued on
commit (STYLE.md). Views, the Django admin, the management command and the Celery task call these.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit import services as audit
from institutions import access
from institutions.models import Institution
from outbox import services as outbox
from portal.errors import ServiceError, require
from reporting.models import Filing, FilingStatus, Form, Period

from . import indicators as ind
from . import presets, selectors, storage
from .models import (
    PROVINCE_KEY,
    Bulletin,
    BulletinNotice,
    IndicatorMonth,
    LoanPrimeRate,
    RefreshRun,
    ScopeKind,
    SupervisionAction,
    SupervisionKind,
    Target,
    TargetBasis,
    TargetScope,
)

log = logging.getLogger(__name__)

REFRESH_LOCK = 4_200_001  # PostgreSQL advisory lock id: one refresh writes at a time
STALE_RETRY = timedelta(minutes=2)


# --- refresh -------------------------------------------------------------------------------------------------


def request_refresh(
    *,
    trigger: str,
    years: tuple[int, int] | None = None,
    actor=None,
    filing: Filing | None = None,
    changes=None,
) -> RefreshRun:
    """Queue a recomputation of the stored indicators for years (first, last), or for every year — or, with
    `changes` (the approved or reopened sheets: (institution_id, form, year, month), month 0 for a yearly
    form), of only the rows those sheets reach (`affected`)."""
    from . import tasks

    if trigger == RefreshRun.Trigger.MANUAL:
        require(access.is_pboc_admin(actor), "只有人民银行管理员可以手动刷新指标。")
    changes = sorted({(int(i), str(f), int(y), int(m or 0)) for i, f, y, m in changes or ()})
    if changes and years is None:
        years = (min(c[2] for c in changes), max(c[2] for c in changes) + 2)
    with transaction.atomic():
        run = RefreshRun.objects.create(
            trigger=trigger,
            first_year=years[0] if years else None,
            last_year=years[1] if years else None,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            filing=filing,
            changes=[list(c) for c in changes],
        )
        if trigger == RefreshRun.Trigger.MANUAL:
            audit.record(
                actor=actor,
                action="indicators.refresh",
                obj=run,
                summary=f"手动刷新监测指标（#{run.pk}）",
            )
        outbox.enqueue(tasks.refresh, run.pk)
    return run


def refresh_after_transition(*, filing: Filing, status: str) -> RefreshRun | None:
    """Called by reporting.tasks.after_transition: an approval (or an approved sheet reopened) changes what
    the indicators are computed from. A 附件4 month feeds its own year and, as 年初 / 上年同期 / 上年年初,
    the two years after it; a 附件3 plan feeds its own year."""
    reopened = (
        status == FilingStatus.RETURNED
        and filing.transitions.order_by("-at", "-id").values_list("from_status", flat=True).first()
        == FilingStatus.APPROVED
    )
    if status != FilingStatus.APPROVED and not reopened:
        return None
    period = filing.period
    year = period.year
    last = year if period.form == Form.PLAN else year + 2
    known = selectors.years_with_periods()
    if known:
        last = min(last, max(known[-1], year))
    month = period.month if period.form == Form.MONITORING else 0
    return request_refresh(
        trigger=RefreshRun.Trigger.APPROVAL,
        years=(year, last),
        filing=filing,
        changes=[(filing.institution_id, period.form, year, month)],
    )


def ensure_fresh() -> RefreshRun | None:
    """The beat's freshness check (indicators.tasks.check_fresh): when approvals changed since the last
    refresh (e.g. an approval whose refresh failed) and nothing is queued, queue a refresh of every year — at
    most every STALE_RETRY. Page views only read; they never queue anything."""
    as_of = selectors.as_of(None)
    # values dropped (a change of their storage) while approved sheets exist are stale too
    missing = not IndicatorMonth.objects.exists() and selectors.fingerprint()[0] > 0
    if not (as_of.stale or missing) or as_of.pending is not None:
        return None
    recent = RefreshRun.objects.filter(created_at__gte=timezone.now() - STALE_RETRY).exists()
    if recent:
        return None
    return request_refresh(trigger=RefreshRun.Trigger.STALE)


def _lock_refresh() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REFRESH_LOCK])


def affected_months(t0: int, months: list[int]) -> list[int]:
    """The months among `months` (t = year × 12 + month − 1) whose indicators read the sheet of month t0: the
    month itself and every month one of the engine's offsets (indicators.OFFSETS: 年初, 上年同期, 上年年初,
    上季末) takes back to t0 — a December reaches all of the next two years, a quarter's end the next quarter."""
    t = np.asarray(months, dtype=np.int64)
    hit = np.zeros(len(t), dtype=bool)
    for offset in ind.OFFSETS.values():
        hit |= offset.shift(t) == t0
    return t[hit].tolist()


def affected(changes, *, months: list[tuple[int, int]]) -> dict[int, set[int]]:
    """{institution_id: months t to recompute} for the changed sheets: a 附件4 month by `affected_months`,
    a 附件3 plan every month of its year."""
    known = [ind.month_index(y, m) for y, m in months]
    out: dict[int, set[int]] = {}
    for inst, form, year, month in changes:
        if form == Form.PLAN:
            reached = [t for t in known if t // 12 == year]
        elif form == Form.MONITORING and month:
            reached = affected_months(ind.month_index(year, month), known)
        else:
            reached = []
        out.setdefault(int(inst), set()).update(reached)
    return out


def _store_all(years: list[int]) -> int:
    """Recompute `years` and make their stored rows the result's (`storage.replace_all`: only the rows that
    differ are written); rows of other years stay as they are."""
    if not years:
        IndicatorMonth.objects.filter(year__in=years).delete()
        return 0
    block = storage.from_result(ind.compute(selectors.load_inputs(years=years)))
    count = storage.replace_all(block, years=years)
    storage.forget_unused_layouts()
    return count


def _store_changes(changes) -> int:
    """Recompute the rows the changed sheets reach — each institution's own and its group's, kind's and the
    province's, for the months `affected` — from every institution's sheets of those months (an aggregate
    is a sum over all its members), and replace just those rows."""
    periods = list(
        Period.objects.filter(form=Form.MONITORING).order_by("year", "month").values_list("year", "month")
    )
    reached = affected(changes, months=periods)
    months = sorted({t for ts in reached.values() for t in ts})
    if not months:
        return 0
    members = {
        pk: (group, kind)
        for pk, group, kind in Institution.objects.filter(pk__in=list(reached)).values_list(
            "pk", "evaluation_group", "kind"
        )
    }
    wanted: set[tuple[str, str, int, int]] = set()
    for inst, ts in reached.items():
        if inst not in members:
            continue
        group, kind = members[inst]
        for t in ts:
            y, m = ind.period_of(t)
            wanted |= {
                (ScopeKind.INSTITUTION.value, str(inst), y, m),
                (ScopeKind.GROUP.value, str(group), y, m),
                (ScopeKind.KIND.value, str(kind), y, m),
                (ScopeKind.PROVINCE.value, PROVINCE_KEY, y, m),
            }
    # the sheets those months read: each month at each of the engine's offsets
    t = np.asarray(months, dtype=np.int64)
    read = sorted({int(x) for offset in ind.OFFSETS.values() for x in offset.shift(t)})
    inputs = selectors.load_inputs(
        years=sorted({ind.period_of(x)[0] for x in months}),
        months=[ind.period_of(x) for x in months],
        sheet_months=[ind.period_of(x) for x in read],
    )
    # reasons only for the changed institutions' rows: the others are read for the aggregates, not stored
    result = ind.compute(inputs, explained={inst for inst in reached if inst in members})
    block = storage.from_result(result, wanted=wanted.__contains__)
    by_scope: dict[tuple[str, int, int], list[str]] = {}
    for kind, key, y, m in wanted:
        by_scope.setdefault((kind, y, m), []).append(key)
    gone = Q(pk__in=[])
    for (kind, y, m), keys in by_scope.items():
        gone |= Q(scope_kind=kind, year=y, month=m, scope_key__in=keys)
    IndicatorMonth.objects.filter(gone).delete()
    return storage.write(block)


def refresh(*, run: RefreshRun) -> RefreshRun:
    """Recompute the run's years from approved sheets and replace their stored values — or, for a run with
    `changes`, only the rows those sheets reach (`_store_changes`) — in one transaction, one refresh at a
    time. A run superseded by a full one that started after it was requested is marked 已合并 without
    recomputing."""
    with transaction.atomic():
        _lock_refresh()
        run = RefreshRun.objects.select_for_update().get(pk=run.pk)
        if run.status not in {RefreshRun.Status.QUEUED, RefreshRun.Status.RUNNING}:
            return run
        known = selectors.years_with_periods()
        first = run.first_year if run.first_year is not None else (known[0] if known else None)
        last = run.last_year if run.last_year is not None else (known[-1] if known else None)
        superseded = (
            RefreshRun.objects.filter(status=RefreshRun.Status.DONE, started_at__gt=run.created_at)
            .filter(changes=[])
            .exclude(pk=run.pk)
            .filter(first_year__lte=first if first is not None else 0)
            .filter(last_year__gte=last if last is not None else 0)
            .order_by("started_at")
            .first()
        )
        if superseded is not None and first is not None:
            run.status = RefreshRun.Status.SKIPPED
            run.finished_at = timezone.now()
            run.error = f"已由 #{superseded.pk} 一并刷新"
            run.save(update_fields=["status", "finished_at", "error"])
            return run
        started = time.perf_counter()
        run.started_at = timezone.now()
        run.approved_count, run.latest_approval_at = selectors.fingerprint()
        if run.changes:
            count = _store_changes(run.changes)
        else:
            count = _store_all([y for y in known if first is not None and first <= y <= last])
        run.first_year, run.last_year = first, last
        run.status = RefreshRun.Status.DONE
        run.row_count = count
        run.finished_at = timezone.now()
        run.duration_ms = int((time.perf_counter() - started) * 1000)
        run.save()
    return run


def refresh_now(
    *, years: tuple[int, int] | None = None, trigger: str = RefreshRun.Trigger.COMMAND
) -> RefreshRun:
    """Create a run and perform it in this process (management command, tests, demo loading)."""
    run = RefreshRun.objects.create(
        trigger=trigger,
        first_year=years[0] if years else None,
        last_year=years[1] if years else None,
    )
    return refresh(run=run)


def fail(*, run_id: int, error: str) -> None:
    RefreshRun.objects.filter(pk=run_id).update(
        status=RefreshRun.Status.FAILED, finished_at=timezone.now(), error=error[:2000]
    )


# --- targets and the LPR (Django admin calls these) ----------------------------------------------------------


def _target_changes(target: Target) -> dict:
    return {
        "year": target.year,
        "scope": target.scope,
        "indicator": target.indicator,
        "comparator": target.comparator,
        "basis": target.basis,
        "value": None if target.value is None else str(target.value),
        "applies_to": target.applies_to,
        "institution": target.institution_id,
        "label": target.label,
    }


def validate_target(target: Target) -> None:
    if target.indicator not in ind.REGISTRY:
        raise ServiceError(f"指标代码“{target.indicator}”不存在，请从列表中选择。")
    if target.basis == TargetBasis.FIXED and target.value is None:
        raise ServiceError("比较基准为“固定值”时必须填写目标值。")
    if target.scope == TargetScope.PROVINCE and target.basis == TargetBasis.PLAN:
        raise ServiceError("全省目标不能以机构的附件3计划为基准，请选择固定值、上年同期或年初。")
    if ind.get(target.indicator).test:
        raise ServiceError("“达标”类检验指标不能设置目标。")


@transaction.atomic
def save_target(*, actor, target: Target) -> Target:
    """A PBoC admin adds or changes a year's target; audited with old → new."""
    require(access.is_pboc_admin(actor), "只有人民银行管理员可以维护年度目标。")
    validate_target(target)
    old = _target_changes(Target.objects.get(pk=target.pk)) if target.pk else {}
    target.save()
    audit.record(
        actor=actor,
        action="indicators.target.save",
        obj=target,
        summary=f"{'修改' if old else '新增'}年度目标：{target.year} {target.label}",
        changes=audit.diff(old, _target_changes(target)),
    )
    return target


@transaction.atomic
def delete_target(*, actor, target: Target) -> None:
    require(access.is_pboc_admin(actor), "只有人民银行管理员可以维护年度目标。")
    audit.record(
        actor=actor,
        action="indicators.target.delete",
        obj=target,
        summary=f"删除年度目标：{target.year} {target.label}",
        changes=_target_changes(target),
    )
    target.delete()


@transaction.atomic
def save_lpr(*, actor, lpr: LoanPrimeRate) -> LoanPrimeRate:
    """A PBoC admin records a month's 1-year LPR; the indicators of that year are refreshed after commit."""
    require(access.is_pboc_admin(actor), "只有人民银行管理员可以维护一年期LPR。")
    old = LoanPrimeRate.objects.filter(pk=lpr.pk).values_list("rate", flat=True).first() if lpr.pk else None
    lpr.save()
    audit.record(
        actor=actor,
        action="indicators.lpr.save",
        obj=lpr,
        summary=f"一年期LPR {lpr.year}年{lpr.month}月：{lpr.rate}%",
        changes={"rate": [None if old is None else str(old), str(lpr.rate)]},
    )
    request_refresh(trigger=RefreshRun.Trigger.MANUAL, years=(lpr.year, lpr.year), actor=actor)
    return lpr


@transaction.atomic
def load_reference_data() -> dict[str, int]:
    """The LPR fixture and the 2022 targets of 004, created when missing (an admin's later edits are kept)."""
    lpr = 0
    for year, month, rate in presets.lpr_rows():
        _obj, created = LoanPrimeRate.objects.get_or_create(year=year, month=month, defaults={"rate": rate})
        lpr += created
    targets = 0
    for row in presets.targets_2022():
        keys = {k: row[k] for k in ("year", "scope", "indicator", "basis", "applies_to")}
        _obj, created = Target.objects.get_or_create(**keys, institution=None, defaults=row)
        targets += created
    return {"lpr": lpr, "targets": targets}


def load_demo_indicators() -> str:
    """loaddemo: compute the stored indicators once (skipped when a completed refresh already exists)."""
    if RefreshRun.objects.filter(status=RefreshRun.Status.DONE).exists() and IndicatorMonth.objects.exists():
        return "监测指标已计算，跳过。"
    run = refresh_now()
    return (
        f"监测指标：{run.first_year}–{run.last_year} 年，{run.row_count} 个指标值（{run.duration_ms} 毫秒）"
    )


# --- supervision log ------------------------------------------------------------------------------------------


def _clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


@transaction.atomic
def record_supervision(
    *,
    actor,
    institution: Institution,
    kind: str,
    taken_on: date,
    reason: str,
    follow_up: str = "",
) -> SupervisionAction:
    """An officer records a 约谈 / 现场督导 / 通报 of an institution in their jurisdiction (004 §(十九))."""
    require(access.can_review(actor, institution), "只有辖区内的人民银行经办或管理员可以记录督导。")
    if kind not in SupervisionKind.values:
        raise ServiceError("请选择督导方式：约谈、现场督导或通报。")
    reason = _clean(reason, 2000)
    if not reason:
        raise ServiceError("请填写督导原因，例如哪些指标未达标。")
    if taken_on > timezone.localdate():
        raise ServiceError(f"督导日期 {taken_on:%Y-%m-%d} 晚于今天，请记录已发生的督导。")
    action = SupervisionAction.objects.create(
        institution=institution,
        kind=kind,
        taken_on=taken_on,
        reason=reason,
        follow_up=_clean(follow_up, 2000),
        recorded_by=actor,
    )
    audit.record(
        actor=actor,
        action="supervision.record",
        obj=action,
        institution=institution,
        summary=f"{institution} {action.get_kind_display()}（{taken_on:%Y-%m-%d}）：{reason[:80]}",
        changes={"kind": kind, "taken_on": str(taken_on), "reason": reason, "follow_up": action.follow_up},
    )
    return action


@transaction.atomic
def update_follow_up(*, actor, action: SupervisionAction, follow_up: str):
    """Add or change the follow-up of a supervision action (整改跟进)."""
    action = SupervisionAction.objects.select_for_update().select_related("institution").get(pk=action.pk)
    require(
        access.can_review(actor, action.institution), "只有辖区内的人民银行经办或管理员可以更新督导记录。"
    )
    old = action.follow_up
    action.follow_up = _clean(follow_up, 2000)
    action.save(update_fields=["follow_up", "updated_at"])
    audit.record(
        actor=actor,
        action="supervision.follow_up",
        obj=action,
        institution=action.institution,
        summary=f"{action.institution} {action.get_kind_display()} 后续跟进更新",
        changes={"follow_up": [old, action.follow_up]},
    )
    return action


# --- the month's bulletin (监测通报) -----------------------------------------------------------------------------


def _may_see_bulletin(actor, bulletin: Bulletin) -> bool:
    return selectors.bulletins_for(actor).filter(pk=bulletin.pk).exists()


def request_bulletin(*, actor, year: int, month: int) -> Bulletin:
    """An officer asks for the month's bulletin of their jurisdiction: a draft row, generated by a Celery job
    (queued → running → draft, with progress) once this commits (004 §(十九)(二十))."""
    from . import tasks

    require(access.is_pboc(actor), "只有人民银行经办或管理员可以生成监测通报。")
    if not getattr(actor, "office_id", None):
        raise ServiceError("监测通报按人民银行机构的辖区生成：请使用所属人民银行机构的账号。")
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ServiceError("请选择通报的月份。")
    with transaction.atomic():
        bulletin = Bulletin.objects.create(
            office_id=actor.office_id, year=year, month=month, created_by=actor
        )
        audit.record(
            actor=actor,
            action="bulletin.generate",
            obj=bulletin,
            summary=f"生成{year}年{month}月监测通报草稿（#{bulletin.pk}）",
            changes={"year": year, "month": month, "office": actor.office_id},
        )
        outbox.enqueue(tasks.build_bulletin, bulletin.pk)
    return bulletin


def build_bulletin(*, bulletin_id: int) -> Bulletin:
    """The job: compose the numbers, draft the text, keep the data cut-off. Idempotent: a bulletin already
    drafted or published is left as it is."""
    from institutions.models import User

    from . import bulletin as composer

    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin_id)
        if bulletin.status not in {Bulletin.Status.QUEUED, Bulletin.Status.RUNNING}:
            return bulletin
        bulletin.status, bulletin.progress = Bulletin.Status.RUNNING, 5
        bulletin.save(update_fields=["status", "progress", "updated_at"])
    author = User.objects.select_related("office").get(pk=bulletin.created_by_id)

    def progress(percent: int) -> None:
        Bulletin.objects.filter(pk=bulletin_id).update(progress=percent)

    content = composer.compose(author, year=bulletin.year, month=bulletin.month, on_progress=progress)
    as_of = selectors.as_of(bulletin.year)
    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin_id)
        bulletin.content = content
        bulletin.paragraphs = composer.draft_paragraphs(content)
        bulletin.title = composer.title(content)
        bulletin.data_cutoff = as_of.finished_at
        bulletin.latest_approval_at = as_of.latest_approval_at
        bulletin.status, bulletin.progress = Bulletin.Status.DRAFT, 100
        bulletin.save()
    return bulletin


def fail_bulletin(*, bulletin_id: int, error: str) -> None:
    Bulletin.objects.filter(pk=bulletin_id).exclude(status=Bulletin.Status.PUBLISHED).update(
        status=Bulletin.Status.FAILED, error=error[:2000]
    )


def _editable(actor, bulletin: Bulletin) -> Bulletin:
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    require(_may_see_bulletin(actor, bulletin), "只有辖区内的人民银行经办或管理员可以修改监测通报。")
    if bulletin.status == Bulletin.Status.PUBLISHED:
        raise ServiceError(
            f"该通报已于 {bulletin.published_at:%Y-%m-%d %H:%M} 发布（第{bulletin.version}版），不再修改：请重新生成草稿后发布新版本。"
        )
    if bulletin.status != Bulletin.Status.DRAFT:
        raise ServiceError("通报草稿尚未生成完毕，请稍候。")
    return bulletin


@transaction.atomic
def save_bulletin_text(
    *, actor, bulletin: Bulletin, texts: dict[str, str], title: str | None = None
) -> Bulletin:
    """The officer's edits of the drafted paragraphs (key → text; a key not given keeps its text)."""
    bulletin = _editable(actor, bulletin)
    old = {p["key"]: p["text"] for p in bulletin.paragraphs}
    paragraphs = []
    for p in bulletin.paragraphs:
        text = texts.get(p["key"])
        text = p["text"] if text is None else text.strip()[:5000]
        if not text:
            raise ServiceError(f"“{p['heading']}”一段不能为空；不需要时请写明“无”。")
        paragraphs.append({**p, "text": text})
    new = {p["key"]: p["text"] for p in paragraphs}
    changes = audit.diff(old, new)
    new_title = bulletin.title if title is None else (title.strip()[:200] or bulletin.title)
    if new_title != bulletin.title:
        changes["title"] = [bulletin.title, new_title]
    bulletin.paragraphs, bulletin.title = paragraphs, new_title
    bulletin.save(update_fields=["paragraphs", "title", "updated_at"])
    if changes:
        audit.record(
            actor=actor,
            action="bulletin.edit",
            obj=bulletin,
            summary=f"修改{bulletin.year}年{bulletin.month}月监测通报草稿（#{bulletin.pk}）",
            changes=changes,
        )
    return bulletin


@transaction.atomic
def publish_bulletin(*, actor, bulletin: Bulletin) -> Bulletin:
    """Publish a draft as the next version of its month (第 N 版): earlier versions stay as they were."""
    bulletin = _editable(actor, bulletin)
    # one publisher at a time per office and month: the version numbers never collide
    list(
        Bulletin.objects.select_for_update()
        .filter(office_id=bulletin.office_id, year=bulletin.year, month=bulletin.month)
        .values_list("pk", flat=True)
    )
    latest = (
        Bulletin.objects.filter(office_id=bulletin.office_id, year=bulletin.year, month=bulletin.month)
        .exclude(version=None)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    bulletin.version = (latest or 0) + 1
    bulletin.status = Bulletin.Status.PUBLISHED
    bulletin.published_by, bulletin.published_at = actor, timezone.now()
    bulletin.save()
    audit.record(
        actor=actor,
        action="bulletin.publish",
        obj=bulletin,
        summary=f"发布{bulletin.year}年{bulletin.month}月监测通报第{bulletin.version}版（#{bulletin.pk}）",
        changes={
            "version": bulletin.version,
            "data_cutoff": str(bulletin.data_cutoff or ""),
            "paragraphs": {p["key"]: p["text"] for p in bulletin.paragraphs},
        },
    )
    return bulletin


def notice_extract(bulletin: Bulletin, institution: Institution) -> tuple[str, str]:
    """(subject, body) of a 通报 to one institution: its own row of the bulletin's 不到位 list, nothing of
    any other institution."""
    content = bulletin.content or {}
    row = next(
        (f for f in content.get("failing", []) if f.get("institution_id") == institution.pk),
        None,
    )
    subject = (
        f"[专项行动门户] 通报：{institution.short_name} {bulletin.year}年{bulletin.month}月专项行动工作不到位"
    )
    lines = [
        f"{institution.name}：",
        "",
        f"根据{bulletin.year}年{bulletin.month}月专项行动监测情况（数据截至 "
        f"{content.get('data_cutoff') or '—'}），贵机构以下目标未达到要求：",
    ]
    for t in (row or {}).get("targets", []):
        lines.append(f"- {t['target']}：{t['actual']}（目标 {t['target_text']}，{t['gap']}）")
    if row is None:
        lines.append("- （本期通报未列出贵机构的未达标目标）")
    lines += [
        "",
        "请对照《中国人民银行武汉分行关于开展小微企业“敢贷愿贷能贷会贷”专项行动的通知》（武银〔2022〕45号）"
        "要求，认真分析原因，制定整改措施，并于下期监测表报送时一并报告整改情况。",
        "",
        f"{content.get('office') or '人民银行'}",
    ]
    return subject, "\n".join(lines)


@transaction.atomic
def supervise_from_bulletin(
    *,
    actor,
    bulletin: Bulletin,
    institution: Institution,
    kind: str,
    taken_on: date,
    reason: str,
    email: bool = False,
) -> SupervisionAction:
    """From the bulletin's 不到位 list: record a 约谈 / 现场督导 / 通报 (the supervision log) in one step; a 通报
    may be e-mailed to the institution's 附件2 contacts with its own extract, through the outbox."""
    from reporting.notifications import bank_addresses

    from . import tasks

    require(_may_see_bulletin(actor, bulletin), "只有辖区内的人民银行经办或管理员可以记录督导。")
    action = record_supervision(
        actor=actor, institution=institution, kind=kind, taken_on=taken_on, reason=reason
    )
    if email:
        if kind != SupervisionKind.NOTICE:
            raise ServiceError("只有“通报”可以发送邮件给机构联系人。")
        recipients = bank_addresses(institution)
        if not recipients:
            raise ServiceError(f"{institution.short_name}没有登记联系人邮箱（附件2），无法发送通报邮件。")
        subject, body = notice_extract(bulletin, institution)
        notice = BulletinNotice.objects.create(
            bulletin=bulletin,
            action=action,
            institution=institution,
            recipients=recipients,
            subject=subject,
            body=body,
        )
        audit.record(
            actor=actor,
            action="bulletin.notice",
            obj=notice,
            institution=institution,
            summary=f"通报邮件：{institution} → {len(recipients)} 个联系人邮箱",
            changes={"recipients": recipients, "subject": subject},
        )
        outbox.enqueue(tasks.send_bulletin_notice, notice.pk)
    return action


def send_bulletin_notice(*, notice_id: int) -> bool:
    """Send a 通报 e-mail once (a redelivered task finds it sent)."""
    from django.conf import settings
    from django.core.mail import send_mail

    with transaction.atomic():
        notice = BulletinNotice.objects.select_for_update().filter(pk=notice_id, sent_at=None).first()
        if notice is None:
            return False
        send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, notice.recipients)
        notice.sent_at = timezone.now()
        notice.save(update_fields=["sent_at"])
    return True
