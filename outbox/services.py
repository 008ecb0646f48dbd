"""enqueue() inside the transaction of a state change; deliver() once it has committed.

Delivery is at least once: a task is marked sent only after the broker accepted it, so a process dying in
between sends it again. Every task queued this way is idempotent (job rows, per-step notifications).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone

from .models import PendingTask

log = logging.getLogger(__name__)

# Younger unsent rows belong to the on-commit hook of the request that wrote them.
GRACE = timedelta(seconds=10)
BATCH = 500
SENT, SKIPPED, FAILED = "sent", "skipped", "failed"


def enqueue(task, *args, **kwargs) -> PendingTask:
    """Store `task(*args, **kwargs)` with the caller's transaction and send it when that commits."""
    row = PendingTask.objects.create(name=task.name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: deliver(row.pk), robust=True)
    return row


def deliver(pk: int) -> str:
    """Send one unsent task: SENT; SKIPPED when it was already sent or is being sent elsewhere; FAILED when
    the broker is unreachable (the row keeps the error and waits for deliver_pending)."""
    with transaction.atomic():
        row = PendingTask.objects.select_for_update(skip_locked=True).filter(pk=pk, sent_at=None).first()
        if row is None:
            return SKIPPED
        if current_app.conf.task_always_eager:
            # The embedded default runs tasks in-process: mark first, so a task that fails is not re-run.
            _mark_sent(row)
            task = _registered(row.name)
            transaction.on_commit(lambda: task.apply_async(row.args, row.kwargs, task_id=row.task_id))
            return SENT
        try:
            # By name: the process sending it (the beat's worker, say) need not have imported the task. Nobody
            # waits on these results (the tasks write job rows), so the sender never subscribes to the result
            # store, which would otherwise retry a dead Redis for 20 s before raising.
            current_app.send_task(row.name, row.args, row.kwargs, task_id=row.task_id, ignore_result=True)
        except Exception as exc:  # whatever stops the hand-over, the row waits for a retry
            row.attempts += 1
            row.last_error = f"{exc.__class__.__name__}: {exc}"[:300]
            row.save(update_fields=["attempts", "last_error"])
            log.warning("outbox: %s not sent (%s); deliver_pending will retry", row, row.last_error)
            return FAILED
        _mark_sent(row)
        return SENT


def _registered(name: str):
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()  # every app's tasks module (autodiscovery)
    return current_app.tasks[name]


def _mark_sent(row: PendingTask) -> None:
    row.sent_at = timezone.now()
    row.save(update_fields=["sent_at"])


def deliver_pending(*, now=None) -> int:
    """Send every unsent task older than GRACE, oldest first; the number sent."""
    cutoff = (now or timezone.now()) - GRACE
    ids = list(
        PendingTask.objects.filter(sent_at=None, created_at__lte=cutoff).values_list("pk", flat=True)[:BATCH]
    )
    sent = 0
    for pk in ids:
        outcome = deliver(pk)
        if outcome == FAILED:  # a broker still down fails every row alike: the next tick tries again
            break
        sent += outcome == SENT
    return sent
