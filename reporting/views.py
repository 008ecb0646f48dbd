"""Pages for filers, signers and officers. No business logic here: reads go through selectors, every
change through reporting.services; access through institutions.access."""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST, require_safe

from audit import services as audit
from institutions import access
from institutions.models import EvaluationGroup
from institutions.selectors import visible_in_order
from portal import jobs
from portal.errors import ServiceError, show_refusal

from . import bulk, excel, parsing, rules, selectors, services
from .definitions import Layout, definition_for
from .forms import (
    BulkApproveForm,
    BulkImportForm,
    DocumentForm,
    ImportDecisionForm,
    LockVersionForm,
    ReopenForm,
    ReturnForm,
    SheetForm,
    SubmitForm,
    UrgeForm,
    WorkbookForm,
    first_error,
)
from .models import FilingStatus, FilingVersion, Form, ImportJob, Period, VersionSource

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet_url(filing_or_institution, period=None) -> str:
    if period is None:
        filing = filing_or_institution
        return reverse("reporting:sheet", args=[filing.institution_id, filing.period_id])
    return reverse("reporting:sheet", args=[filing_or_institution.pk, period.pk])


def _resolve(request, institution_id, period_id):
    institution = access.get_institution(request.user, institution_id)
    period = get_object_or_404(Period, pk=period_id)
    return institution, period, selectors.filing_of(institution, period)


def _valid(form_class, request, **kwargs) -> dict:
    """The action's input, checked: a refusal is the form's first message, shown as a service's would be."""
    form = form_class(request.POST, request.FILES, **kwargs)
    if not form.is_valid():
        raise ServiceError(first_error(form))
    return form.cleaned_data


@login_required
@require_safe
def filing_list(request):
    status = request.GET.get("status", "")
    filings = selectors.filing_list(request.user, status=status if status in FilingStatus.values else "")
    return render(
        request,
        "reporting/list.html",
        {"filings": filings[:300], "statuses": FilingStatus.choices, "status": status},
    )


@login_required
def sheet(request, institution_id, period_id):
    """A return: the bank's form (附件4), grid (附件3, 附件2) or document, its findings and actions; the
    officer's review."""
    institution, period, filing = _resolve(request, institution_id, period_id)
    definition = definition_for(period.form, period.year)
    posted = None
    if request.method == "POST" and definition.layout != Layout.DOCUMENT:
        posted = _save_sheet(request, institution, period, definition)
        if posted is None:
            return redirect(_sheet_url(institution, period))
    return _show_sheet(request, institution, period, filing, definition, posted)


def _save_sheet(request, institution, period, definition) -> dict | None:
    """POST: the typed values stored as a new version (None), or, refused, the values to show again."""
    form = SheetForm(request.POST, definition=definition)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return {code: form.cleaned_data.get(code, form.data.get(code, "")) for code in definition.codes}
    data = form.cleaned_data
    try:
        version = services.save_version(
            institution=institution,
            period=period,
            actor=request.user,
            raw=data["raw"],
            source=VersionSource.WEB,
            explanations=data["explanations"],
            expected_lock_version=data["expected_lock_version"],
        )
    except ServiceError as exc:
        show_refusal(request, exc)
        return data["raw"]
    messages.success(
        request,
        f"已保存第 {version.number} 版：错误 {version.error_count} 个，预警 {version.warning_count} 条。",
    )
    return None


def _shown_values(version, definition, findings) -> dict:
    """The current version's values; what the filer typed and the portal could not read ("11万") stays in
    its box beside the message."""
    values = parsing.values_from_json(version.values, definition) if version else {}
    typed = {f.field: f.typed for f in findings if f.typed}
    return {**values, **{code: text for code, text in typed.items() if values.get(code) is None}}


def _sheet_rows(institution, period, definition, values, posted, by_field, returned) -> list:
    """The form's groups of fields, each field with its value, last month's and last year's, its findings
    and the officer's comment."""
    previous, last_year = (
        selectors.neighbour_values(institution, period) if period.form == Form.MONITORING else (None, None)
    )
    comments = (returned.field_comments or {}) if returned else {}
    return [
        (
            group,
            [
                {
                    "fd": fd,
                    "label": fd.label_for(period.month),
                    "value": (posted or {}).get(fd.code, values.get(fd.code)),
                    "previous": (previous or {}).get(fd.code),
                    "last_year": (last_year or {}).get(fd.code),
                    "findings": by_field.get(fd.code, []),
                    "comment": comments.get(fd.code),
                }
                for fd in fields
            ],
        )
        for group, fields in definition.groups()
    ]


def _show_sheet(request, institution, period, filing, definition, posted):
    """GET (or a refused POST): the return as it stands, with what was typed if the save was refused."""
    user = request.user
    version = filing.current_version if filing else None
    findings = [rules.Finding.from_dict(d) for d in (version.findings if version else [])]
    values = _shown_values(version, definition, findings)
    by_field: dict[str, list] = {}
    for f in findings:
        by_field.setdefault(f.field or "*", []).append(f)
    returned = selectors.open_return(filing)  # stands until the next submission, across the filer's saves
    status = filing.status if filing else None
    context = {
        "institution": institution,
        "period": period,
        "filing": filing,
        "version": version,
        "definition": definition,
        "rows": _sheet_rows(institution, period, definition, values, posted, by_field, returned),
        "findings": findings,
        "errors": [f for f in findings if f.is_error],
        "warnings": [f for f in findings if f.severity == "warning"],
        "sheet_findings": by_field.get("*", []),
        "explanations": version.explanations if version else {},
        "carried": _carried(version),
        "live_checks": _live_checks(definition),
        "editable": access.can_prepare(user, institution) and not (filing and filing.is_locked),
        "can_submit": access.can_submit(user, institution) and status == FilingStatus.DRAFT,
        "can_review": access.can_review(user, institution),
        "returned": returned,
        "attestation": services.attestation_text(user) if access.can_submit(user, institution) else "",
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        "is_document": definition.layout == Layout.DOCUMENT,
        "template_label": TEMPLATE_LABELS.get(period.form, ""),
    }
    if definition.layout == Layout.TABLE:
        context["columns"], context["grid"] = _grid(definition, {**values, **(posted or {})}, by_field)
        return render(request, "reporting/table.html", context)
    if definition.layout == Layout.DOCUMENT:
        context["versions"] = selectors.versions_of(filing, newest_first=True)
        return render(request, "reporting/document.html", context)
    return render(request, "reporting/sheet.html", context)


def _live_checks(definition) -> list[dict]:
    """The part-within-whole rules (E2xx) of this edition, for the form's script to check while typing."""
    return [
        {"rule": r.id, "part": r.fields[0], "whole": r.fields[1], "text": r.description}
        for r in rules.RULES
        if r.scope == rules.Scope.CROSS_FIELD and r.id.startswith("E2") and r.applies(definition)
    ]


def _carried(version) -> set[str]:
    """Warning keys whose explanation a workbook upload took over unchanged from the version before."""
    if (
        version is None
        or version.source not in (VersionSource.EXCEL, VersionSource.BULK)
        or version.number < 2
    ):
        return set()
    before = selectors.explanations_before(version)
    return {key for key, text in version.explanations.items() if before.get(key) == text}


TEMPLATE_LABELS = {Form.MONITORING: "下载本月模板（附件4 格式）", Form.PLAN: "下载计划表模板（附件3 格式）"}


def _grid(definition, values: dict, by_field: dict):
    """附件3 / 附件2 as printed: input columns and computed columns in their sheet order, the total row
    computed, each input cell with its findings."""
    columns = sorted(
        [("input", c) for c in definition.columns] + [("computed", c) for c in definition.computed],
        key=lambda pair: pair[1].column,
    )
    grid = []
    for row in definition.rows:
        cells = []
        for kind, column in columns:
            code = f"{row.code}.{column.code}"
            if kind == "computed":
                cells.append({"kind": "computed", "code": code, "value": values.get(code), "column": column})
            elif row.code == definition.total_row:
                cells.append({"kind": "total", "code": code, "value": values.get(code), "column": column})
            else:
                found = by_field.get(code, [])
                severity = "error" if any(f.is_error for f in found) else ("warning" if found else "")
                cells.append(
                    {
                        "kind": "input",
                        "code": code,
                        "value": values.get(code),
                        "column": column,
                        "flag": severity,
                    }
                )
        grid.append({"row": row, "cells": cells, "is_total": row.code == definition.total_row})
    return columns, grid


@login_required
@require_safe
def template_download(request, institution_id, period_id):
    institution, period, filing = _resolve(request, institution_id, period_id)
    definition = definition_for(period.form, period.year)
    values = (
        parsing.values_from_json(filing.current_version.values, definition)
        if filing and filing.current_version
        else None
    )
    filer, phone = selectors.template_contact(institution, request.user)  # 填报人 / 联系方式 from 附件2
    if period.form == Form.PLAN:
        data = excel.plan_template(
            definition, institution_name=institution.short_name, values=values, filer=filer, phone=phone
        )
        name = f"{institution.short_name}{period.year}年普惠小微贷款投放计划表.xlsx"
    elif period.form == Form.MONITORING:
        data = excel.monitoring_template(
            definition,
            institution_name=institution.short_name,
            year=period.year,
            month=period.month,
            values=values,
            filer=filer,
            phone=phone,
        )
        name = f"{institution.short_name}{period.year}年{period.month}月监测表.xlsx"
    else:
        raise Http404("该报表没有 Excel 模板。")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    return response


def _quote(name: str) -> str:
    return quote(name)


@login_required
@require_POST
def upload(request, institution_id, period_id):
    """A bank's filled-in template (.xlsx) read back into a new version of its return."""
    institution, period, _filing = _resolve(request, institution_id, period_id)
    if not access.can_prepare(request.user, institution):
        return render(
            request, "errors/403.html", {"message": "只有本机构的填报人或分管领导可以上传。"}, status=403
        )
    form = WorkbookForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(_sheet_url(institution, period))
    file = form.cleaned_data["file"]
    received = services.read_limited(file, settings.UPLOAD_MAX_BYTES)
    try:
        version = services.save_workbook(
            institution=institution,
            period=period,
            actor=request.user,
            data=received.data,
            filename=file.name,
            sha256=received.sha256,
            size=received.size,
        )
    except ServiceError as exc:
        messages.error(request, f"上传失败：{exc.message}")
    else:
        messages.success(
            request,
            f"已读取文件并保存第 {version.number} 版：错误 {version.error_count} 个，预警 {version.warning_count} 条。",
        )
        for note in version.reading_notes:
            messages.info(request, f"读取说明：{note}")
    return redirect(_sheet_url(institution, period))


def _act(request, institution_id, period_id, action, capability):
    institution, period, filing = _resolve(request, institution_id, period_id)
    access.require_capability(request.user, institution, capability)  # 403 before any message about the form
    if filing is None:
        messages.error(request, "该机构本期尚未填报。")
        return redirect(_sheet_url(institution, period))
    try:
        note = action(filing)
    except ServiceError as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, note)
    return redirect(_sheet_url(institution, period))


@login_required
@require_POST
def submit(request, institution_id, period_id):
    def run(filing):
        data = _valid(SubmitForm, request)
        version = services.submit(
            filing=filing,
            actor=request.user,
            confirm=data["confirm"],
            expected_lock_version=data["lock_version"],
        )
        return f"已提交，回执编号 {version.receipt_no}。"

    return _act(request, institution_id, period_id, run, access.SUBMIT)


@login_required
@require_POST
def approve(request, institution_id, period_id):
    def run(filing):
        data = _valid(LockVersionForm, request)
        services.approve(
            filing=filing,
            actor=request.user,
            expected_lock_version=data["lock_version"],
        )
        return f"{filing} 已审核通过。"

    return _act(request, institution_id, period_id, run, access.REVIEW)


@login_required
@require_POST
def return_view(request, institution_id, period_id):
    def run(filing):
        data = _valid(ReturnForm, request)
        services.return_filing(
            filing=filing,
            actor=request.user,
            reason=data["reason"],
            field_comments=data["field_comments"],
            expected_lock_version=data["lock_version"],
        )
        return f"{filing} 已退回。"

    return _act(request, institution_id, period_id, run, access.REVIEW)


@login_required
@require_POST
def reopen(request, institution_id, period_id):
    def run(filing):
        data = _valid(ReopenForm, request)
        services.reopen(
            filing=filing,
            actor=request.user,
            reason=data["reason"],
            expected_lock_version=data["lock_version"],
        )
        return f"{filing} 已重新打开，等待机构更正。"

    return _act(request, institution_id, period_id, run, access.REVIEW)


@login_required
@require_safe
def findings_download(request, institution_id, period_id):
    institution, period, filing = _resolve(request, institution_id, period_id)
    version = filing.current_version if filing else None
    rows = [
        {**d, "institution": institution.short_name, "period": period.label}
        for d in (version.findings if version else [])
    ]
    definition = definition_for(period.form, period.year)
    data = excel.findings_report(f"{institution.short_name} {period} 校验结果", rows, definition=definition)
    audit.record_download(
        request,
        what="findings",
        name=f"{institution.short_name} {period} 校验结果",
        obj=filing,
        institution=institution,
    )
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{_quote(f'{institution.short_name}{period}校验结果.xlsx')}"
    )
    return response


@login_required
@require_safe
def history(request, institution_id, period_id):
    institution, period, filing = _resolve(request, institution_id, period_id)
    definition = definition_for(period.form, period.year)
    versions = selectors.versions_of(filing)
    numbers = [v.number for v in versions]

    def pick(name, default):
        raw = request.GET.get(name, "")
        return int(raw) if raw.isdigit() and int(raw) in numbers else default

    b = pick("b", numbers[-1] if numbers else None)
    a = pick("a", numbers[-2] if len(numbers) > 1 else b)
    by_number = {v.number: v for v in versions}
    diff = []
    if a and b:
        va, vb = by_number[a].values, by_number[b].values
        for fd in definition.fields:
            diff.append(
                {
                    "label": fd.label_for(period.month),
                    "unit": fd.unit,
                    "a": va.get(fd.code),
                    "b": vb.get(fd.code),
                    "changed": va.get(fd.code) != vb.get(fd.code),
                }
            )
    transitions = selectors.transitions_of(filing)
    for t in transitions:  # an officer's comments under the fields' names, not their codes
        t.labelled_comments = [
            (definition.field(code).label_for(period.month) if code in definition.codes else code, text)
            for code, text in (t.field_comments or {}).items()
        ]
    return render(
        request,
        "reporting/history.html",
        {
            "institution": institution,
            "period": period,
            "filing": filing,
            "versions": versions,
            "a": a,
            "b": b,
            "diff": diff,
            "transitions": transitions,
        },
    )


@login_required
@require_safe
def matrix(request):
    access.require(access.is_pboc(request.user), "状态矩阵仅供人民银行经办和管理员使用。")
    all_periods = selectors.recent_periods(limit=36)
    shown = _matrix_filters(request.GET)
    periods = list(reversed(all_periods[: shown["months"]]))
    rows = selectors.status_matrix(request.user, periods, group=shown["group"], status=shown["status"])
    if shown["sort"] == "late":
        rows.sort(key=lambda r: -r["late"])
    elif shown["sort"] == "name":
        rows.sort(key=lambda r: r["institution"].short_name)
    focus = _matrix_focus(request.GET.get("period", ""), all_periods, periods)
    overdue, clean = _overdue_and_clean(request.user, focus)
    annual_periods = selectors.annual_periods(request.GET.get("year", ""))
    annual_rows = (
        selectors.status_matrix(request.user, annual_periods, group=shown["group"], status=shown["status"])
        if annual_periods
        else []
    )
    return render(
        request,
        "reporting/matrix.html",
        {
            **shown,
            "periods": periods,
            "rows": rows,
            "groups": EvaluationGroup.choices,
            "statuses": [(selectors.NOT_FILED, "未填报"), *FilingStatus.choices],
            "focus": focus,
            "overdue": overdue,
            "clean": clean,
            "annual_periods": annual_periods,
            "annual_rows": annual_rows,
        },
    )


def _matrix_filters(query) -> dict:
    """?months=&group=&status=&sort= as the matrix shows them: anything unknown means no filter."""
    try:
        months = max(1, min(36, int(query.get("months", "6"))))
    except ValueError:
        months = 6
    group = query.get("group", "")
    status = query.get("status", "")
    return {
        "months": months,
        "group": group if group in EvaluationGroup.values else "",
        "status": status if status in {selectors.NOT_FILED, *FilingStatus.values} else "",
        "sort": query.get("sort", ""),
    }


def _matrix_focus(focus_id: str, all_periods, periods):
    """The month whose overdue and clean sheets are listed: ?period=, else the latest shown."""
    focus = None
    if focus_id.isdigit():
        focus = next((p for p in all_periods if p.pk == int(focus_id)), None)
    return focus or (periods[-1] if periods else None)


def _overdue_and_clean(user, focus) -> tuple[list, list]:
    """The focus month's institutions overdue (not filed, draft or returned after the deadline) and its
    submitted sheets without findings (approvable in one step)."""
    overdue, clean = [], []
    if focus is None:
        return overdue, clean
    for r in selectors.status_matrix(user, [focus]):
        f = r["cells"][0][1]
        if (f is None or f.status in {FilingStatus.DRAFT, FilingStatus.RETURNED}) and focus.is_overdue():
            overdue.append((r["institution"], f))
        if f and f.status == FilingStatus.SUBMITTED and f.current_version and not f.current_version.findings:
            clean.append(f)
    return overdue, clean


@login_required
@require_POST
def bulk_approve(request):
    access.require(access.is_pboc(request.user), "只有人民银行经办可以批量审核。")
    form = BulkApproveForm(request.POST)
    form.is_valid()  # nothing in it can be refused: unreadable ids are left out
    data = form.cleaned_data
    filings = selectors.filings_chosen(request.user, data["filing"])
    result = services.bulk_approve(filings=filings, actor=request.user)
    messages.success(
        request,
        f"批量审核通过 {result['approved']} 张，跳过 {result['skipped']} 张（有预警或状态已变化的需逐张审核）。",
    )
    return redirect(data["next"] or reverse("reporting:matrix"))


@login_required
def bulk_import(request):
    """The officer's bulk import: GET the page and the latest jobs; POST a workbook (.xlsx) to preview."""
    access.require(access.is_pboc(request.user), "只有人民银行经办或管理员可以批量导入。")
    if request.method == "POST":
        job = _start_import(request)
        if job is not None:
            return redirect("reporting:job", job_id=job.pk)
    jobs = selectors.import_jobs_for(request.user)
    return render(
        request, "reporting/bulk_import.html", {"jobs": jobs, "max_mb": settings.UPLOAD_MAX_BYTES // 1048576}
    )


def _start_import(request) -> ImportJob | None:
    """POST: the workbook read for a preview (a job), or the page again with the reason it was refused."""
    form = BulkImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return None
    file = form.cleaned_data["file"]
    received = services.read_limited(file, settings.UPLOAD_MAX_BYTES)
    try:
        return services.start_import(
            actor=request.user,
            data=received.data,
            filename=file.name,
            size=received.size,
            sha256=received.sha256,
        )
    except ServiceError as exc:
        show_refusal(request, exc)
        return None


@login_required
@require_safe
def bulk_template_download(request):
    access.require(access.is_pboc(request.user), "只有人民银行经办或管理员可以批量导入。")
    period = selectors.recent_periods(limit=1)
    rows = []
    if period:
        p = period[0]
        rows = [
            {
                "institution_code": i.code,
                "institution_name": i.short_name,
                "year": p.year,
                "month": p.month,
                "values": {},
            }
            for i in visible_in_order(request.user)
        ]
    data = excel.bulk_template(definition_for(Form.MONITORING, period[0].year if period else 2022), rows)
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote('监测表批量导入模板.xlsx')}"
    return response


def _job_for(request, job_id) -> ImportJob:
    return get_object_or_404(ImportJob, pk=job_id, created_by=request.user)


@login_required
@require_safe
def job(request, job_id):
    j = _job_for(request, job_id)
    context = {"job": j, "progress": jobs.Progress.of(j)}
    if j.status == ImportJob.Status.READY:
        lines = j.result.get("preview") or []
        by = {c: [line for line in lines if line["category"] == c] for c in bulk.CATEGORY_LABELS}
        context.update(
            {
                "categories": [(c, label, len(by[c])) for c, label in bulk.CATEGORY_LABELS.items()],
                "to_decide": by[bulk.REPLACES_DRAFT] + by[bulk.REPLACES_RETURNED],
                "new_rows": by[bulk.NEW],
                "left_out": by[bulk.HAS_ERRORS] + by[bulk.SKIPPED],
                "labels": bulk.CATEGORY_LABELS,
            }
        )
    return render(request, "reporting/job.html", context)


@login_required
@require_POST
def job_confirm(request, job_id):
    """The officer's decision on a preview: which banks' own sheets to replace, why, and whether to approve."""
    j = _job_for(request, job_id)
    try:
        data = _valid(ImportDecisionForm, request)
        services.confirm_import(
            job=j,
            actor=request.user,
            replace=data["replace"],
            reason=data["reason"],
            approve=data["approve"],
        )
    except ServiceError as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, "已确认，正在导入。")
    return redirect("reporting:job", job_id=j.pk)


@login_required
@require_POST
def urge(request, period_id):
    """催报: e-mail every institution of the officer's jurisdiction that has not submitted this return."""
    access.require(access.is_pboc(request.user), "只有人民银行经办或管理员可以催报。")
    period = get_object_or_404(Period, pk=period_id)
    try:
        pending = services.urge(period=period, actor=request.user)
    except ServiceError as exc:
        show_refusal(request, exc)
    else:
        names = "、".join(i.short_name for i in pending[:8]) + (" 等" if len(pending) > 8 else "")
        messages.success(request, f"已向 {len(pending)} 家机构发出催报（{names}），抄送您本人。")
    form = UrgeForm(request.POST)
    form.is_valid()  # a "next" that leaves the portal is dropped, not refused
    return redirect(form.cleaned_data["next"] or "reporting:reminders")


@login_required
@require_safe
def reminders(request):
    """Every reminder, overdue notice and 催报 sent to the institutions the officer follows."""
    access.require(access.is_pboc(request.user), "催报记录仅供人民银行经办和管理员查看。")
    sent = selectors.reminders_for(request.user, period_id=request.GET.get("period", ""))
    return render(
        request,
        "reporting/reminders.html",
        {
            "reminders": sent[:500],
            "count": len(sent),
            "periods": selectors.recent_periods(limit=24),
            "period_id": request.GET.get("period", ""),
        },
    )


@login_required
@require_POST
def job_preview_again(request, job_id):
    j = _job_for(request, job_id)
    try:
        services.preview_again(job=j, actor=request.user)
    except ServiceError as exc:
        show_refusal(request, exc)
    return redirect("reporting:job", job_id=j.pk)


@login_required
@require_safe
def job_status(request, job_id):
    j = _job_for(request, job_id)
    result = j.result or {}
    return jobs.status_json(
        j,
        stored=result.get("stored", 0),
        rejected=len(result.get("rejected", [])),
        skipped=len(result.get("skipped", [])),
    )


@login_required
@require_POST
def document_upload(request, institution_id, period_id):
    institution, period, _filing = _resolve(request, institution_id, period_id)
    access.require_capability(request.user, institution, access.PREPARE)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect(_sheet_url(institution, period))
    file = form.cleaned_data["file"]
    received = services.read_limited(file, settings.UPLOAD_MAX_BYTES)
    try:
        version = services.save_document(
            institution=institution,
            period=period,
            actor=request.user,
            data=received.data,
            filename=file.name,
            sha256=received.sha256,
            size=received.size,
            expected_lock_version=form.cleaned_data["lock_version"],
        )
    except ServiceError as exc:
        messages.error(request, f"上传失败：{exc.message}")
    else:
        messages.success(request, f"已上传第 {version.number} 版文件：{version.upload_name}")
    return redirect(_sheet_url(institution, period))


@xframe_options_sameorigin
@login_required
@require_safe
def document_download(request, institution_id, period_id, number):
    """A version's file: PDFs open in the browser (preview), DOCX downloads."""
    _institution, _period, filing = _resolve(request, institution_id, period_id)
    version = get_object_or_404(FilingVersion, filing=filing, number=number)
    if not version.upload:
        raise Http404("该版本没有文件。")
    kind = "pdf" if version.upload.name.endswith(".pdf") else "docx"  # stored under the checked type
    content_type, extension = services.DOCUMENT_TYPES[kind]
    stem = (version.upload_name or "文件").rsplit(".", 1)[0]
    audit.record_download(
        request,
        what="documents",
        name=f"{_institution.short_name} {_period} 第 {version.number} 版文件：{version.upload_name}",
        obj=version,
        institution=_institution,
    )
    response = FileResponse(
        version.upload.open("rb"),
        content_type=content_type,
        as_attachment=kind != "pdf",
        filename=stem + extension,
    )
    # Content was checked on upload (no scripts, launch actions or embedded files in PDFs); nosniff keeps
    # the browser from guessing another type.
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_safe
def contacts_export(request):
    """Every institution's 附件2 contacts in the officer's jurisdiction, as one workbook: the latest filed
    version of each institution's contacts return."""
    access.require(access.is_pboc(request.user), "联系人汇总仅供人民银行经办和管理员使用。")
    rows = []
    for filing in selectors.latest_contacts(request.user):
        definition = definition_for(filing.period.form, filing.period.year)
        rows.append(
            (
                filing.institution.short_name,
                parsing.values_from_json(filing.current_version.values, definition),
            )
        )
    audit.record_download(request, what="contacts", name=f"联系人汇总（{len(rows)} 家机构，含姓名和手机）")
    response = HttpResponse(excel.contacts_workbook(rows), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote('专项行动联系人汇总.xlsx')}"
    return response
