"""Reads for pages and the API. Every function takes the user (or an already-scoped object) and returns
querysets scoped through institutions.access — a bounded number of queries whatever the number of banks."""

from collections import Counter

from institutions.access import visible_institutions
from institutions.models import ContactRole
from portal import clock

from . import parsing
from .models import Filing, FilingStatus, FilingVersion, Form, ImportJob, Period, Reminder, Transition

NOT_FILED = "not_filed"


def recent_periods(form: str = Form.MONITORING, limit: int = 12):
    today = clock.today()
    return list(Period.objects.filter(form=form, opens_on__lte=today).order_by("-year", "-month")[:limit])


def open_returns(filings) -> dict[int, "Transition"]:
    """Filing id → the officer's return that still stands: the latest 退回 with no submission after it. A
    filer's saves after a return do not end it — only the next submission does. One query."""
    ids = [f.pk for f in filings if f is not None]
    latest: dict[int, Transition] = {}
    steps = (
        Transition.objects.filter(
            filing_id__in=ids, to_status__in=[FilingStatus.SUBMITTED, FilingStatus.RETURNED]
        )
        .select_related("actor")
        .order_by("filing_id", "at", "id")
    )
    for step in steps:
        latest[step.filing_id] = step
    return {filing_id: step for filing_id, step in latest.items() if step.to_status == FilingStatus.RETURNED}


def open_return(filing) -> "Transition | None":
    if filing is None or filing.is_locked:
        return None
    return open_returns([filing]).get(filing.pk)


def obligations_for_institution(institution, limit: int = 6):
    """Every return the bank owes or has just filed, started or not: the latest `limit` monthly sheets, every
    return of the latest campaign year (附件3, 附件2, 工作方案, 经验做法), and any older return still not
    submitted — each with its filing (or none) and the officer's return that still stands. Newest deadline
    first; three queries whatever the number of periods."""
    today = clock.today()
    opened = list(Period.objects.filter(opens_on__lte=today))
    filings = {
        f.period_id: f
        for f in Filing.objects.filter(institution=institution, period__in=opened).select_related(
            "current_version", "period"
        )
    }
    monthly = sorted((p for p in opened if p.form == Form.MONITORING), key=lambda p: (p.year, p.month))
    latest_year = max((p.year for p in opened if p.form != Form.MONITORING), default=None)

    def shown(p) -> bool:
        if p.form == Form.MONITORING and p in monthly[-limit:]:
            return True
        if p.form != Form.MONITORING and p.year == latest_year:
            return True
        filing = filings.get(p.pk)
        return filing is None or not filing.is_locked

    periods = sorted((p for p in opened if shown(p)), key=lambda p: (p.due_on, p.form), reverse=True)
    returns = open_returns([f for f in filings.values() if not f.is_locked])
    rows = []
    for p in periods:
        filing = filings.get(p.pk)
        rows.append({"period": p, "filing": filing, "returned": returns.get(filing.pk) if filing else None})
    return rows


def jurisdiction_overview(user):
    """Status counts per recent period over the institutions the user may see."""
    institutions = list(visible_institutions(user).only("pk"))
    ids = [i.pk for i in institutions]
    periods = recent_periods(limit=6)
    counts: dict[int, Counter] = {p.pk: Counter() for p in periods}
    late: Counter = Counter()
    rows = Filing.objects.filter(period__in=periods, institution_id__in=ids).select_related("period")
    for f in rows:
        counts[f.period_id][f.status] += 1
        if f.is_late:
            late[f.period_id] += 1
    out = []
    for p in periods:
        c = counts[p.pk]
        filed = sum(c.values())
        out.append(
            {
                "period": p,
                "total": len(ids),
                "not_filed": len(ids) - filed,
                "counts": {s.value: c.get(s.value, 0) for s in FilingStatus},
                "late": late[p.pk],
            }
        )
    return {"institution_count": len(ids), "periods": out}


def filing_of(institution, period) -> "Filing | None":
    """The institution's filing of the period (none before its first save), with who made and submitted its
    current version."""
    return (
        Filing.objects.filter(institution=institution, period=period)
        .select_related("current_version__created_by", "current_version__submitted_by")
        .first()
    )


def versions_of(filing, *, newest_first: bool = False) -> list:
    """Every version of a filing with who made and submitted it (none without a filing)."""
    if filing is None:
        return []
    return list(
        FilingVersion.objects.filter(filing=filing)
        .select_related("created_by", "submitted_by")
        .order_by("-number" if newest_first else "number")
    )


def transitions_of(filing) -> list:
    """A filing's steps (submitted, returned, approved …) in the order they were taken."""
    if filing is None:
        return []
    return list(filing.transitions.select_related("actor", "version").order_by("at", "id"))


def explanations_before(version) -> dict:
    """The explanations of the version before this one (none for a first version)."""
    return (
        FilingVersion.objects.filter(filing_id=version.filing_id, number=version.number - 1)
        .values_list("explanations", flat=True)
        .first()
        or {}
    )


def import_jobs_for(user, limit: int = 20) -> list:
    """The officer's own latest bulk imports."""
    return list(ImportJob.objects.filter(created_by=user)[:limit])


def filings_for_user(user):
    return Filing.objects.filter(institution__in=visible_institutions(user)).select_related(
        "institution", "period", "current_version"
    )


def filings_chosen(user, ids):
    """The filings of those ids that the user may see (the others are left out, never an error)."""
    return filings_for_user(user).filter(pk__in=ids)


def filing_list(user, *, status: str = ""):
    """The user's filings, newest period first, of one status if given."""
    filings = filings_for_user(user).order_by("-period__year", "-period__month", "institution__order")
    return filings.filter(status=status) if status else filings


def latest_contacts(user) -> list:
    """Each visible institution's latest 附件2 contacts filing that has a version, in the institutions'
    order (one query)."""
    latest, seen = [], set()
    for filing in (
        filings_for_user(user)
        .filter(period__form=Form.CONTACTS)
        .order_by("institution__order", "-period__year")
    ):
        if filing.institution_id in seen or filing.current_version is None:
            continue
        seen.add(filing.institution_id)
        latest.append(filing)
    return latest


def neighbour_values(institution, period) -> tuple[dict | None, dict | None]:
    """The institution's current values for the previous month and the same month last year (one query)."""

    prev_index = period.year * 12 + period.month - 2
    prev = (prev_index // 12, prev_index % 12 + 1)
    last_year = (period.year - 1, period.month)
    found = {
        (f.period.year, f.period.month): f
        for f in Filing.objects.filter(
            institution=institution,
            period__form=period.form,
            period__year__in={prev[0], last_year[0]},
            period__month__in={prev[1], last_year[1]},
        ).select_related("period", "current_version")
    }

    def values(key):
        f = found.get(key)
        return parsing.values_from_json(f.current_version.values) if f and f.current_version_id else None

    return values(prev), values(last_year)


def status_matrix(user, periods, *, group: str = "", status: str = ""):
    """Institution × period grid of filings for the user's jurisdiction (two queries)."""
    institutions = list(visible_institutions(user).order_by("order"))
    if group:
        institutions = [i for i in institutions if i.evaluation_group == group]
    cells = {
        (f.institution_id, f.period_id): f
        for f in Filing.objects.filter(
            institution__in=[i.pk for i in institutions], period__in=periods
        ).select_related("period", "current_version")
    }
    rows = []
    for institution in institutions:
        row = [cells.get((institution.pk, p.pk)) for p in periods]
        states = [f.status if f else NOT_FILED for f in row]
        if status and status not in states:
            continue
        late = sum(1 for p, f in zip(periods, row, strict=True) if (f.is_late if f else p.is_overdue()))
        rows.append({"institution": institution, "cells": list(zip(periods, row, strict=True)), "late": late})
    return rows


def approved_monthly_balances(institution, year: int) -> dict:
    """附件4 普惠小微贷款余额 from the institution's approved sheets that 附件3 is checked against:
    December of the year before and March of the year (None where that sheet is not approved)."""

    found = {
        (f.period.year, f.period.month): parsing.values_from_json(f.current_version.values).get(
            "loan_balance"
        )
        for f in Filing.objects.filter(
            institution=institution,
            status=FilingStatus.APPROVED,
            period__form=Form.MONITORING,
            period__year__in=[year - 1, year],
            period__month__in=[12, 3],
        ).select_related("period", "current_version")
    }
    return {"balance_prev_dec": found.get((year - 1, 12)), "balance_march": found.get((year, 3))}


ANNUAL_ORDER = {Form.PLAN: 0, Form.CONTACTS: 1, Form.WORK_PLAN: 2, Form.EXPERIENCE: 3}


def annual_periods(year: str = "") -> list:
    """The once-a-year and quarterly returns of a campaign year (the latest year that has them by default),
    in the order officers read them: 附件3, 附件2, 工作方案, 经验做法 Q1–Q4."""
    periods = Period.objects.exclude(form=Form.MONITORING)
    if year.isdigit():
        periods = periods.filter(year=int(year))
    else:
        latest = periods.order_by("-year").values_list("year", flat=True).first()
        periods = periods.filter(year=latest)
    return sorted(periods, key=lambda p: (ANNUAL_ORDER.get(p.form, 9), p.quarter or 0))


def template_contact(institution, user) -> tuple[str, str]:
    """(填报人, 联系方式) to pre-fill a template with: the institution's 牵头部门联系人 of 附件2, else the bank user
    downloading it (a PBoC user is nobody's 填报人)."""

    contact = institution.contacts.filter(role=ContactRole.LIAISON).first()
    if contact is None:
        return (str(user) if user.is_bank else ""), ""
    return contact.name, contact.office_phone or contact.mobile


def reminders_for(user, *, period_id: str = ""):
    """The reminders, overdue notices and 催报 sent to the institutions the user sees, newest first."""

    sent = Reminder.objects.filter(institution__in=visible_institutions(user)).select_related(
        "institution", "period", "sent_by"
    )
    if period_id.isdigit():
        sent = sent.filter(period_id=int(period_id))
    return list(sent)


def campaign_years() -> list[int]:
    """The years that have any return set up, oldest first."""
    return sorted(set(Period.objects.values_list("year", flat=True)))
