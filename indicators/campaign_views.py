"""The PBoC admin's page for next year's campaign: choose, preview, set up (indicators.campaigns)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse

from institutions import access
from portal import clock
from portal.errors import ServiceError
from reporting import selectors
from reporting.forms import first_error

from . import campaigns
from . import indicators as ind
from .forms import CampaignForm


@login_required
def campaign(request):
    """GET ?year=: the preview of what banks will be asked for; POST: set it up."""
    if not access.is_pboc_admin(request.user):
        raise PermissionDenied("只有人民银行管理员可以设置年度专项行动。")
    years = selectors.campaign_years()
    default_year = (max(years) + 1) if years else clock.today().year
    form = CampaignForm(
        request.POST if request.method == "POST" else request.GET,
        default_year=default_year,
        preview=request.method != "POST",
    )
    plan, error = _plan(form)
    if request.method == "POST" and plan is not None and error is None:
        error = _set_up(request, plan)
        if error is None:
            return redirect(f"{reverse('indicators:campaign')}?year={plan.year}")
    if error:
        messages.error(request, error)
    return _show(request, form, plan, years, default_year)


def _plan(form) -> tuple["campaigns.CampaignPlan | None", str | None]:
    """The preview of the typed campaign, or why there is none."""
    if not form.is_valid():
        return None, first_error(form)
    data = form.cleaned_data
    try:
        plan = campaigns.plan_campaign(
            year=data["year"],
            monthly_due_day=data["due_day"],
            annual_due_on=data["annual_due_on"],
            targets=data["targets"],
        )
    except ServiceError as exc:
        return None, exc.message
    return plan, None


def _set_up(request, plan) -> str | None:
    """POST: the year's periods and targets created; the reason if refused."""
    try:
        made = campaigns.set_up_campaign(actor=request.user, plan=plan)
    except ServiceError as exc:
        return exc.message
    messages.success(
        request,
        f"已设置 {plan.year} 年专项行动：新增报送期 {made['periods']} 个，全省目标 {made['targets']} 项。",
    )
    return None


def _show(request, form, plan, years, default_year):
    # what was typed, else the year's province targets already set (shown as typed: 25 for 25%)
    targets = {t.indicator: t.value for t in (plan.targets if plan else [])}
    if plan is not None:
        for t in campaigns.fixed_province_targets(plan.year):
            if t.indicator in campaigns.TARGET_CHOICES and not form.typed(f"target:{t.indicator}"):
                shown = t.value * 100 if ind.get(t.indicator).share else t.value
                targets.setdefault(t.indicator, f"{shown.normalize():f}")
    # the date as typed, or carried over to the previewed year
    annual_due_text = form.cleaned_data.get("annual_due_text") or form.typed("annual_due_on")
    return render(
        request,
        "indicators/campaign.html",
        {
            "plan": plan,
            "years": years,
            "year": form.typed("year", default_year),
            "due_day": form.typed("due_day", 15),
            "annual_due_on": annual_due_text or (plan.annual_due_on.isoformat() if plan else ""),
            "target_rows": [
                (code, ind.get(code), targets.get(code, form.typed(f"target:{code}")))
                for code in campaigns.TARGET_CHOICES
            ],
        },
    )
