"""Indicator pages: the officer's dashboard, one institution's indicators (the bank's own page too), the
drill-down of any number, the supervision log and the Excel exports. Contexts built by indicators.pages
from the reads of selectors, writes through services, access through institutions.access."""

from datetime import date
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from audit.services import record_download
from institutions import access
from institutions.selectors import visible_in_order
from portal import jobs
from portal.errors import Forbidden, ServiceError
from reporting.forms import first_error

from . import dashcache, excel, pages, selectors, services
from . import indicators as ind
from .forms import FollowUpForm, RefreshForm, SupervisionForm
from .models import RefreshRun, ScopeKind, SupervisionKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(request) -> tuple[int | None, int | None]:
    """?period=2022-06 (or year= & month=); anything unreadable means "the default month"."""
    raw = request.GET.get("period", "")
    try:
        if raw:
            year, month = (int(x) for x in raw.split("-"))
        else:
            year, month = int(request.GET["year"]), int(request.GET["month"])
    except (KeyError, ValueError):
        return None, None
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None, None
    return year, month


def _live(request) -> bool:
    """含未审核数据: PBoC users only."""
    return request.GET.get("live") == "1" and access.is_pboc(request.user)


def _download(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def _filing_rates(user, year: int) -> dict:
    """The year's filing rates, kept until the next filing change (dashcache.FILINGS) and the next midnight,
    when open months' 报送中 badges turn."""
    jurisdiction = access.jurisdiction_key(user)
    if jurisdiction is None:
        return pages.dashboard_filing_rates(user, year)
    day = timezone.localdate().isoformat()
    return dashcache.remember(
        ("rates", jurisdiction, year, day),
        lambda: pages.dashboard_filing_rates(user, year),
        filings=True,
    )


def _marked_stale(body: str) -> str:
    """The previous body, served while another request computes the new one right after a refresh."""
    note = _("正在更新：以下为上一次计算的结果，稍后刷新页面即可看到最新数据。")
    return f'<p class="stale" id="stale-body">{escape(note)}</p>' + body


@login_required
@require_safe
def dashboard(request):
    user = request.user
    if user.is_bank:
        return redirect("indicators:institution", institution_id=user.institution_id)
    access.require(access.is_pboc(user), "只有人民银行用户可以查看监测指标总览。")
    year, month = _month(request)
    head = pages.dashboard_head(
        user,
        year=year,
        month=month,
        live=_live(request),
        rank_code=request.GET.get("rank", ""),
        memo=dashcache.remember,
    )
    if head["empty"]:
        return render(request, "indicators/dashboard.html", head)

    def render_body() -> str:
        return render_to_string(
            "indicators/_dashboard_body.html", head | pages.dashboard_body(user, head), request
        )

    # the body is the same for everyone of the jurisdiction: rendered once, then served from the cache
    # (live figures, computed from unapproved sheets, never are)
    jurisdiction = access.jurisdiction_key(user)
    if head["live"] or jurisdiction is None:
        body = render_body()
    else:
        period = f"{head['year']}-{head['month']:02d}"
        day = timezone.localdate().isoformat()
        body = dashcache.remember(
            ("body", jurisdiction, period, head["rank_code"], get_language(), day),
            render_body,
            stale=_marked_stale,
        )
    rates = _filing_rates(user, head["year"])
    context = head | rates | {"body": mark_safe(body)}
    return render(request, "indicators/dashboard.html", context)


@login_required
@require_safe
def institution(request, institution_id):
    inst = access.get_institution(request.user, institution_id)
    year, month = _month(request)
    context = pages.institution_page(request.user, inst, year=year, month=month, live=_live(request))
    context["is_officer"] = access.can_review(request.user, inst)
    if context["is_officer"]:
        context["supervision"] = list(selectors.supervision_for(request.user, [inst.pk])[:20])
        context["kinds"] = SupervisionKind.choices
        context["today"] = date.today()
    return render(request, "indicators/institution.html", context)


@login_required
@require_safe
def explain(request):
    """Any number taken apart: formula, components and the source sheets (version, field) behind it."""
    user = request.user
    scope_kind = request.GET.get("scope", "")
    scope_key = request.GET.get("key", "")
    code = request.GET.get("code", "")
    year, month = _month(request)
    if scope_kind not in ScopeKind.values or code not in ind.REGISTRY or year is None:
        raise Http404("未找到该指标。")
    if scope_kind == ScopeKind.INSTITUTION:
        access.get_institution(user, scope_key)  # 404 outside the user's institutions
    elif not access.is_pboc(user):
        raise PermissionDenied("汇总指标的明细只对人民银行用户开放。")
    if not selectors.scope_members(scope_kind, scope_key):
        raise Http404("未找到该范围。")
    context = pages.explain(
        user,
        scope_kind=scope_kind,
        scope_key=scope_key,
        year=year,
        month=month,
        code=code,
        live=_live(request),
    )
    return render(request, "indicators/explain.html", context)


@login_required
@require_POST
def refresh(request):
    try:
        run = services.request_refresh(trigger="manual", actor=request.user)
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None
    messages.success(request, f"已提交刷新任务 #{run.pk}，完成后页面上的“数据截至”会更新。")
    form = RefreshForm(request.POST)
    form.is_valid()  # only where to go back to: nothing to refuse
    return redirect(form.cleaned_data["next"] or reverse("indicators:dashboard"))


def _refresh_run(request, run_id) -> RefreshRun:
    """A refresh recomputes everyone's stored values, whoever asked for it: PBoC users follow any run."""
    access.require(access.is_pboc(request.user), "只有人民银行用户可以查看指标刷新任务。")
    return get_object_or_404(RefreshRun, pk=run_id)


@login_required
@require_safe
def refresh_run(request, run_id):
    """One refresh of the stored indicators, followed until it ends (static/js/job.js)."""
    run = _refresh_run(request, run_id)
    return render(request, "indicators/refresh_run.html", {"run": run, "progress": jobs.Progress.of(run)})


@login_required
@require_safe
def refresh_status(request, run_id):
    return jobs.status_json(_refresh_run(request, run_id))


@login_required
def supervision(request):
    """The supervision log of the user's jurisdiction; an officer records an action here."""
    access.require(access.is_pboc(request.user), "只有人民银行用户可以查看督导记录。")
    if request.method == "POST":
        form = SupervisionForm(request.POST)
        _record_supervision(request, form)
        return redirect(form.cleaned_data["next"] or reverse("indicators:supervision"))
    actions = selectors.supervision_for(request.user)[:300]
    institutions = visible_in_order(request.user)
    return render(
        request,
        "indicators/supervision.html",
        {
            "actions": actions,
            "institutions": institutions,
            "kinds": SupervisionKind.choices,
            "today": date.today(),
            "can_record": access.is_pboc(request.user) and institutions.exists(),
        },
    )


def _record_supervision(request, form) -> None:
    """POST: the supervision recorded, or the reason it was refused (the institution first: 404 outside the
    jurisdiction)."""
    valid = form.is_valid()
    inst = access.get_institution(request.user, form.cleaned_data.get("institution"))
    if not valid:
        messages.error(request, first_error(form))
        return
    data = form.cleaned_data
    try:
        services.record_supervision(
            actor=request.user,
            institution=inst,
            kind=data["kind"],
            taken_on=data["taken_on"],
            reason=data["reason"],
            follow_up=data["follow_up"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已记录对{inst.short_name}的督导。")


@login_required
@require_POST
def follow_up(request, action_id):
    action = get_object_or_404(
        selectors.supervision_for(request.user), pk=action_id
    )  # outside the jurisdiction → 404
    form = FollowUpForm(request.POST)
    form.is_valid()  # the text as typed: the service judges it
    try:
        services.update_follow_up(
            actor=request.user,
            action=action,
            follow_up=form.cleaned_data["follow_up"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已更新后续跟进。")
    return redirect(form.cleaned_data["next"] or reverse("indicators:supervision"))


@login_required
@require_safe
def export_province(request):
    access.require(access.is_pboc(request.user), "只有人民银行用户可以导出汇总表。")
    year, month = _month(request)
    context = pages.dashboard(request.user, year=year, month=month, live=_live(request))
    if context["empty"]:
        raise Http404("尚无可导出的指标。")
    data = excel.province_summary(context)
    record_download(request, what="indicators", name=f"监测指标汇总 {context['year']}年{context['month']}月")
    return _download(data, f"监测指标汇总{context['year']}年{context['month']}月.xlsx")


@login_required
@require_safe
def table(request):
    """Per-institution indicator table of a month (the screen twin of the institutions export)."""
    year, month = _month(request)
    context = pages.institution_table(request.user, year=year, month=month, live=_live(request))
    return render(request, "indicators/table.html", context)


@login_required
@require_safe
def export_institutions(request):
    year, month = _month(request)
    table_context = pages.institution_table(request.user, year=year, month=month, live=_live(request))
    if table_context["empty"]:
        raise Http404("尚无可导出的指标。")
    data = excel.institution_table(table_context)
    record_download(
        request, what="indicators", name=f"机构监测指标 {table_context['year']}年{table_context['month']}月"
    )
    return _download(data, f"机构监测指标{table_context['year']}年{table_context['month']}月.xlsx")
