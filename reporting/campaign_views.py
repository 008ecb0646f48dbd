"""The PBoC admin's page for next year's campaign: choose, preview, set up (reporting.campaigns)."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse

from indicators import indicators as ind
from indicators.models import Target, TargetScope
from institutions import access
from institutions.views import client_ip
from portal import clock

from . import campaigns
from .models import Period
from .services import ServiceError


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        raise ServiceError(f"日期“{text[:20]}”无效，请按 YYYY-MM-DD 填写。") from None


def _int(text, default: int) -> int:
    try:
        return int(str(text).strip()) if str(text or "").strip() else default
    except ValueError:
        raise ServiceError(f"“{str(text)[:10]}”不是整数。") from None


def _same_day_in(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


@login_required
def campaign(request):
    """GET ?year=: the preview of what banks will be asked for; POST: set it up."""
    if not access.is_pboc_admin(request.user):
        raise PermissionDenied("只有人民银行管理员可以设置年度专项行动。")
    data = request.POST if request.method == "POST" else request.GET
    years = sorted(set(Period.objects.values_list("year", flat=True)))
    default_year = (max(years) + 1) if years else clock.today().year
    plan, error = None, None
    annual_due_text = data.get("annual_due_on", "")
    try:
        year = _int(data.get("year"), default_year)
        annual_due_on = _date(annual_due_text)
        if request.method != "POST" and annual_due_on and annual_due_on.year != year:
            # previewing another year: the date in the field was the previous preview's, carried over to
            # the same day of this year (setting up still refuses a date outside the year)
            annual_due_on = _same_day_in(annual_due_on, year)
            annual_due_text = annual_due_on.isoformat()
        plan = campaigns.plan_campaign(
            year=year,
            monthly_due_day=_int(data.get("due_day"), 15),
            annual_due_on=annual_due_on,
            targets=campaigns.parse_targets(data),
        )
    except ServiceError as exc:
        error = exc.message
    if request.method == "POST" and plan is not None and error is None:
        try:
            made = campaigns.set_up_campaign(actor=request.user, plan=plan, ip=client_ip(request))
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"已设置 {plan.year} 年专项行动：新增报送期 {made['periods']} 个，全省目标 {made['targets']} 项。",
            )
            return redirect(f"{reverse('reporting:campaign')}?year={plan.year}")
    if error:
        messages.error(request, error)
    # what was typed, else the year's province targets already set (shown as typed: 25 for 25%)
    targets = {t.indicator: t.value for t in (plan.targets if plan else [])}
    if plan is not None:
        for t in Target.objects.filter(
            year=plan.year, scope=TargetScope.PROVINCE, basis="fixed", institution=None
        ):
            if t.indicator in campaigns.TARGET_CHOICES and not data.get(f"target:{t.indicator}"):
                shown = t.value * 100 if ind.get(t.indicator).share else t.value
                targets.setdefault(t.indicator, f"{shown.normalize():f}")
    return render(
        request,
        "reporting/campaign.html",
        {
            "plan": plan,
            "years": years,
            "year": data.get("year", default_year),
            "due_day": data.get("due_day", 15),
            "annual_due_on": annual_due_text or (plan.annual_due_on.isoformat() if plan else ""),
            "target_rows": [
                (code, ind.get(code), targets.get(code, data.get(f"target:{code}", "")))
                for code in campaigns.TARGET_CHOICES
            ],
        },
    )
