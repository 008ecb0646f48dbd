"""Pages of the 四张清单 evaluation. No business logic here: reads through evaluation.selectors, report cards
from evaluation.pages, every change through evaluation.services, access through institutions.access (via the
selectors' helpers)."""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from audit import services as audit
from indicators import indicators as ind
from institutions import access
from institutions.models import PbocOffice
from institutions.selectors import visible_ids
from portal import clock, jobs
from portal.errors import ServiceError, show_refusal
from reporting.forms import first_error
from reporting.services import read_limited

from . import excel, grading, pages, pdf, scoring, selectors, services
from .forms import (
    CreateForm,
    DisclosureForm,
    EvidenceActionForm,
    EvidenceForm,
    OverrideForm,
    PublishForm,
    RemoveEvidenceForm,
    SchemeForm,
    ScoreForm,
)
from .models import Evidence, GradingMethod, ItemKind, ListKind, Method, ReportJob, ResultOrder, Status

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(data: bytes, content_type: str, name: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = (
        f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name)}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _valid(form_class, request, **kwargs) -> dict:
    """The input, checked: a refusal is the form's first message, shown as a service's would be."""
    form = form_class(request.POST, request.FILES, **kwargs)
    if not form.is_valid():
        raise ServiceError(first_error(form))
    return form.cleaned_data


def _detail(evaluation) -> str:
    return reverse("evaluation:detail", args=[evaluation.pk])


def _institution_url(evaluation, institution) -> str:
    return reverse("evaluation:institution", args=[evaluation.pk, institution.pk])


# --- lists and the overview -------------------------------------------------------------------------------------


@login_required
@require_safe
def evaluation_list(request):
    user = request.user
    evaluations = list(selectors.evaluation_list(user))
    offices = selectors.offices_for_new_evaluation(user)
    return render(
        request,
        "evaluation/list.html",
        {"evaluations": evaluations, "offices": offices, "next_year": clock.today().year - 1},
    )


@login_required
@require_POST
def create(request):
    form = CreateForm(request.POST)
    valid = form.is_valid()
    office = get_object_or_404(PbocOffice, pk=form.cleaned_data["jurisdiction"] or 0)
    if not valid:
        messages.error(request, first_error(form))
        return redirect("evaluation:list")
    try:
        evaluation = services.create_evaluation(
            actor=request.user, year=form.cleaned_data["year"], jurisdiction=office
        )
    except ServiceError as exc:
        show_refusal(request, exc)
        return redirect("evaluation:list")
    messages.success(
        request, f"已创建 {evaluation}。请先检查评估方案与分组，再请各参评机构报送清单和公示材料。"
    )
    return redirect(_detail(evaluation))


@login_required
@require_safe
def detail(request, pk):
    user = request.user
    evaluation = selectors.get_evaluation(user, pk)
    if not access.is_pboc(user):
        return _bank_overview(request, evaluation)
    table = selectors.visible_rows(user, selectors.results(evaluation))
    progress = selectors.scoring_progress(evaluation)
    items = table.items
    qualitative_count = sum(1 for i in items if i.kind == ItemKind.QUALITATIVE)
    groups = selectors.members_with_groups(evaluation, user)
    context = {
        "evaluation": evaluation,
        "table": table,
        "groups": groups,
        "progress": progress,
        "qualitative_count": qualitative_count,
        "can_manage": selectors.can_manage(user, evaluation),
        "what_ifs": selectors.draft_what_ifs(evaluation),
        "jobs": selectors.report_jobs_of(evaluation, user),
        "method_labels": scoring.METHOD_LABELS,
        "inputs_missing": evaluation.is_draft
        and not selectors.has_inputs(evaluation)
        and any(i.kind == ItemKind.QUANTITATIVE for i in items),
    }
    return render(request, "evaluation/detail.html", context)


def _bank_overview(request, evaluation):
    institution = request.user.institution
    context = {"evaluation": evaluation, "institution": institution}
    if evaluation.status == Status.PUBLISHED:
        table = selectors.results(evaluation)
        context["row"] = table.row_for(institution.pk)
    return render(request, "evaluation/bank.html", context)


# --- the scheme -----------------------------------------------------------------------------------------------


def _steps_text(steps) -> str:
    return "；".join(f"{s['min']}:{s['share']}" for s in steps or [])


@login_required
def scheme(request, pk):
    evaluation = selectors.get_evaluation(request.user, pk)
    if not selectors.can_manage(request.user, evaluation):
        raise PermissionDenied("只有人民银行管理员可以调整评估方案。")
    items = selectors.items_of(evaluation)
    form = SchemeForm(request.POST if request.method == "POST" else None, items=items)
    if form.is_bound and _save_scheme(request, evaluation, form):
        if evaluation.is_what_if:
            return redirect("evaluation:what_if", pk=evaluation.pk)
        return redirect(_detail(evaluation))
    evaluation.refresh_from_db()
    return _show_scheme(request, evaluation, items, form)


def _save_scheme(request, evaluation, form) -> bool:
    """POST: the scheme stored (True), or the page again with the reason it was refused."""
    try:
        if not form.is_valid():
            raise ServiceError(first_error(form))
        data = form.cleaned_data
        services.update_scheme(
            actor=request.user,
            evaluation=evaluation,
            items=data["items"],
            grading_method=data["grading_method"],
            thresholds=data["thresholds"],
            result_order=data["result_order"],
            expected_lock_version=data["lock_version"],
        )
    except ServiceError as exc:
        show_refusal(request, exc)
        return False
    messages.success(request, "评估方案已保存。")
    return True


def _scheme_row(item, form, source) -> dict:
    """An item's settings as stored, or as typed when a save was refused."""
    prefix = f"item-{item.pk}-"
    stored = {
        "weight": f"{item.weight.normalize():f}",
        "method": item.method,
        "floor_share": f"{item.floor_share.normalize():f}",
        "target": "" if item.target is None else f"{item.target.normalize():f}",
        "steps": _steps_text(item.steps),
        "indicator_code": item.indicator_code,
        "indicator_year": item.indicator_year or "",
        "indicator_month": item.indicator_month or "",
    }
    return {
        "item": item,
        "prefix": prefix,
        **{name: form.typed(prefix + name, default) for name, default in stored.items()},
        "source": source,
    }


def _show_scheme(request, evaluation, items, form):
    sources = selectors.input_sources(evaluation)
    thresholds = {
        "excellent": form.typed("excellent", f"{evaluation.excellent_threshold.normalize():f}"),
        "good": form.typed("good", f"{evaluation.good_threshold.normalize():f}"),
        "fair": form.typed("fair", f"{evaluation.fair_threshold.normalize():f}"),
    }
    indicators = [i for i in ind.INDICATORS if i.better == "high" and not i.test]
    return render(
        request,
        "evaluation/scheme.html",
        {
            "evaluation": evaluation,
            "rows": [_scheme_row(item, form, sources.get(item.pk)) for item in items],
            "thresholds": thresholds,
            "grading_method": form.typed("grading_method", evaluation.grading_method),
            "result_order": form.typed("result_order", evaluation.result_order),
            "methods": Method.choices,
            "grading_methods": GradingMethod.choices,
            "orders": ResultOrder.choices,
            "indicators": indicators,
            "months": range(1, 13),
        },
    )


# --- one institution: evidence, scores, override ------------------------------------------------------------------


@login_required
@require_safe
def institution(request, pk, institution_id):
    user = request.user
    evaluation = selectors.get_evaluation(user, pk)
    if not access.is_pboc(user):
        raise PermissionDenied("评分页面仅供人民银行经办和管理员使用。")
    inst = selectors.member_institution(user, evaluation, institution_id)
    items = selectors.items_of(evaluation)
    scores = selectors.scores_for(evaluation, inst)
    inputs = selectors.inputs_for(evaluation, inst)
    table = selectors.results(evaluation)
    row = table.row_for(inst.pk)
    override = selectors.override_for(evaluation, inst)
    lines = []
    for item in items:
        entry = {"item": item, "score": scores.get(item.pk), "input": inputs.get(item.pk)}
        if item.is_quantitative and entry["input"] is not None:
            indicator = ind.REGISTRY.get(item.indicator_code)
            value = entry["input"].value
            entry["input_text"] = (
                scoring.text(value)
                if entry["input"].source == "reference"
                else (indicator.text(value, with_unit=True) if indicator and value is not None else "—")
            )
        if row is not None:
            entry["computed"] = (
                row.scores[table.ordered_items.index(item)] if item in table.ordered_items else None
            )
        lines.append(entry)
    members = [m for _g, ms in selectors.members_with_groups(evaluation, user) for m in ms]
    ids = [m.institution_id for m in members]
    position = ids.index(inst.pk) if inst.pk in ids else -1
    return render(
        request,
        "evaluation/institution.html",
        {
            "evaluation": evaluation,
            "institution": inst,
            "lines": lines,
            "row": row,
            "problems": table.problems,
            "override": override,
            "evidence": selectors.evidence_for(evaluation, inst),
            "disclosure": selectors.disclosure_for(evaluation, inst),
            "can_score": selectors.can_score(user, evaluation, inst),
            "grades": [(g, grading.GRADE_LABELS[g]) for g in grading.GRADES],
            "previous": members[position - 1].institution if position > 0 else None,
            "next": members[position + 1].institution if 0 <= position < len(members) - 1 else None,
        },
    )


@login_required
@require_POST
def score(request, pk, institution_id, item_id):
    user = request.user
    evaluation = selectors.get_evaluation(user, pk)
    inst = selectors.member_institution(user, evaluation, institution_id)
    item = get_object_or_404(evaluation.items, pk=item_id)
    try:
        data = _valid(ScoreForm, request)
        row = services.score(
            actor=user,
            evaluation=evaluation,
            institution=inst,
            item=item,
            value=data["value"],
            criteria=data["criteria"],
            comment=data["comment"],
            expected_lock_version=data["lock_version"],
        )
    except ServiceError as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, f"已保存{inst}“{item.name}”的评分：{row.value} 分。")
    return redirect(_institution_url(evaluation, inst) + f"#item-{item.pk}")


@login_required
@require_POST
def override(request, pk, institution_id):
    user = request.user
    evaluation = selectors.get_evaluation(user, pk)
    inst = selectors.member_institution(user, evaluation, institution_id)
    try:
        data = _valid(OverrideForm, request)
        if data["clear"]:
            services.clear_override(actor=user, evaluation=evaluation, institution=inst)
            messages.success(request, f"已撤销{inst}评估结果的调整。")
        else:
            services.override_grade(
                actor=user,
                evaluation=evaluation,
                institution=inst,
                grade=data["grade"],
                reason=data["reason"],
            )
            messages.success(request, f"已调整{inst}的评估结果，理由将与结果一并展示。")
    except ServiceError as exc:
        show_refusal(request, exc)
    return redirect(_institution_url(evaluation, inst) + "#override")


# --- evidence (banks) -------------------------------------------------------------------------------------------


@login_required
def evidence(request, pk):
    user = request.user
    evaluation = selectors.get_evaluation(user, pk)
    if not user.is_bank:
        raise PermissionDenied("清单和公示材料由参评机构报送；人民银行经办请在评分页面查看。")
    inst = user.institution
    if not selectors.is_member(evaluation, inst):
        raise Http404("本机构未参加该评估。")
    if request.method == "POST":
        try:
            _post_evidence(request, evaluation, inst)
        except ServiceError as exc:
            show_refusal(request, exc)
        return redirect("evaluation:evidence", pk=evaluation.pk)
    return render(
        request,
        "evaluation/evidence.html",
        {
            "evaluation": evaluation,
            "institution": inst,
            "evidence": selectors.evidence_for(evaluation, inst),
            "disclosure": selectors.disclosure_for(evaluation, inst),
            "kinds": ListKind.choices,
            "can_file": selectors.can_file_evidence(user, evaluation, inst),
        },
    )


def _post_evidence(request, evaluation, inst) -> None:
    """POST: the disclosure saved, an item withdrawn, or a list / piece of evidence filed."""
    user = request.user
    chosen = _valid(EvidenceActionForm, request)["form"]
    if chosen == "disclosure":
        data = _valid(DisclosureForm, request)
        services.save_disclosure(
            actor=user,
            evaluation=evaluation,
            institution=inst,
            outlets=data["outlets"],
            outlets_disclosed=data["outlets_disclosed"],
            channels=data["channels"],
            expected_lock_version=data["lock_version"],
        )
        messages.success(request, "公示覆盖情况已保存。")
    elif chosen == "remove":
        data = _valid(RemoveEvidenceForm, request)
        item = get_object_or_404(Evidence, pk=data["evidence"], evaluation=evaluation, institution=inst)
        services.remove_evidence(actor=user, evidence=item)
        messages.success(request, "已撤回该材料。")
    else:
        data = _valid(EvidenceForm, request)
        file = data["file"]
        item = services.add_evidence(
            actor=user,
            evaluation=evaluation,
            institution=inst,
            kind=data["kind"],
            data=read_limited(file, settings.UPLOAD_MAX_BYTES).data if file else None,
            filename=file.name if file else "",
            link=data["link"],
            note=data["note"],
        )
        messages.success(request, f"已报送{item.get_kind_display()}。")


@login_required
@require_safe
def evidence_file(request, pk, evidence_id):
    evaluation = selectors.get_evaluation(request.user, pk)
    item = get_object_or_404(Evidence, pk=evidence_id, evaluation=evaluation)
    access.get_institution(request.user, item.institution_id)  # another bank's file is a 404
    if not item.file:
        raise Http404("该材料没有文件。")
    kind = item.file_type or "pdf"
    content_type = {
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }[kind]
    audit.record_download(
        request,
        what="evidence",
        name=f"{evaluation.title} 公示材料：{item.file_name}",
        obj=item,
        institution=item.institution,
    )
    response = FileResponse(
        item.file.open("rb"), content_type=content_type, as_attachment=kind != "pdf", filename=item.file_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- managing: 取数, publish, what-if -------------------------------------------------------------------------------


def _managed_action(request, pk, action):
    evaluation = selectors.get_evaluation(request.user, pk)
    try:
        target, note = action(evaluation)
    except ServiceError as exc:
        show_refusal(request, exc)
        return redirect(_detail(evaluation))
    messages.success(request, note)
    return redirect(target)


@login_required
@require_POST
def fetch(request, pk):
    def run(evaluation):
        counts = services.fetch_inputs(actor=request.user, evaluation=evaluation)
        note = f"已取数：{counts['values']} 个指标值"
        if counts["missing"]:
            note += f"，{counts['missing']} 个无数据（见下方待办）"
        return _detail(evaluation), note + "。"

    return _managed_action(request, pk, run)


@login_required
@require_POST
def publish(request, pk):
    def run(evaluation):
        replaced = evaluation.based_on
        services.publish(
            actor=request.user,
            evaluation=evaluation,
            expected_lock_version=_valid(PublishForm, request)["lock_version"],
        )
        note = f"已发布 {evaluation}，结果已锁定。"
        if replaced:
            note += f" 原发布的评估 #{replaced.pk} 已被取代。"
        return _detail(evaluation), note

    return _managed_action(request, pk, run)


@login_required
@require_POST
def copy(request, pk):
    def run(evaluation):
        draft = services.start_what_if(actor=request.user, evaluation=evaluation)
        return reverse(
            "evaluation:scheme", args=[draft.pk]
        ), "已复制为模拟测算草稿：调整分值、计分方法或评级线后保存，即可与已发布结果对比。"

    return _managed_action(request, pk, run)


@login_required
@require_POST
def discard(request, pk):
    def run(evaluation):
        base = evaluation.based_on
        services.discard_what_if(actor=request.user, evaluation=evaluation)
        return _detail(base), "已删除模拟测算草稿。"

    return _managed_action(request, pk, run)


@login_required
@require_safe
def what_if(request, pk):
    evaluation = selectors.get_evaluation(request.user, pk)
    if not evaluation.is_what_if or not access.is_pboc(request.user):
        raise Http404("这不是模拟测算草稿。")
    published, current, changes = selectors.what_if(evaluation)
    visible = visible_ids(request.user)
    changes = [c for c in changes if c.before and c.before.institution_id in visible]
    return render(
        request,
        "evaluation/what_if.html",
        {
            "evaluation": evaluation,
            "published": published,
            "current": current,
            "changes": changes,
            "can_manage": selectors.can_manage(request.user, evaluation),
            "grade_changes": sum(1 for c in changes if c.grade_changed),
            "rank_changes": sum(1 for c in changes if c.rank_changed),
            "items_before": selectors.items_of(evaluation.based_on),
            "items_after": current.items,
            "method_labels": scoring.METHOD_LABELS,
        },
    )


# --- downloads ------------------------------------------------------------------------------------------------------


def _table_for_download(request, pk):
    evaluation = selectors.get_evaluation(request.user, pk)
    if not access.is_pboc(request.user):
        raise PermissionDenied("评估结果表仅供人民银行使用；参评机构可下载本机构的评估报告。")
    table = selectors.visible_rows(request.user, selectors.results(evaluation))
    if not table.ok:
        messages.error(request, "评估尚不能计算，无法导出：" + "；".join(table.problems[:5]))
        return evaluation, None
    return evaluation, table


def _stem(evaluation) -> str:
    suffix = (
        ""
        if evaluation.status == Status.PUBLISHED
        else f"（{evaluation.get_status_display()}#{evaluation.pk}）"
    )
    return f"{evaluation.title}结果{suffix}"


@login_required
@require_safe
def results_xlsx(request, pk):
    evaluation, table = _table_for_download(request, pk)
    if table is None:
        return redirect(_detail(evaluation))
    audit.record_download(
        request, what="evaluation_results", name=f"{_stem(evaluation)}（附件1 Excel）", obj=evaluation
    )
    return _attachment(excel.result_workbook(table), XLSX, _stem(evaluation) + ".xlsx")


@login_required
@require_safe
def results_pdf(request, pk):
    evaluation, table = _table_for_download(request, pk)
    if table is None:
        return redirect(_detail(evaluation))
    data = pdf.result_table_pdf(table, generated_at=timezone.now())
    audit.record_download(
        request, what="evaluation_results", name=f"{_stem(evaluation)}（附件1 PDF）", obj=evaluation
    )
    return _attachment(data, "application/pdf", _stem(evaluation) + ".pdf")


@login_required
@require_safe
def card_pdf(request, pk, institution_id):
    """A bank gets its own card once the evaluation is published; PBoC users any institution they follow."""
    evaluation = selectors.get_evaluation(request.user, pk)
    inst = selectors.member_institution(request.user, evaluation, institution_id)
    if not selectors.can_see_card(request.user, evaluation, inst):
        raise Http404("评估结果发布后方可下载评估报告。")
    table = selectors.results(evaluation)
    if not table.ok:
        messages.error(request, "评估尚不能计算：" + "；".join(table.problems[:5]))
        return redirect(_detail(evaluation))
    card = pages.report_card(evaluation, inst, table)
    audit.record_download(
        request,
        what="report_cards",
        name=f"{evaluation.title} {inst.short_name} 评估报告",
        obj=evaluation,
        institution=inst,
    )
    return _attachment(
        pdf.report_card_pdf(card, generated_at=timezone.now()),
        "application/pdf",
        services.card_filename(evaluation, inst),
    )


@login_required
@require_POST
def cards(request, pk):
    def run(evaluation):
        job = services.request_report_cards(actor=request.user, evaluation=evaluation)
        return reverse("evaluation:job", args=[evaluation.pk, job.pk]), "已开始生成全部评估报告。"

    return _managed_action(request, pk, run)


def _job(request, pk, job_id) -> ReportJob:
    evaluation = selectors.get_evaluation(request.user, pk)
    return get_object_or_404(ReportJob, pk=job_id, evaluation=evaluation, created_by=request.user)


@login_required
@require_safe
def job(request, pk, job_id):
    j = _job(request, pk, job_id)
    return render(
        request,
        "evaluation/job.html",
        {"job": j, "progress": jobs.Progress.of(j), "evaluation": j.evaluation},
    )


@login_required
@require_safe
def job_status(request, pk, job_id):
    j = _job(request, pk, job_id)
    return jobs.status_json(j, download=reverse("evaluation:job_download", args=[pk, j.pk]) if j.file else "")


@login_required
@require_safe
def job_download(request, pk, job_id):
    j = _job(request, pk, job_id)
    if j.status != ReportJob.Status.DONE or not j.file:
        raise Http404("压缩包尚未生成。")
    audit.record_download(
        request, what="report_cards", name=f"{j.evaluation.title} 全部机构评估报告（压缩包）", obj=j
    )
    return FileResponse(
        j.file.open("rb"),
        content_type="application/zip",
        as_attachment=True,
        filename=f"{j.evaluation.title}报告（全部机构）.zip",
    )
