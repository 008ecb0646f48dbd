"""Writing the audit log. Every service that changes state calls `record` inside its transaction."""

from typing import Any

from portal import bulkdb
from portal.context import current_ip

from .models import AuditEntry


def row(
    *,
    actor,
    action: str,
    summary: str,
    obj: Any = None,
    object_type: str = "",
    object_id: object = "",
    institution=None,
    institution_id: int | None = None,
    changes: dict | None = None,
    at=None,
) -> dict:
    """One audit entry as {attname: value}: who (the actor and, kept as it was then, their label), what,
    on which object and institution, the changes, from where (the address of the request being served,
    portal.context); `at` defaults to now."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    entry = {
        "actor_id": actor_obj.pk if actor_obj else None,
        "actor_label": (f"{actor_obj.username}（{actor_obj}）" if actor_obj else "系统"),
        "action": action,
        "object_type": obj._meta.label if obj is not None else object_type,
        "object_id": str(obj.pk) if obj is not None else str(object_id),
        "institution_id": institution.pk if institution is not None else institution_id,
        "summary": summary[:300],
        "changes": changes or {},
        "ip": current_ip(),
    }
    if at is not None:
        entry["at"] = at
    return entry


def record(*, actor, action: str, summary: str, obj: Any = None, institution=None, changes=None):
    """Append one entry (inside the caller's transaction)."""
    return AuditEntry.objects.create(
        **row(
            actor=actor,
            action=action,
            summary=summary,
            obj=obj,
            institution=institution,
            changes=changes,
        )
    )


def record_many(entries: list[dict]) -> None:
    """Append many entries built by `row` with one write (COPY on PostgreSQL), in the caller's transaction."""
    bulkdb.insert(AuditEntry, entries)


def diff(old: dict, new: dict) -> dict:
    """{field: [old, new]} for the keys whose values differ."""
    if not old:  # a first version: every value it sets
        return {k: [None, new[k]] for k in sorted(new) if new[k] is not None}
    keys = sorted(set(old) | set(new))
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


def record_download(request, *, what: str, name: str, obj: Any = None, institution=None) -> AuditEntry:
    """A download of confidential data (contacts, the audit log, indicators, findings, documents, evidence,
    evaluation results and report cards): who, what, when, from where. `what` is the kind of data
    ("contacts", "documents" …): the action is "download.<what>", which the audit browser filters by."""
    return record(
        actor=request.user,
        action=f"download.{what}",
        obj=obj,
        institution=institution,
        summary=f"下载{name}",
    )
