"""Job rows that say they are alive: a worker running a long job (a bulk import, a batch of report cards)
writes the row's heartbeat every JOB_HEARTBEAT_SECONDS from a thread of its own; a job whose heartbeat is
older than JOB_STALE_SECONDS has lost its worker, and the beat sends it again.

Without this, a job whose worker died (kill -9, OOM, a lost machine) waited for Redis's visibility timeout
(15 minutes) before its message came back. Exactly once still holds: a run *claims* the row under
select_for_update — only when the row is queued, or running with a stale heartbeat — and any other delivery
of the same job (the broker's redelivery, a second requeue) finds it claimed and alive, or finished.

The three job rows — an officer's bulk import (`reporting.ImportJob`), a recomputation of the stored
indicators (`indicators.RefreshRun`), the evaluation's ZIP of report cards (`evaluation.ReportJob`) — share
`Job` below: one `Status`, the progress counters, the error, when the job started and finished, and one rule
for the percent their pages show. Each kind's page polls its status URL, which answers `status_json` of the
row, and static/js/job.js follows it. Their Celery tasks are a few lines: load the row (`run` claims it) and
call the kind's service, which does the work and updates the row.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

CLAIMED, BUSY, FINISHED = "claimed", "busy", "finished"
ERROR_MAX = 2000  # characters of an error kept on the row


class Status(models.TextChoices):
    """Every job kind's status. A job is *pending* while queued or running, *finished* otherwise; READY (an
    import previewed, waiting for the officer's confirmation) and SKIPPED (a refresh another one took in) are
    each used by one kind only."""

    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("处理中")
    READY = "ready", _("待确认")
    DONE = "done", _("已完成")
    SKIPPED = "skipped", _("已合并")
    FAILED = "failed", _("失败")


PENDING = frozenset({Status.QUEUED, Status.RUNNING})


class Job(models.Model):
    """A long job tracked as a row: queued → running → done or failed (and a kind's own finished states).

    `percent` is the one rule of every progress bar: 100 once DONE or SKIPPED; 0 while there is no total
    (not counted yet, or a kind that counts nothing, like a refresh, which runs in one transaction);
    otherwise ⌊processed × 100 ÷ total⌋ — held at 99 while the job is pending, so that a bar at 100 always
    means the job is over (a failed job shows where it stopped)."""

    Status = Status

    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("总数"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING

    @property
    def is_finished(self) -> bool:
        return not self.is_pending

    @property
    def percent(self) -> int:
        if self.status in {Status.DONE, Status.SKIPPED}:
            return 100
        if not self.total:
            return 0
        percent = min(100, self.processed * 100 // self.total)
        return min(percent, 99) if self.is_pending else percent

    def advance(self, processed: int, *fields: str) -> None:
        """Record progress (and the other fields named) — committed as it goes, so the page sees it."""
        self.processed = processed
        self.save(update_fields=["processed", *fields])

    def finish(self, status: str = Status.DONE, *fields: str, error: str = "") -> None:
        """End the job in `status`, saving the fields named with it."""
        self.status, self.error, self.finished_at = status, error[:ERROR_MAX], timezone.now()
        self.save(update_fields=["status", "error", "finished_at", *fields])

    def fail(self, error: str) -> None:
        """Mark the job failed — by an update of those columns alone, whatever this instance holds (the work
        that failed may have left it half-changed, or its transaction rolled back)."""
        self.status, self.error, self.finished_at = Status.FAILED, error[:ERROR_MAX], timezone.now()
        type(self).objects.filter(pk=self.pk).update(
            status=self.status, error=self.error, finished_at=self.finished_at
        )

    def requeue(self, *fields: str) -> None:
        """Queue the job again from its start (an import's confirmation, or its preview made again)."""
        self.status, self.processed, self.finished_at, self.error = Status.QUEUED, 0, None, ""
        self.save(update_fields=["status", "processed", "finished_at", "error", *fields])


class ResumableJob(Job):
    """A job run by a Celery worker that claims the row and stamps its heartbeat (`claim`, `Heartbeat`); the
    beat sends again a running one whose heartbeat stopped (`stalled`)."""

    # Written by the running worker every few seconds: a stale one means the worker died.
    heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    runner = models.CharField(_("执行者标识"), max_length=32, blank=True)

    class Meta:
        abstract = True


@dataclass(frozen=True)
class Progress:
    """What a job's page shows and its status URL answers: the job's partial templates/partials/job.html
    renders it, `status_json` sends it, static/js/job.js follows it. A job row gives its own (`of`); a row
    that is not a `Job` but is followed the same way (the monitoring bulletin) builds one."""

    status: str
    label: str
    finished: bool
    percent: int
    processed: int
    total: int
    error: str

    @classmethod
    def of(cls, job: Job) -> Progress:
        return cls(
            status=str(job.status),
            label=str(job.get_status_display()),
            finished=job.is_finished,
            percent=job.percent,
            processed=job.processed,
            total=job.total,
            error=job.error,
        )


def status_json(job: Job | Progress, **extra) -> JsonResponse:
    """The one answer of every job status URL — {status, status_label, finished, percent, processed, total,
    error} — with a kind's own extra keys (an import's counts, the ZIP's download link)."""
    progress = job if isinstance(job, Progress) else Progress.of(job)
    return JsonResponse(
        {
            "status": progress.status,
            "status_label": progress.label,
            "finished": progress.finished,
            "percent": progress.percent,
            "processed": progress.processed,
            "total": progress.total,
            "error": progress.error,
            **extra,
        }
    )


def stale_after() -> timedelta:
    return timedelta(seconds=settings.JOB_STALE_SECONDS)


def claim(
    model, pk: int, *, running=Status.RUNNING, finished=None, reset: dict | None = None
) -> tuple[str, object]:
    """(CLAIMED, job) when this run may work on the job — it is then RUNNING with this run's token, a fresh
    heartbeat and its start time; (BUSY, job) when another run is alive on it; (FINISHED, job) when there is
    nothing to do (by default: the job is no longer pending)."""
    with transaction.atomic():
        job = model.objects.select_for_update().get(pk=pk)
        over = job.is_finished if finished is None else job.status in finished
        if over:
            return FINISHED, job
        now = timezone.now()
        alive = (
            job.status == running and job.heartbeat_at is not None and job.heartbeat_at > now - stale_after()
        )
        if alive:
            return BUSY, job
        job.status, job.runner, job.heartbeat_at, job.started_at = running, uuid.uuid4().hex, now, now
        for name, value in (reset or {}).items():
            setattr(job, name, value)
        job.save(update_fields=["status", "runner", "heartbeat_at", "started_at", *(reset or {})])
        return CLAIMED, job


def run(task, model, pk: int, service, *, reset: dict | None = None, related: tuple = ()) -> str:
    """The body of a job's Celery task (bound, acknowledged late): claim the row, then call `service(job)` —
    which does the work and updates the row — under a heartbeat. A delivery that finds another run alive on
    the job looks again once that run's heartbeat could have gone stale (the redelivery after a killed pool
    process resumes the job that way); one that finds it finished does nothing. Returns the row's status."""
    outcome, job = claim(model, pk, reset=reset)
    if outcome == FINISHED:
        return job.status
    if outcome == BUSY:
        raise task.retry(countdown=stale_after().total_seconds())
    job = model.objects.select_related(*related).get(pk=pk)
    with Heartbeat(job):
        service(job)
    return model.objects.values_list("status", flat=True).get(pk=pk)


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


def stalled(model, *, running=Status.RUNNING):
    """Jobs running with a heartbeat older than JOB_STALE_SECONDS: their worker is gone."""
    return model.objects.filter(status=running, heartbeat_at__lt=timezone.now() - stale_after())
