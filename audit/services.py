"""Writing the audit log. Every service that changes state calls `record` inside its transaction."""

from typing import Any

from .models import AuditEntry


def record(
    *,
    actor,
    action: str,
    summary: str,
    obj: Any = None,
    institution=None,
    changes: dict | None = None,
    ip: str | None = None,
) -> AuditEntry:
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor_obj,
        actor_label=(f"{actor_obj.username}（{actor_obj}）" if actor_obj else "系统"),
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        institution=institution,
        summary=summary[:300],
        changes=changes or {},
        ip=ip,
    )


def diff(old: dict, new: dict) -> dict:
    """{field: [old, new]} for the keys whose values differ."""
    keys = sorted(set(old) | set(new))
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}


def record_download(request, *, what: str, name: str, obj: Any = None, institution=None) -> AuditEntry:
    """A download of confidential data (contacts, the audit log, indicators, findings, documents, evidence,
    evaluation results and report cards): who, what, when, from where. `what` is the kind of data
    ("contacts", "documents" …): the action is "download.<what>", which the audit browser filters by."""
    from institutions.views import client_ip

    return record(
        actor=request.user,
        action=f"download.{what}",
        obj=obj,
        institution=institution,
        summary=f"下载{name}",
        ip=client_ip(request),
    )
