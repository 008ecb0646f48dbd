"""Every state change of an evaluation: create one, edit its scheme and grading, file evidence, score, fetch
the 定量 indicators, override a grade, copy for a what-if, publish, and queue the report cards.

Each service is keyword-only, runs in one transaction with the evaluation row locked (`select_for_update`),
refuses anything on a published evaluation, detects concurrent edits with a `lock_version`, writes its audit
entry in the same transaction and queues Celery work on commit. Views, the API, management commands, the
demo loader and tasks all call these.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit import services as audit
from indicators import indicators as ind
from institutions import access
from institutions.models import Institution, PbocOffice
from outbox import services as outbox
from portal.errors import Conflict, ServiceError, require
from reporting.uploads import UploadRejected, inspect_document

from . import grading, pages, pdf, reference, scoring, selectors, tasks
from .models import (
    Criterion,
    Disclosure,
    Evaluation,
    Evidence,
    GradeOverride,
    GradingMethod,
    InputSource,
    Item,
    ItemInput,
    ItemKind,
    ListKind,
    Member,
    PeerGroup,
    QualitativeScore,
    ReportJob,
    Result,
    ResultItem,
    ResultOrder,
    Status,
)


def _lock(evaluation: Evaluation) -> Evaluation:
    return (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("jurisdiction")
        .get(pk=evaluation.pk)
    )


def _require_draft(evaluation: Evaluation, what: str) -> None:
    if evaluation.status != Status.DRAFT:
        raise ServiceError(
            f"{evaluation} {evaluation.get_status_display()}，{what}已锁定。如需调整，请由管理员复制为模拟测算草稿后重新发布。",
            code="locked",
        )


def _require_original(evaluation: Evaluation, what: str) -> None:
    if evaluation.is_what_if:
        raise ServiceError(
            f"{evaluation} 是模拟测算草稿，只能调整方案（分值、计分方法、评级线）；{what}请在原评估中进行。",
            code="what_if",
        )


def _check_expected(current: int, expected: int | None, what: str) -> None:
    if expected is not None and expected != current:
        raise Conflict(
            f"{what}已被他人修改（您打开的是第 {expected} 次修订，当前为第 {current} 次）。"
            "为避免覆盖他人的修改，请刷新页面，核对后再保存。"
        )


def _bump(evaluation: Evaluation) -> None:
    evaluation.lock_version += 1
    evaluation.save(update_fields=["lock_version"])


def _decimal(raw, what: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ServiceError(f"{what}“{raw}”不是有效的数字。") from None
    if not value.is_finite():
        raise ServiceError(f"{what}“{raw}”不是有效的数字。")
    return value


def _n(value: Decimal) -> str:
    """25.00 → "25", 2.50 → "2.5" (a weight or maximum as people write it)."""
    return f"{Decimal(value).normalize():f}"


def _points(raw, what: str) -> Decimal:
    value = _decimal(raw, what)
    if value != value.quantize(Decimal("0.01")):
        raise ServiceError(f"{what} {value} 最多保留两位小数。")
    return value.quantize(Decimal("0.01"))


# --- creating an evaluation -----------------------------------------------------------------------------------


def _default_title(year: int, jurisdiction: PbocOffice) -> str:
    area = "湖北省" if jurisdiction.parent_id is None else jurisdiction.name
    return f"{year}年{area}小微企业“四张清单”工作评估"


def _create_scheme(evaluation: Evaluation, *, indicator_year: int, indicator_month: int = 12) -> list[Item]:
    items = []
    for order, d in enumerate(reference.ITEMS_2021, start=1):
        quantitative = d.kind == ItemKind.QUANTITATIVE
        item = Item.objects.create(
            evaluation=evaluation,
            code=d.code,
            name=d.name,
            kind=d.kind,
            weight=d.weight,
            order=order,
            method=scoring.LINEAR if quantitative else "",
            floor_share=reference.FLOOR_SHARE if quantitative else Decimal(0),
            indicator_code=d.indicator,
            indicator_year=indicator_year if quantitative else None,
            indicator_month=indicator_month if quantitative else None,
        )
        Criterion.objects.bulk_create(
            Criterion(item=item, code=c.code, name=c.name, max_points=c.max_points, order=i)
            for i, c in enumerate(d.criteria, start=1)
        )
        items.append(item)
    return items


def _create_groups(evaluation: Evaluation, members: list[tuple[Institution, str]]) -> None:
    groups = {
        code: PeerGroup.objects.create(evaluation=evaluation, code=code, name=name, order=i)
        for i, (code, name) in enumerate(reference.GROUPS, start=1)
    }
    Member.objects.bulk_create(
        Member(evaluation=evaluation, group=groups[code], institution=inst) for inst, code in members
    )


@transaction.atomic
def create_evaluation(*, actor, year: int, jurisdiction: PbocOffice, title: str = "") -> Evaluation:
    """A new year's evaluation with the 2021 scheme (weights, 定量 by linear interpolation with a 60% floor
    reading the indicators at December of `year`, grading relative to the group mean ±5). Its members are
    the institutions the jurisdiction follows that were active in the year, in their 附件1 groups."""
    require(access.is_pboc_admin(actor), "只有人民银行管理员可以创建评估。")
    if actor.role != "sysadmin" and not actor.is_superuser:
        require(
            jurisdiction.pk in access.office_subtree_ids(actor.office_id),
            f"您无权为{jurisdiction}组织评估。",
        )
    if (
        Evaluation.objects.filter(year=year, jurisdiction=jurisdiction)
        .filter(Q(status=Status.PUBLISHED) | Q(status=Status.DRAFT, based_on__isnull=True))
        .exists()
    ):
        raise Conflict(f"{jurisdiction} {year}年的评估已存在，请在原评估中继续。")
    followed = access.office_subtree_ids(jurisdiction.pk)
    institutions = Institution.objects.filter(
        supervising_office_id__in=followed, active_from__lte=date(year, 12, 31)
    ).exclude(active_to__lt=date(year, 1, 1))
    evaluation = Evaluation.objects.create(
        year=year,
        jurisdiction=jurisdiction,
        title=title.strip() or _default_title(year, jurisdiction),
        grading_method=reference.GRADING_2021.method,
        excellent_threshold=reference.GRADING_2021.thresholds[0],
        good_threshold=reference.GRADING_2021.thresholds[1],
        fair_threshold=reference.GRADING_2021.thresholds[2],
        created_by=actor,
    )
    _create_scheme(evaluation, indicator_year=year)
    _create_groups(evaluation, [(i, i.evaluation_group) for i in institutions])
    audit.record(
        actor=actor,
        action="evaluation.create",
        obj=evaluation,
        summary=f"创建 {evaluation}（{institutions.count()} 家机构）",
    )
    return evaluation


@transaction.atomic
def move_member(*, actor, evaluation: Evaluation, institution: Institution, group: PeerGroup | None) -> None:
    """Put an institution in another group of a draft, or take it out of the evaluation (group None)."""
    evaluation = _lock(evaluation)
    require(selectors.can_manage(actor, evaluation), "只有人民银行管理员可以调整分组。")
    _require_draft(evaluation, "分组")
    _require_original(evaluation, "调整分组")
    member = Member.objects.filter(evaluation=evaluation, institution=institution).first()
    before = member.group.name if member else "未参评"
    if group is None:
        if member:
            member.delete()
    else:
        if group.evaluation_id != evaluation.pk:
            raise ServiceError(f"{group} 不属于 {evaluation}。")
        if member:
            member.group = group
            member.save(update_fields=["group"])
        else:
            Member.objects.create(evaluation=evaluation, group=group, institution=institution)
    _bump(evaluation)
    after = group.name if group else "未参评"
    audit.record(
        actor=actor,
        action="evaluation.member",
        obj=evaluation,
        institution=institution,
        summary=f"{evaluation}：{institution} 分组 {before} → {after}",
        changes={"group": [before, after]},
    )


# --- scheme and grading -----------------------------------------------------------------------------------------


@dataclass
class ItemSettings:
    """What an admin may change on an item of a draft (a what-if included)."""

    weight: Decimal
    method: str = ""
    floor_share: Decimal = Decimal(0)
    target: Decimal | None = None
    steps: list | None = None
    indicator_code: str = ""
    indicator_year: int | None = None
    indicator_month: int | None = None


def _item_state(item: Item) -> dict:
    return {
        "weight": str(item.weight),
        "method": item.method,
        "floor_share": str(item.floor_share),
        "target": None if item.target is None else str(item.target),
        "steps": item.steps or [],
        "indicator": f"{item.indicator_code}@{item.indicator_year}-{item.indicator_month}"
        if item.indicator_code
        else "",
    }


def _clean_steps(item: Item, steps) -> list[dict]:
    out = []
    for step in steps or []:
        minimum = _decimal(step.get("min"), f"“{item.name}”分档下限")
        share = _decimal(step.get("share"), f"“{item.name}”分档得分比例")
        out.append({"min": str(minimum), "share": str(share)})
    return sorted(out, key=lambda s: Decimal(s["min"]))


@transaction.atomic
def update_scheme(
    *,
    actor,
    evaluation: Evaluation,
    items: dict[int, ItemSettings],
    grading_method: str,
    thresholds: tuple,
    result_order: str = ResultOrder.LISTED,
    expected_lock_version: int | None = None,
) -> Evaluation:
    """Change weights, 定量 methods and parameters, the grading rule and its cut-offs of a draft, all at once.
    The whole scheme is checked before anything is saved: weights must add up to the total, cut-offs must
    be ordered, methods need their parameters."""
    evaluation = _lock(evaluation)
    require(selectors.can_manage(actor, evaluation), "只有人民银行管理员可以调整评估方案。")
    _require_draft(evaluation, "评估方案")
    _check_expected(evaluation.lock_version, expected_lock_version, f"{evaluation} 的方案")
    if grading_method not in GradingMethod.values:
        raise ServiceError(f"评级方法“{grading_method}”无效。")
    if result_order not in ResultOrder.values:
        raise ServiceError(f"结果表排序“{result_order}”无效。")
    current = selectors.items_of(evaluation)
    before = {i.code: _item_state(i) for i in current}
    old_grading = [
        evaluation.grading_method,
        *(str(t) for t in evaluation.thresholds),
        evaluation.result_order,
    ]
    changed_inputs = []
    for item in current:
        new = items.get(item.pk)
        if new is None:
            continue
        item.weight = _points(new.weight, f"“{item.name}”的分值")
        if item.kind == ItemKind.QUANTITATIVE:
            if new.method not in scoring.METHODS:
                raise ServiceError(f"“{item.name}”的计分方法“{new.method}”无效。")
            item.method = new.method
            item.floor_share = _decimal(new.floor_share, f"“{item.name}”的保底得分比例")
            item.target = None if new.target in (None, "") else _decimal(new.target, f"“{item.name}”的目标值")
            item.steps = _clean_steps(item, new.steps)
            indicator = (new.indicator_code or item.indicator_code, new.indicator_year, new.indicator_month)
            if indicator != (item.indicator_code, item.indicator_year, item.indicator_month):
                if indicator[0] not in ind.REGISTRY:
                    raise ServiceError(f"“{item.name}”的指标“{indicator[0]}”不存在。")
                if not indicator[1] or not indicator[2] or not 1 <= int(indicator[2]) <= 12:
                    raise ServiceError(f"“{item.name}”的取数期应为某年某月。")
                item.indicator_code, item.indicator_year, item.indicator_month = indicator
                changed_inputs.append(item)
    evaluation.grading_method = grading_method
    cuts = [_decimal(t, "评级线") for t in thresholds]
    evaluation.excellent_threshold, evaluation.good_threshold, evaluation.fair_threshold = cuts
    evaluation.result_order = result_order
    scheme = selectors.scheme_of(evaluation, current)
    problems = scoring.scheme_problems(scheme)
    if problems:
        raise ServiceError("方案未保存：" + "；".join(problems) + "。", details=problems)
    for item in current:
        item.save()
    # Inputs fetched for another indicator or month no longer belong to the item: fetch them again.
    ItemInput.objects.filter(item__in=changed_inputs).delete()
    evaluation.save(
        update_fields=[
            "grading_method",
            "excellent_threshold",
            "good_threshold",
            "fair_threshold",
            "result_order",
        ]
    )
    _bump(evaluation)
    after = {i.code: _item_state(i) for i in current}
    changes = {code: [before[code], after[code]] for code in after if before[code] != after[code]}
    new_grading = [grading_method, *(str(t) for t in cuts), result_order]
    if new_grading != old_grading:
        changes["grading"] = [old_grading, new_grading]
    audit.record(
        actor=actor,
        action="evaluation.scheme",
        obj=evaluation,
        summary=f"调整 {evaluation} 的评估方案（{grading.METHOD_LABELS[grading_method]}）",
        changes=changes,
    )
    return evaluation


# --- evidence ---------------------------------------------------------------------------------------------------


def _locked_for_bank(actor, evaluation: Evaluation, institution: Institution) -> Evaluation:
    evaluation = _lock(evaluation)
    require(
        access.can_prepare(actor, institution) and selectors.is_member(evaluation, institution),
        "只有参评机构本行的填报人或分管领导可以报送清单和公示材料。",
    )
    _require_draft(evaluation, "清单和公示材料")
    _require_original(evaluation, "报送材料")
    return evaluation


@transaction.atomic
def add_evidence(
    *,
    actor,
    evaluation: Evaluation,
    institution: Institution,
    kind: str,
    data: bytes | None = None,
    filename: str = "",
    link: str = "",
    note: str = "",
) -> Evidence:
    """A bank files one of its four lists or evidence of their 公示: a PDF/DOCX (checked by content with
    `reporting.uploads.inspect_document`), a link to where it is published, or both."""
    evaluation = _locked_for_bank(actor, evaluation, institution)
    if kind not in ListKind.values:
        raise ServiceError(f"材料类别“{kind}”无效。")
    link = (link or "").strip()
    if not data and not link:
        raise ServiceError("请上传文件（PDF 或 Word .docx），或填写公示链接。")
    if link:
        parts = urlsplit(link)
        if parts.scheme not in {"http", "https"} or not parts.netloc or len(link) > 500:
            raise ServiceError(f"公示链接“{link[:80]}”无效：请填写以 http:// 或 https:// 开头的网址。")
    evidence = Evidence(
        evaluation=evaluation,
        institution=institution,
        kind=kind,
        link=link,
        note=(note or "").strip()[:200],
        uploaded_by=actor,
    )
    if data:
        try:
            file_type = inspect_document(data, filename, settings.UPLOAD_MAX_BYTES)
        except UploadRejected as exc:
            raise ServiceError(f"{exc.code} {exc.message}", code=exc.code) from None
        digest = hashlib.sha256(data).hexdigest()
        evidence.file_type = file_type
        evidence.file_sha256 = digest
        evidence.file_name = (filename or f"材料.{file_type}").replace("\\", "/").rsplit("/", 1)[-1][:255]
        evidence.file.save(
            f"{evaluation.year}-{institution.code}-{kind}-{digest[:12]}.{file_type}",
            ContentFile(data),
            save=False,
        )
    evidence.save()
    audit.record(
        actor=actor,
        action="evaluation.evidence",
        obj=evidence,
        institution=institution,
        summary=f"{institution} 报送{evidence.get_kind_display()}：{evidence.file_name or link}"[:300],
        changes={"kind": [None, kind], "file": [None, evidence.file_name], "link": [None, link]},
    )
    return evidence


@transaction.atomic
def remove_evidence(*, actor, evidence: Evidence) -> None:
    _locked_for_bank(actor, evidence.evaluation, evidence.institution)
    audit.record(
        actor=actor,
        action="evaluation.evidence_removed",
        obj=evidence,
        institution=evidence.institution,
        summary=f"{evidence.institution} 撤回{evidence.get_kind_display()}：{evidence.file_name or evidence.link}"[
            :300
        ],
    )
    evidence.delete()  # the stored file stays: the audit trail may point at it


@transaction.atomic
def save_disclosure(
    *,
    actor,
    evaluation: Evaluation,
    institution: Institution,
    outlets,
    outlets_disclosed,
    channels: str = "",
    expected_lock_version: int | None = None,
) -> Disclosure:
    """公示覆盖情况: the bank's lending outlets and how many display the four lists (公示全覆盖)."""
    evaluation = _locked_for_bank(actor, evaluation, institution)
    try:
        outlets, outlets_disclosed = int(str(outlets).strip()), int(str(outlets_disclosed).strip())
    except ValueError:
        raise ServiceError("网点数应为整数。") from None
    if outlets < 0 or outlets_disclosed < 0:
        raise ServiceError("网点数不能为负数。")
    if outlets_disclosed > outlets:
        raise ServiceError(f"已公示网点数 {outlets_disclosed} 大于网点总数 {outlets}，请核对。")
    row = (
        Disclosure.objects.select_for_update().filter(evaluation=evaluation, institution=institution).first()
    )
    _check_expected(row.lock_version if row else 0, expected_lock_version, f"{institution} 的公示覆盖情况")
    before = (
        {"outlets": row.outlets, "disclosed": row.outlets_disclosed, "channels": row.channels} if row else {}
    )
    if row is None:
        row = Disclosure(evaluation=evaluation, institution=institution, updated_by=actor)
    row.outlets, row.outlets_disclosed, row.channels = (
        outlets,
        outlets_disclosed,
        (channels or "").strip()[:200],
    )
    row.updated_by = actor
    row.lock_version += 1
    row.save()
    after = {"outlets": outlets, "disclosed": outlets_disclosed, "channels": row.channels}
    audit.record(
        actor=actor,
        action="evaluation.disclosure",
        obj=row,
        institution=institution,
        summary=f"{institution} 公示覆盖 {outlets_disclosed}/{outlets} 个网点",
        changes=audit.diff(before, after),
    )
    return row


# --- scoring ------------------------------------------------------------------------------------------------------


@transaction.atomic
def score(
    *,
    actor,
    evaluation: Evaluation,
    institution: Institution,
    item: Item,
    value=None,
    criteria: dict | None = None,
    comment: str = "",
    expected_lock_version: int | None = None,
) -> QualitativeScore:
    """An officer scores a 定性 item for an institution: the item score, or its sub-criteria (the score is
    then their sum), each within 0 and its maximum, with a comment. `expected_lock_version` is the score's
    revision the officer saw (0 when there was none): two officers never silently overwrite each other."""
    evaluation = _lock(evaluation)
    require(
        access.can_review(actor, institution),
        f"您无权为{institution}评分：只有跟踪该机构的人民银行经办或管理员可以评分。",
    )
    _require_draft(evaluation, "评分")
    _require_original(evaluation, "评分")
    if not selectors.is_member(evaluation, institution):
        raise ServiceError(f"{institution} 未参加 {evaluation}。")
    if item.evaluation_id != evaluation.pk or item.kind != ItemKind.QUALITATIVE:
        raise ServiceError(f"“{item.name}”不是本次评估的定性项目，不能人工评分。")
    parts = {}
    criteria = {k: v for k, v in (criteria or {}).items() if str(v).strip() != ""}
    if criteria:
        known = {c.code: c for c in item.criteria.all()}
        unknown = sorted(set(criteria) - set(known))
        if unknown:
            raise ServiceError(f"“{item.name}”没有评分要点“{'、'.join(unknown)}”。")
        missing = [known[c].name for c in known if c not in criteria]
        if missing:
            raise ServiceError(f"请为“{item.name}”的全部评分要点打分，尚缺：{'、'.join(missing)}。")
        for code, c in known.items():
            points = _points(criteria[code], f"{institution}“{item.name}—{c.name}”的得分")
            if not Decimal(0) <= points <= c.max_points:
                raise ServiceError(
                    f"{institution}“{item.name}—{c.name}”的得分 {points} 超出范围：应在 0 到 {_n(c.max_points)} 分之间。"
                )
            parts[code] = str(points)
        value = sum((Decimal(v) for v in parts.values()), Decimal(0))
    elif value is None or str(value).strip() == "":
        raise ServiceError(f"请填写{institution}“{item.name}”的得分。")
    value = _points(value, f"{institution}“{item.name}”的得分")
    if not Decimal(0) <= value <= item.weight:
        raise ServiceError(
            f"{institution}“{item.name}”的得分 {value} 超出范围：应在 0 到 {_n(item.weight)} 分（该项分值）之间。"
        )
    row = (
        QualitativeScore.objects.select_for_update(of=("self",))
        .filter(item=item, institution=institution)
        .select_related("scored_by")
        .first()
    )
    if row is not None and expected_lock_version is not None and expected_lock_version != row.lock_version:
        who = f"{row.scored_by}" if row.scored_by else "他人"
        raise Conflict(
            f"{institution}“{item.name}”的评分已被{who}修改为 {row.value}（{timezone.localtime(row.scored_at):%H:%M}）。"
            "为避免覆盖他人的评分，请刷新页面，核对后再保存。"
        )
    before = {"value": str(row.value), "criteria": row.criteria, "comment": row.comment} if row else {}
    if row is None:
        row = QualitativeScore(evaluation=evaluation, item=item, institution=institution)
    row.value, row.criteria, row.comment = value, parts, (comment or "").strip()[:2000]
    row.scored_by = actor
    row.lock_version += 1
    row.save()
    after = {"value": str(value), "criteria": parts, "comment": row.comment}
    audit.record(
        actor=actor,
        action="evaluation.score",
        obj=row,
        institution=institution,
        summary=f"{evaluation.year}年四张清单评估：{institution}“{item.name}”评分 {value}",
        changes=audit.diff(before, after),
    )
    return row


@transaction.atomic
def fetch_inputs(*, actor, evaluation: Evaluation) -> dict[str, int]:
    """取数: snapshot every 定量 item's indicator for every member from the stored indicators. A member
    without a value is recorded with the reason (and stops publishing until the data is there)."""
    evaluation = _lock(evaluation)
    require(selectors.can_manage(actor, evaluation), "只有人民银行管理员可以取数。")
    _require_draft(evaluation, "定量指标")
    member_ids = list(Member.objects.filter(evaluation=evaluation).values_list("institution_id", flat=True))
    counts = {"values": 0, "missing": 0}
    for item in evaluation.items.filter(kind=ItemKind.QUANTITATIVE):
        found = selectors.indicator_values(
            code=item.indicator_code,
            year=item.indicator_year,
            month=item.indicator_month,
            institution_ids=member_ids,
        )
        ItemInput.objects.filter(item=item).delete()
        ItemInput.objects.bulk_create(
            ItemInput(
                evaluation=evaluation,
                item=item,
                institution_id=pk,
                value=value,
                reason="" if value is not None else (reason or selectors.NO_VALUE)[:300],
                source=InputSource.INDICATOR,
            )
            for pk, (value, reason) in found.items()
        )
        counts["values"] += sum(1 for v, _r in found.values() if v is not None)
        counts["missing"] += sum(1 for v, _r in found.values() if v is None)
    _bump(evaluation)
    audit.record(
        actor=actor,
        action="evaluation.fetch",
        obj=evaluation,
        summary=f"{evaluation} 定量指标取数：{counts['values']} 个有值，{counts['missing']} 个无数据",
        changes=counts,
    )
    return counts


# --- grades -------------------------------------------------------------------------------------------------------


@transaction.atomic
def override_grade(
    *, actor, evaluation: Evaluation, institution: Institution, grade: str, reason: str
) -> GradeOverride:
    """An officer gives another grade than the rule's; the reason is required and shown wherever the grade is."""
    evaluation = _lock(evaluation)
    require(access.can_review(actor, institution), f"您无权调整{institution}的评估结果。")
    _require_draft(evaluation, "评估结果")
    _require_original(evaluation, "调整评估结果")
    if grade not in grading.GRADES:
        raise ServiceError(f"评估结果“{grade}”无效：应为优秀、良好、一般或勉励。")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ServiceError(f"调整{institution}的评估结果必须写明理由（至少 4 个字），理由将与结果一并展示。")
    if not selectors.is_member(evaluation, institution):
        raise ServiceError(f"{institution} 未参加 {evaluation}。")
    row = (
        GradeOverride.objects.select_for_update()
        .filter(evaluation=evaluation, institution=institution)
        .first()
    )
    before = {"grade": row.grade, "reason": row.reason} if row else {}
    if row is None:
        row = GradeOverride(evaluation=evaluation, institution=institution, decided_by=actor)
    row.grade, row.reason, row.decided_by = grade, reason[:1000], actor
    row.save()
    _bump(evaluation)
    audit.record(
        actor=actor,
        action="evaluation.override",
        obj=row,
        institution=institution,
        summary=f"{evaluation}：{institution} 评估结果调整为{grading.GRADE_LABELS[grade]}（{reason}）"[:300],
        changes=audit.diff(before, {"grade": grade, "reason": row.reason}),
    )
    return row


@transaction.atomic
def clear_override(*, actor, evaluation: Evaluation, institution: Institution) -> None:
    evaluation = _lock(evaluation)
    require(access.can_review(actor, institution), f"您无权调整{institution}的评估结果。")
    _require_draft(evaluation, "评估结果")
    _require_original(evaluation, "调整评估结果")
    row = GradeOverride.objects.filter(evaluation=evaluation, institution=institution).first()
    if row is None:
        return
    audit.record(
        actor=actor,
        action="evaluation.override_cleared",
        obj=row,
        institution=institution,
        summary=f"{evaluation}：撤销{institution}评估结果的调整，恢复按规则评定",
        changes={"grade": [row.grade, None], "reason": [row.reason, None]},
    )
    row.delete()
    _bump(evaluation)


# --- what-if and publishing ---------------------------------------------------------------------------------------


@transaction.atomic
def start_what_if(*, actor, evaluation: Evaluation) -> Evaluation:
    """Copy a published evaluation — scheme, groups, scores, inputs, overrides, evidence — into a draft whose
    scheme the admin may change and compare before publishing it in place of the original."""
    evaluation = _lock(evaluation)
    require(selectors.can_manage(actor, evaluation), "只有人民银行管理员可以进行模拟测算。")
    if evaluation.status != Status.PUBLISHED:
        raise ServiceError(f"{evaluation} 尚未发布：模拟测算以已发布的评估为基准。")
    source = evaluation
    copy = Evaluation.objects.create(
        year=source.year,
        jurisdiction=source.jurisdiction,
        title=source.title,
        based_on=source,
        total_weight=source.total_weight,
        grading_method=source.grading_method,
        excellent_threshold=source.excellent_threshold,
        good_threshold=source.good_threshold,
        fair_threshold=source.fair_threshold,
        result_order=source.result_order,
        note=source.note,
        created_by=actor,
    )
    groups = {}
    for g in source.groups.all():
        groups[g.pk] = PeerGroup.objects.create(evaluation=copy, code=g.code, name=g.name, order=g.order)
    Member.objects.bulk_create(
        Member(evaluation=copy, group=groups[m.group_id], institution_id=m.institution_id)
        for m in source.members.all()
    )
    items = {}
    for item in source.items.prefetch_related("criteria"):
        criteria = list(item.criteria.all())
        old_pk = item.pk
        item.pk, item.evaluation = None, copy
        item.save()
        items[old_pk] = item
        Criterion.objects.bulk_create(
            Criterion(item=item, code=c.code, name=c.name, max_points=c.max_points, order=c.order)
            for c in criteria
        )
    QualitativeScore.objects.bulk_create(
        QualitativeScore(
            evaluation=copy,
            item=items[s.item_id],
            institution_id=s.institution_id,
            value=s.value,
            criteria=s.criteria,
            comment=s.comment,
            scored_by_id=s.scored_by_id,
        )
        for s in source.scores.all()
    )
    ItemInput.objects.bulk_create(
        ItemInput(
            evaluation=copy,
            item=items[i.item_id],
            institution_id=i.institution_id,
            value=i.value,
            reason=i.reason,
            source=i.source,
        )
        for i in source.inputs.all()
    )
    GradeOverride.objects.bulk_create(
        GradeOverride(
            evaluation=copy,
            institution_id=o.institution_id,
            grade=o.grade,
            reason=o.reason,
            decided_by_id=o.decided_by_id,
        )
        for o in source.overrides.all()
    )
    Evidence.objects.bulk_create(
        Evidence(
            evaluation=copy,
            institution_id=e.institution_id,
            kind=e.kind,
            file=e.file.name,
            file_name=e.file_name,
            file_type=e.file_type,
            file_sha256=e.file_sha256,
            link=e.link,
            note=e.note,
            uploaded_by_id=e.uploaded_by_id,
        )
        for e in source.evidence.all()
    )
    Disclosure.objects.bulk_create(
        Disclosure(
            evaluation=copy,
            institution_id=d.institution_id,
            outlets=d.outlets,
            outlets_disclosed=d.outlets_disclosed,
            channels=d.channels,
            updated_by_id=d.updated_by_id,
        )
        for d in source.disclosures.all()
    )
    audit.record(
        actor=actor,
        action="evaluation.what_if",
        obj=copy,
        summary=f"以已发布的 {source}（#{source.pk}）为基准创建模拟测算草稿 #{copy.pk}",
    )
    return copy


def _freeze(evaluation: Evaluation, outcome: scoring.Outcome) -> int:
    groups = {g.code: g for g in evaluation.groups.all()}
    items = {i.code: i for i in evaluation.items.all()}
    frame = outcome.frame
    results = Result.objects.bulk_create(
        Result(
            evaluation=evaluation,
            institution_id=key,
            group=groups[row["group"]],
            total=row["total"],
            rank=int(row["rank"]),
            computed_grade=row["computed_grade"],
            grade=row["grade"],
            override_reason=row["override_reason"] or "",
        )
        for key, row in frame.iterrows()
    )
    by_institution = {r.institution_id: r for r in results}
    ResultItem.objects.bulk_create(
        ResultItem(
            result=by_institution[key],
            item=items[code],
            score=frame.loc[key, code],
            input_value=(outcome.inputs.loc[key, code] if code in outcome.inputs.columns else None),
        )
        for key in frame.index
        for code in items
    )
    return len(results)


def _publish(evaluation: Evaluation, actor) -> Evaluation:
    """Compute and freeze a locked draft; everything is checked before the first row is written."""
    try:
        outcome = selectors.compute(evaluation)
    except scoring.ScoringError as exc:
        raise ServiceError(
            f"{evaluation} 不能发布："
            + "；".join(exc.problems[:20])
            + ("……" if len(exc.problems) > 20 else "")
            + "。",
            code="not_ready",
            details=exc.problems,
        ) from None
    superseded = None
    if evaluation.based_on_id:
        superseded = Evaluation.objects.select_for_update().get(pk=evaluation.based_on_id)
        if superseded.status != Status.PUBLISHED:
            raise Conflict(
                f"模拟测算所依据的 #{superseded.pk} 已{superseded.get_status_display()}，不能以本草稿取代它；"
                "请以当前已发布的评估重新模拟测算。"
            )
        superseded.status = Status.SUPERSEDED
        superseded.save(update_fields=["status"])
    count = _freeze(evaluation, outcome)
    evaluation.status = Status.PUBLISHED
    evaluation.published_at = timezone.now()
    evaluation.published_by = actor if getattr(actor, "is_authenticated", False) else None
    evaluation.lock_version += 1
    evaluation.save(update_fields=["status", "published_at", "published_by", "lock_version"])
    grades = outcome.frame["grade"].value_counts().to_dict()
    audit.record(
        actor=actor,
        action="evaluation.publish",
        obj=evaluation,
        summary=(
            f"发布 {evaluation}（{count} 家机构"
            + (f"，取代 #{superseded.pk}" if superseded else "")
            + "："
            + "、".join(f"{grading.GRADE_LABELS[g]} {grades.get(g, 0)}" for g in grading.GRADES)
            + "）"
        ),
        changes={"status": [Status.DRAFT, Status.PUBLISHED]},
    )
    return evaluation


@transaction.atomic
def publish(*, actor, evaluation: Evaluation, expected_lock_version: int | None = None) -> Evaluation:
    """Publish a draft: compute it, freeze every unrounded score, rank and grade, lock it. A what-if draft
    replaces the published evaluation it was copied from. Nothing is written unless everything computes."""
    evaluation = _lock(evaluation)
    require(selectors.can_manage(actor, evaluation), "只有人民银行管理员可以发布评估结果。")
    if evaluation.status != Status.DRAFT:
        raise ServiceError(f"{evaluation} {evaluation.get_status_display()}，不能再次发布。", code="locked")
    _check_expected(evaluation.lock_version, expected_lock_version, str(evaluation))
    return _publish(evaluation, actor)


@transaction.atomic
def discard_what_if(*, actor, evaluation: Evaluation) -> None:
    evaluation = _lock(evaluation)
    require(selectors.can_manage(actor, evaluation), "只有人民银行管理员可以删除模拟测算。")
    if not (evaluation.is_draft and evaluation.is_what_if):
        raise ServiceError("只能删除尚未发布的模拟测算草稿。")
    audit.record(
        actor=actor,
        action="evaluation.what_if_discarded",
        obj=evaluation,
        summary=f"删除模拟测算草稿 #{evaluation.pk}",
    )
    evaluation.delete()


# --- report cards --------------------------------------------------------------------------------------------------


@transaction.atomic
def request_report_cards(*, actor, evaluation: Evaluation) -> ReportJob:
    """Queue the ZIP of every member's report card (Celery); the job row tracks its progress."""

    require(selectors.can_manage(actor, evaluation), "只有人民银行管理员可以批量生成评估报告。")
    if evaluation.status != Status.PUBLISHED:
        raise ServiceError(f"{evaluation} 尚未发布：评估报告在发布后生成。")
    job = ReportJob.objects.create(
        evaluation=evaluation, created_by=actor, total=Member.objects.filter(evaluation=evaluation).count()
    )
    audit.record(
        actor=actor,
        action="evaluation.cards",
        obj=job,
        summary=f"批量生成 {evaluation} 的评估报告（{job.total} 份）",
    )
    outbox.enqueue(tasks.build_report_cards, job.pk)
    return job


CARDS_PROGRESS_EVERY = 1  # a card takes a few hundred milliseconds: report each one


def card_filename(evaluation, institution) -> str:
    return f"{evaluation.year}年四张清单评估报告-{institution.code}-{institution.short_name}.pdf"


def build_report_cards(job: ReportJob) -> None:
    """The report-card job's service (evaluation.tasks.build_report_cards): every member's card into one ZIP,
    the job's `processed` advanced card by card; a job whose worker died starts again from its first card
    (the claim resets `processed`). Any failure marks the job failed and is raised again."""
    evaluation = job.evaluation
    try:
        table = selectors.results(evaluation)
        institutions = Institution.objects.in_bulk([r.institution_id for r in table.rows])
        job.total = len(table.rows)
        job.save(update_fields=["total"])
        now = timezone.now()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for index, row in enumerate(table.rows, start=1):
                institution = institutions[row.institution_id]
                card = pages.report_card(evaluation, institution, table)
                zf.writestr(
                    card_filename(evaluation, institution), pdf.report_card_pdf(card, generated_at=now)
                )
                job.processed = index
                if index % CARDS_PROGRESS_EVERY == 0:
                    job.advance(index)
        job.file.save(
            f"{evaluation.year}-evaluation-{evaluation.pk}-cards-{job.pk}.zip",
            ContentFile(buffer.getvalue()),
            save=False,
        )
        job.finish(ReportJob.Status.DONE, "file", "processed")
    except Exception as exc:
        job.fail(f"生成失败：{exc}")
        raise


# --- the 2021 reference -----------------------------------------------------------------------------------------------


REFERENCE_PUBLISHED_ON = date(2022, 4, 24)  # 武银〔2022〕45号 印发, 附件1 with it (seed 004)


@transaction.atomic
def load_reference(*, path, actor=None, jurisdiction: PbocOffice | None = None) -> Evaluation:
    """附件1 (2021) as a published evaluation: groups and members from the table, the 2021 scheme, the
    published 定性 scores, the reconstructed 定量 inputs (see evaluation.reference), graded relative to the
    group mean ±5 — and checked against the table before it is published. Idempotent."""
    jurisdiction = jurisdiction or PbocOffice.objects.get(parent__isnull=True)
    existing = Evaluation.objects.filter(
        year=2021, jurisdiction=jurisdiction, status=Status.PUBLISHED
    ).first()
    if existing:
        return existing
    table = reference.read_table(path)
    comparison = reference.compare(table)
    if comparison.differences:
        raise ServiceError("评估引擎未能复现附件1：" + "、".join(d.row.name for d in comparison.differences))
    by_name = {
        i.short_name: i for i in Institution.objects.filter(short_name__in=[r.name for r in table.rows])
    }
    unknown = [r.name for r in table.rows if r.name not in by_name]
    if unknown:
        raise ServiceError(f"附件1 中的机构不在主数据中：{'、'.join(unknown)}")
    spec = reference.GRADING_2021
    evaluation = Evaluation.objects.create(
        year=2021,
        jurisdiction=jurisdiction,
        title=reference.TITLE_2021,
        grading_method=spec.method,
        excellent_threshold=spec.thresholds[0],
        good_threshold=spec.thresholds[1],
        fair_threshold=spec.thresholds[2],
        note=(
            "由附件1 载入：定性得分为附件1 公布值；定量指标原值未公布，按组内线性插值（保底 60%）以得分等价值还原，"
            "中信银行、平安银行、武汉农商行两项定量得分按未舍入值还原（总分由未舍入分项相加）；"
            "评级按与组内平均分之差（优秀 ≥ 平均分 + 5，良好 ≥ 平均分，一般 ≥ 平均分 - 5，其余勉励）。"
        ),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    items = {i.code: i for i in _create_scheme(evaluation, indicator_year=2021)}
    _create_groups(evaluation, [(by_name[r.name], r.group) for r in table.rows])
    QualitativeScore.objects.bulk_create(
        QualitativeScore(
            evaluation=evaluation,
            item=items[code],
            institution=by_name[r.name],
            value=value,
            comment="附件1 公布得分",
            lock_version=1,
        )
        for r in table.rows
        for code, value in r.scores.items()
        if items[code].kind == ItemKind.QUALITATIVE
    )
    ItemInput.objects.bulk_create(
        ItemInput(
            evaluation=evaluation,
            item=items[code],
            institution=by_name[name],
            value=value,
            source=InputSource.REFERENCE,
        )
        for (name, code), value in comparison.reconstruction.values.items()
    )
    audit.record(
        actor=actor,
        action="evaluation.reference",
        obj=evaluation,
        summary=f"由附件1 载入 {evaluation}（{len(table.rows)} 家机构）",
    )
    _publish(evaluation, actor)
    # published with 武银〔2022〕45号 (附件1), not on the day the portal loaded it
    evaluation.published_at = timezone.make_aware(datetime.combine(REFERENCE_PUBLISHED_ON, time(9, 0)))
    evaluation.save(update_fields=["published_at"])
    stored = selectors.results(evaluation)
    for row in table.rows:
        line = stored.row_for(by_name[row.name].pk)
        if line.shown_total != row.total or line.grade != row.grade:
            raise ServiceError(f"载入后 {row.name} 的结果与附件1 不符：{line.shown_total} {line.grade_label}")
    return evaluation
