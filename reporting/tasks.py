"""Celery tasks of the reporting app. Each is idempotent and acknowledged late: a job killed half-way is
redelivered and finishes exactly once (import jobs resume from their row; notifications are per step)."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from institutions.models import Institution, User
from portal import clock, jobs

from . import bulk, events, notifications, services
from .models import Filing, FilingStatus, ImportJob, Period

REMIND_DAYS_BEFORE = 3


@shared_task(name="reporting.after_transition", acks_late=True)
def after_transition(filing_id: int, status: str) -> int:
    """Follow-up work of a workflow step: announce it (the indicators refresh what an approval, or a reopened
    approved sheet, changes), then e-mail the people concerned."""
    filing = Filing.objects.select_related("period", "institution", "current_version__submitted_by").get(
        pk=filing_id
    )
    events.filing_transitioned.send(sender=Filing, filing=filing, status=status)
    return notifications.send(notifications.transition_messages(filing, status))


@shared_task(name="reporting.send_reminders", acks_late=True)
def send_reminders(today_iso: str | None = None) -> dict:
    """Beat, daily: remind institutions that have not submitted a return REMIND_DAYS_BEFORE days before its
    deadline (附件4: the 15th), and send an overdue notice the day after."""
    today = clock.today() if today_iso is None else timezone.datetime.fromisoformat(today_iso).date()
    sent = {"reminders": 0, "overdue": 0}
    for period in Period.objects.filter(opens_on__lte=today):
        if period.due_on - timedelta(days=REMIND_DAYS_BEFORE) == today:
            kind = "reminders"
        elif period.due_on + timedelta(days=1) == today:
            kind = "overdue"
        else:
            continue
        done = Filing.objects.filter(
            period=period, status__in=[FilingStatus.SUBMITTED, FilingStatus.APPROVED]
        ).values_list("institution_id", flat=True)
        pending = Institution.objects.filter(active_from__lte=period.ends_on).exclude(pk__in=done)
        sent[kind] += notifications.send_reminders(
            period, pending, kind="overdue" if kind == "overdue" else "reminder"
        )
    return sent


@shared_task(name="reporting.send_urge", acks_late=True)
def send_urge(period_id: int, sender_id: int, institution_ids: list[int]) -> int:
    """An officer's 催报 to the institutions that have not submitted (the sender gets a copy)."""

    period = Period.objects.get(pk=period_id)
    sender = User.objects.get(pk=sender_id)
    institutions = Institution.objects.filter(pk__in=institution_ids).order_by("order")
    return notifications.send_reminders(period, institutions, kind="urge", sender=sender)


@shared_task(name="reporting.run_import", acks_late=True, bind=True, max_retries=None)
def run_import(self, job_id: int) -> str:
    """Run (or resume, from its last committed chunk) a bulk import (bulk.run), the job claimed and beating
    as every job (portal/jobs.py): a delivery that finds another run alive on the job looks again once that
    run's heartbeat could have gone stale — the redelivery after a killed pool process resumes the job that
    way."""

    return jobs.run(self, ImportJob, job_id, bulk.run, related=("created_by",))


@shared_task(name="reporting.notify_import_replaced", acks_late=True)
def notify_import_replaced(job_id: int) -> int:
    """Tell each bank whose own draft or returned sheet an officer's bulk import replaced: who, when, why."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    return notifications.send(notifications.import_replaced_messages(job))


@shared_task(name="reporting.requeue_stalled", acks_late=True)
def requeue_stalled() -> int:
    """Beat, every JOB_REQUEUE_SECONDS: send again the imports whose worker died (their heartbeat stopped)."""

    stalled = list(jobs.stalled(ImportJob).values_list("pk", flat=True))
    for pk in stalled:
        run_import.delay(pk)
    return len(stalled)


@shared_task(name="reporting.open_periods", acks_late=True)
def open_periods(today_iso: str | None = None) -> int:
    """Beat, daily: make sure every month up to last month has its period (the 1st opens the previous
    month's sheet, due on the 15th). Idempotent."""

    today = clock.today() if today_iso is None else timezone.datetime.fromisoformat(today_iso).date()
    last = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return len(services.ensure_monthly_periods((last[0], 1), last))
