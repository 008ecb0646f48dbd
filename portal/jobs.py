"""Job rows that say they are alive: a worker running a long job (a bulk import, a batch of report cards)
writes the row's heartbeat every JOB_HEARTBEAT_SECONDS from a thread of its own; a job whose heartbeat is
older than JOB_STALE_SECONDS has lost its worker, and the beat sends it again.

Without this, a job whose worker died (kill -9, OOM, a lost machine) waited for Redis's visibility timeout
(15 minutes) before its message came back. Exactly once still holds: a run *claims* the row under
select_for_update — only when the row is queued, or running with a stale heartbeat — and any other delivery
of the same job (the broker's redelivery, a second requeue) finds it claimed and alive, or finished.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

CLAIMED, BUSY, FINISHED = "claimed", "busy", "finished"


def stale_after() -> timedelta:
    return timedelta(seconds=settings.JOB_STALE_SECONDS)


def claim(model, pk: int, *, running, finished: set, reset: dict | None = None) -> tuple[str, object]:
    """(CLAIMED, job) when this run may work on the job — it is then RUNNING with this run's token and a fresh
    heartbeat; (BUSY, job) when another run is alive on it; (FINISHED, job) when there is nothing to do."""
    with transaction.atomic():
        job = model.objects.select_for_update().get(pk=pk)
        if job.status in finished:
            return FINISHED, job
        now = timezone.now()
        alive = (
            job.status == running and job.heartbeat_at is not None and job.heartbeat_at > now - stale_after()
        )
        if alive:
            return BUSY, job
        job.status, job.runner, job.heartbeat_at = running, uuid.uuid4().hex, now
        for name, value in (reset or {}).items():
            setattr(job, name, value)
        job.save(update_fields=["status", "runner", "heartbeat_at", *(reset or {})])
        return CLAIMED, job


class Heartbeat:
    """`with Heartbeat(job):` — while the block runs, a thread stamps the row every JOB_HEARTBEAT_SECONDS (only
    while the row is still this run's). In-process tasks (the embedded default) need none: nothing can die
    apart from the request that runs them."""

    def __init__(self, job):
        self.model, self.pk, self.runner = type(job), job.pk, job.runner
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{self.model.__name__}-{self.pk}")

    def _beat(self) -> None:
        try:
            while not self.stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    self.model.objects.filter(pk=self.pk, runner=self.runner).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # the database away for a moment: the next beat tries again
                    log.warning(
                        "heartbeat of %s #%s not written", self.model.__name__, self.pk, exc_info=True
                    )
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Heartbeat:
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=settings.JOB_HEARTBEAT_SECONDS + 5)


def stalled(model, *, running):
    """Jobs running with a heartbeat older than JOB_STALE_SECONDS: their worker is gone."""
    return model.objects.filter(status=running, heartbeat_at__lt=timezone.now() - stale_after())
