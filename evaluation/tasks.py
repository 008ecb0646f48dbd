"""Celery tasks of the evaluation app. Building the report cards is idempotent and acknowledged late: a
worker killed half-way leaves the job RUNNING, and the redelivered task starts the ZIP again."""

import io
import zipfile

from celery import shared_task
from django.core.files.base import ContentFile
from django.utils import timezone

from .models import ReportJob

PROGRESS_EVERY = 1  # a card takes a few hundred milliseconds: report each one


def card_filename(evaluation, institution) -> str:
    return f"{evaluation.year}年四张清单评估报告-{institution.code}-{institution.short_name}.pdf"


@shared_task(name="evaluation.build_report_cards", acks_late=True, bind=True, max_retries=None)
def build_report_cards(self, job_id: int) -> str:
    """Build every card of an evaluation into one ZIP, with a heartbeat on the job's row (portal/jobs.py);
    a delivery that finds another run alive looks again once that run's heartbeat could have gone stale."""
    from portal import jobs

    outcome, job = jobs.claim(
        ReportJob,
        job_id,
        running=ReportJob.Status.RUNNING,
        finished={ReportJob.Status.DONE, ReportJob.Status.FAILED},
        reset={"processed": 0},  # a batch starts again from its first card
    )
    if outcome == jobs.FINISHED:
        return job.status
    if outcome == jobs.BUSY:
        raise self.retry(countdown=jobs.stale_after().total_seconds())
    job = ReportJob.objects.select_related("evaluation").get(pk=job_id)
    with jobs.Heartbeat(job):
        return _build(job)


@shared_task(name="evaluation.requeue_stalled", acks_late=True)
def requeue_stalled() -> int:
    """Beat, every JOB_REQUEUE_SECONDS: send again the card batches whose worker died (heartbeat stopped)."""
    from portal import jobs

    stalled = list(jobs.stalled(ReportJob, running=ReportJob.Status.RUNNING).values_list("pk", flat=True))
    for pk in stalled:
        build_report_cards.delay(pk)
    return len(stalled)


def _build(job) -> str:
    from institutions.models import Institution

    from . import pages, pdf, selectors

    job_id = job.pk
    evaluation = job.evaluation
    try:
        table = selectors.results(evaluation)
        institutions = Institution.objects.in_bulk([r.institution_id for r in table.rows])
        job.total = len(table.rows)
        job.save(update_fields=["total"])
        now = timezone.now()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for index, row in enumerate(table.rows, start=1):
                institution = institutions[row.institution_id]
                card = pages.report_card(evaluation, institution, table)
                zf.writestr(
                    card_filename(evaluation, institution), pdf.report_card_pdf(card, generated_at=now)
                )
                job.processed = index
                if index % PROGRESS_EVERY == 0:
                    job.save(update_fields=["processed"])
        job.file.save(
            f"{evaluation.year}-evaluation-{evaluation.pk}-cards-{job.pk}.zip",
            ContentFile(buffer.getvalue()),
            save=False,
        )
        job.status = ReportJob.Status.DONE
        job.finished_at = timezone.now()
        job.save(update_fields=["file", "status", "processed", "finished_at"])
    except Exception as exc:
        ReportJob.objects.filter(pk=job_id).update(
            status=ReportJob.Status.FAILED, error=f"生成失败：{exc}"[:2000], finished_at=timezone.now()
        )
        raise
    return job.status
