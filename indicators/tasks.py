"""Celery work of the indicators app: recompute the stored values (queued on approval and on demand, and by
the beat when they miss an approval)."""

import logging

from celery import shared_task

from . import services
from .models import RefreshRun

log = logging.getLogger(__name__)


@shared_task(name="indicators.refresh", acks_late=True)
def refresh(run_id: int) -> str:
    """Load the run and call services.refresh. Idempotent: a run already done (or merged into a later one)
    is not recomputed on redelivery."""

    run = RefreshRun.objects.filter(pk=run_id).first()
    if run is None:
        return "missing"
    try:
        return services.refresh(run=run).status
    except Exception as exc:  # the run row must say it failed, whatever the cause
        log.exception("indicator refresh #%s failed", run_id)
        run.fail(f"{exc.__class__.__name__}: {exc}")
        return RefreshRun.Status.FAILED


@shared_task(name="indicators.check_fresh")
def check_fresh() -> int | None:
    """The beat's freshness check: approvals the stored values do not include yet (e.g. a refresh that
    failed) queue a refresh of every year; the dashboard only reads. Returns the queued run's id."""

    run = services.ensure_fresh()
    return run.pk if run else None


@shared_task(name="indicators.build_bulletin", acks_late=True)
def build_bulletin(bulletin_id: int) -> str:
    """The month's bulletin: idempotent (a drafted or published bulletin is not generated again)."""

    try:
        return services.build_bulletin(bulletin_id=bulletin_id).status
    except Exception as exc:  # the row must say it failed, whatever the cause
        log.exception("bulletin #%s failed", bulletin_id)
        services.fail_bulletin(bulletin_id=bulletin_id, error=f"生成失败：{exc.__class__.__name__}: {exc}")
        return "failed"


@shared_task(name="indicators.send_bulletin_notice", acks_late=True)
def send_bulletin_notice(notice_id: int) -> bool:
    return services.send_bulletin_notice(notice_id=notice_id)
