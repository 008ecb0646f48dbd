"""Reading the audit log: filtered, scoped to what the admin may see."""

from datetime import datetime, time

from django.db.models import Q
from django.utils import timezone

from institutions.access import visible_institutions

from .models import AuditEntry

# What the audit browser's "类别" filter groups: how people got in (or were kept out), and what confidential
# data left the portal (audit.services.record_download).
CATEGORIES = {
    "access": ("login", "logout", "2fa.", "password."),
    "download": ("download.",),
}


def entries_for(
    user,
    *,
    action: str = "",
    category: str = "",
    actor: str = "",
    institution: str = "",
    text: str = "",
    since=None,
    until=None,
):
    """Entries about institutions the admin may see, plus entries about no institution (logins, periods…)."""
    entries = AuditEntry.objects.select_related("actor", "institution").filter(
        Q(institution__isnull=True) | Q(institution__in=visible_institutions(user))
    )
    if action:
        entries = entries.filter(action=action)
    if category in CATEGORIES:
        matches = Q()
        for prefix in CATEGORIES[category]:
            matches |= Q(action__startswith=prefix)
        entries = entries.filter(matches)
    if actor:
        entries = entries.filter(Q(actor__username__icontains=actor) | Q(actor_label__icontains=actor))
    if institution.isdigit():
        entries = entries.filter(institution_id=int(institution))
    if text:
        entries = entries.filter(Q(summary__icontains=text) | Q(object_id=text))
    if since:
        entries = entries.filter(at__gte=timezone.make_aware(datetime.combine(since, time.min)))
    if until:
        entries = entries.filter(at__lte=timezone.make_aware(datetime.combine(until, time.max)))
    return entries.order_by("-at", "-id")


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())
