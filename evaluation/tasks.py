"""Celery tasks of the evaluation app. Building the report cards is idempotent and acknowledged late: a
worker killed half-way leaves the job RUNNING, and the redelivered task starts the ZIP again."""

import io
import zipfile

from celery import shared_task
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from .models import ReportJob

PROGRESS_EVERY = 1  # a card takes a few hundred milliseconds: report each one


def card_filename(evaluation, institution) -> str:
    return f"{evaluation.year}年四张清单评估报告-{institution.code}-{institution.short_name}.pdf"


@shared_task(name="evaluation.build_report_cards", acks_late=True)
def build_report_cards(job_id: int) -> str:
    from institutions.models import Institution

    from . import pdf, selectors

    with transaction.atomic():
        job = ReportJob.objects.select_for_update().select_related("evaluation").get(pk=job_id)
        if job.status in {ReportJob.Status.DONE, ReportJob.Status.FAILED}:
            return job.status
        job.status = ReportJob.Status.RUNNING
        job.processed = 0
        job.save(update_fields=["status", "processed"])
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
                card = selectors.report_card(evaluation, institution, table)
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
