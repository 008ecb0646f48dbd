"""The hash chain over the audit log: entries are sealed in id order a little after they are written, each
seal linking to the one before (models.AuditSeal); `verify` recomputes it.

Why a chain and not a check of the ids for gaps: the ids come from a sequence, and every rolled-back
transaction that wrote an entry leaves a gap, so a gap proves nothing. A seal records which ids existed and
a digest of their content, so a removed, changed or back-dated entry is found, whoever did it. Sealing is a
beat task rather than part of every write, so that no two transactions writing audit entries ever wait for
each other. What is not sealed yet (the last minutes) the chain cannot vouch for; the newest digest, printed
by `manage.py verify_audit`, can be kept elsewhere so that the chain itself cannot be rebuilt unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.db import transaction
from django.utils import timezone

from .models import AuditEntry, AuditSeal

GENESIS = "0" * 64
# Entries younger than this are left for the next tick: their transaction may not have committed yet, and an
# entry committed after its ids were sealed would look slipped in.
SEAL_AFTER = timedelta(minutes=2)
BATCH = 10_000


def entry_text(entry: AuditEntry) -> str:
    at = entry.at.astimezone(UTC).isoformat()
    fields = [entry.pk, at, entry.actor_id, entry.actor_label, entry.action, entry.object_type]
    fields += [entry.object_id, entry.institution_id, entry.summary, entry.changes, entry.ip]
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def digest(previous: str, entries) -> str:
    h = hashlib.sha256(previous.encode())
    for entry in entries:
        h.update(entry_text(entry).encode())
        h.update(b"\n")
    return h.hexdigest()


def ranges(ids: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in ids:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def expand(spans: list[list[int]]) -> set[int]:
    return {i for a, b in spans for i in range(a, b + 1)}


@transaction.atomic
def seal(*, now=None) -> AuditSeal | None:
    """Seal the entries after the last seal that are older than SEAL_AFTER (at most BATCH); None if none."""
    last = AuditSeal.objects.select_for_update().order_by("-last_id").first()
    after, previous = (last.last_id, last.digest) if last else (0, GENESIS)
    cutoff = (now or timezone.now()) - SEAL_AFTER
    young = (
        AuditEntry.objects.filter(pk__gt=after, at__gte=cutoff).order_by("pk").values_list("pk", flat=True)
    )
    first_young = young.first()
    entries = AuditEntry.objects.filter(pk__gt=after, at__lt=cutoff).order_by("pk")
    if first_young is not None:
        entries = entries.filter(pk__lt=first_young)  # a seal never spans an id it cannot vouch for
    entries = list(entries[:BATCH])
    if not entries:
        return None
    ids = [e.pk for e in entries]
    return AuditSeal.objects.create(
        first_id=after + 1,
        last_id=ids[-1],
        ids=ranges(ids),
        rows=len(ids),
        previous=previous,
        digest=digest(previous, entries),
    )


@dataclass
class Report:
    seals: int = 0
    sealed_rows: int = 0
    unsealed_rows: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify() -> Report:
    report = Report()
    previous, after = GENESIS, 0
    for link in AuditSeal.objects.order_by("last_id").iterator():
        report.seals += 1
        if link.previous != previous or link.first_id != after + 1:
            report.problems.append(f"封存 {link}：与上一环不衔接（链被改动或有封存被删除）。")
        entries = list(AuditEntry.objects.filter(pk__gt=after, pk__lte=link.last_id).order_by("pk"))
        present, sealed = {e.pk for e in entries}, expand(link.ids)
        missing, extra = sorted(sealed - present), sorted(present - sealed)
        if missing:
            report.problems.append(f"编号 {_spans(missing)} 的审计记录在封存后缺失（被删除）。")
        if extra:
            report.problems.append(f"编号 {_spans(extra)} 的审计记录在封存后才出现。")
        if not missing and not extra and digest(link.previous, entries) != link.digest:
            report.problems.append(f"编号 {link.first_id}–{link.last_id} 中有审计记录在封存后被改动。")
        report.sealed_rows += len(entries)
        previous, after = link.digest, link.last_id
    report.head = previous
    report.unsealed_rows = AuditEntry.objects.filter(pk__gt=after).count()
    return report


def _spans(ids: list[int]) -> str:
    return "、".join(f"#{a}" if a == b else f"#{a}–#{b}" for a, b in ranges(ids)[:20])
