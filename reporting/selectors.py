"""Reads for pages and the API. Every function takes the user (or an already-scoped object) and returns
querysets scoped through institutions.access — a bounded number of queries whatever the number of banks."""

from collections import Counter

from django.db.models import Prefetch
from django.utils import timezone

from institutions.access import visible_institutions

from .models import Filing, FilingStatus, Form, Period

NOT_FILED = "not_filed"
STATUS_LABELS = {NOT_FILED: "未填报", **{s.value: s.label for s in FilingStatus}}


def recent_periods(form: str = Form.MONITORING, limit: int = 12):
    today = timezone.localdate()
    return list(Period.objects.filter(form=form, opens_on__lte=today).order_by("-year", "-month")[:limit])


def obligations_for_institution(institution, limit: int = 6):
    """A bank's latest periods with its filing (or none) for each: what it owes and by when."""
    periods = recent_periods(limit=limit)
    filings = {
        f.period_id: f
        for f in Filing.objects.filter(institution=institution, period__in=periods).select_related(
            "current_version", "period"
        )
    }
    return [{"period": p, "filing": filings.get(p.pk)} for p in periods]


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


def filings_for_user(user):
    return Filing.objects.filter(institution__in=visible_institutions(user)).select_related(
        "institution", "period", "current_version"
    )


def filing_with_history(filing):
    return Filing.objects.prefetch_related(Prefetch("versions"), "transitions__actor").get(pk=filing.pk)
