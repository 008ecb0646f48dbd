"""Setting up next year's campaign (专项行动年度安排) without a developer: a PBoC admin chooses the year, the
monthly deadline, the once-a-year due date and the province targets, previews what banks will be asked for —
the edition of 附件4 in force, 附件3 with that year's column labels, every period and its dates — and sets it
up in one transaction, audited. Existing periods and targets of that year or any other stay as they are,
so the 2022 campaign and its data are untouched.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction

from audit import services as audit
from institutions import access
from portal.errors import Forbidden, ServiceError
from reporting import services as reporting_services
from reporting.definitions import definition_for, plan_definition
from reporting.models import Form, Period
from reporting.services import quarter_due

from . import indicators as ind
from .models import Target, TargetScope

ANNUAL_FORMS = (Form.PLAN, Form.CONTACTS, Form.WORK_PLAN)
# the province targets an admin may set (seed 002 gives no numbers for 2023: the admin enters them)
TARGET_CHOICES = (
    "loan_increase_ytd",
    "loan_growth_ytd",
    "loan_increase_restored_ytd",
    "loan_growth_restored_ytd",
    "borrowers_increase_ytd",
    "first_loan_borrowers",
    "first_loan_amount",
    "credit_increase_ytd",
    "new_credit_share",
)


@dataclass(frozen=True)
class TargetInput:
    indicator: str
    value: Decimal  # as the admin types it: 亿元 / 户, a percentage for a share (30 → 0.30)
    label: str = ""


@dataclass(frozen=True)
class CampaignPlan:
    """What setting up `year` would create, and what already exists."""

    year: int
    monthly_due_day: int
    annual_due_on: date
    periods: list[Period]  # every period of the plan, existing or new (new ones unsaved)
    existing: set[tuple[str, int | None, int | None]]
    targets: list[TargetInput] = field(default_factory=list)

    @property
    def monitoring(self):
        return definition_for(Form.MONITORING, self.year)

    @property
    def previous_monitoring(self):
        return definition_for(Form.MONITORING, self.year - 1)

    @property
    def new_fields(self):
        before = set(self.previous_monitoring.codes)
        return [f for f in self.monitoring.fields if f.code not in before]

    @property
    def plan(self):
        return plan_definition(self.year)

    def is_new(self, period: Period) -> bool:
        return (period.form, period.month, period.quarter) not in self.existing

    @property
    def rows(self) -> list[tuple[Period, bool]]:
        return [(p, self.is_new(p)) for p in self.periods]


def _monthly(year: int, month: int, due_day: int) -> Period:
    ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
    return Period(
        form=Form.MONITORING,
        year=year,
        month=month,
        ends_on=date(year, month, calendar.monthrange(year, month)[1]),
        opens_on=date(ny, nm, 1),
        due_on=date(ny, nm, min(due_day, calendar.monthrange(ny, nm)[1])),
    )


def plan_campaign(
    *, year: int, monthly_due_day: int = 15, annual_due_on: date | None = None, targets=()
) -> CampaignPlan:
    """The preview: nothing is saved."""
    if not 2000 <= year <= 2100:
        raise ServiceError(f"年度“{year}”无效。")
    if not 1 <= monthly_due_day <= 28:
        raise ServiceError("月度监测表的报送截止日应为次月 1–28 日之间的某一天。")
    annual_due_on = annual_due_on or date(year, 4, 30)
    if annual_due_on.year != year:
        raise ServiceError(f"年度报送截止日 {annual_due_on:%Y-%m-%d} 不在 {year} 年内。")
    periods = [_monthly(year, m, monthly_due_day) for m in range(1, 13)]
    periods += [
        Period(form=f, year=year, ends_on=date(year, 12, 31), opens_on=date(year, 1, 1), due_on=annual_due_on)
        for f in ANNUAL_FORMS
    ]
    periods += [
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
    existing = set(Period.objects.filter(year=year).values_list("form", "month", "quarter"))
    return CampaignPlan(year, monthly_due_day, annual_due_on, periods, existing, list(targets))


def parse_targets(posted: dict) -> list[TargetInput]:
    """Targets from a form: target:<indicator> = the value as typed (blank: no target)."""
    out = []
    for code in TARGET_CHOICES:
        text = str(posted.get(f"target:{code}", "") or "").strip().replace(",", "")
        if not text:
            continue
        try:
            value = Decimal(text.rstrip("%"))
        except InvalidOperation:
            raise ServiceError(f"“{ind.get(code).label}”的目标值“{text[:20]}”不是数值。") from None
        if value < 0:
            raise ServiceError(f"“{ind.get(code).label}”的目标值不能为负数。")
        out.append(TargetInput(code, value))
    return out


def _target_label(year: int, target: TargetInput) -> tuple[Decimal, str]:
    indicator = ind.get(target.indicator)
    stored = target.value / 100 if indicator.share else target.value
    shown = f"{target.value.normalize():f}{'%' if indicator.share else indicator.unit}"
    return stored, target.label or f"{year}年{indicator.label}不低于 {shown}"


@transaction.atomic
def set_up_campaign(*, actor, plan: CampaignPlan) -> dict[str, int]:
    """Create the year's missing periods and its province targets (an existing target of the same indicator
    is updated). Returns how many periods and targets were created or changed."""
    if not access.is_pboc_admin(actor):
        raise Forbidden("只有人民银行管理员可以设置年度专项行动。")
    new = [p for p in plan.periods if plan.is_new(p)]
    reporting_services.create_periods(new)
    targets = 0
    for target in plan.targets:
        stored, label = _target_label(plan.year, target)
        Target.objects.update_or_create(
            year=plan.year,
            scope=TargetScope.PROVINCE,
            indicator=target.indicator,
            basis="fixed",
            applies_to="all",
            institution=None,
            defaults={"value": stored, "comparator": "gte", "label": label[:100], "source": "管理员设置"},
        )
        targets += 1
    audit.record(
        actor=actor,
        action="campaign.set_up",
        obj=None,
        summary=(
            f"设置 {plan.year} 年专项行动：新增报送期 {len(new)} 个（月度截止日次月 {plan.monthly_due_day} 日，"
            f"年度报送截止 {plan.annual_due_on:%Y-%m-%d}），全省目标 {targets} 项"
        ),
    )
    return {"periods": len(new), "targets": targets}


def fixed_province_targets(year: int):
    """The year's fixed province-wide targets, as the campaign page sets them."""
    return Target.objects.filter(year=year, scope=TargetScope.PROVINCE, basis="fixed", institution=None)
