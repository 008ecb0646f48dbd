"""Celery tasks of the evaluation app. Building the report cards is idempotent and acknowledged late: a
worker killed half-way leaves the job RUNNING, and the redelivered task starts the ZIP again."""

from celery import shared_task

from portal import jobs

from . import services
from .models import ReportJob


@shared_task(name="evaluation.build_report_cards", acks_late=True, bind=True, max_retries=None)
def build_report_cards(self, job_id: int) -> str:
    """Build every card of an evaluation into one ZIP (services.build_report_cards), the job claimed and
    beating as every job (portal/jobs.py); a batch claimed again starts from its first card."""

    return jobs.run(
        self, ReportJob, job_id, services.build_report_cards, reset={"processed": 0}, related=("evaluation",)
    )


@shared_task(name="evaluation.requeue_stalled", acks_late=True)
def requeue_stalled() -> int:
    """Beat, every JOB_REQUEUE_SECONDS: send again the card batches whose worker died (heartbeat stopped)."""

    stalled = list(jobs.stalled(ReportJob).values_list("pk", flat=True))
    for pk in stalled:
        build_report_cards.delay(pk)
    return len(stalled)
