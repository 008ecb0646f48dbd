"""Job rows with a heartbeat (portal/jobs.py): a run claims a job only when no other run is alive on it, and
the beat sends again a running job whose heartbeat stopped."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal import jobs
from reporting import tasks
from reporting.models import ImportJob

FINISHED = {ImportJob.Status.DONE, ImportJob.Status.FAILED}


@pytest.fixture
def job(users):
    return ImportJob.objects.create(
        upload="imports/x.xlsx", upload_name="x.xlsx", upload_sha256="0" * 64, created_by=users["officer_in"]
    )


def claim(job):
    return jobs.claim(ImportJob, job.pk, running=ImportJob.Status.RUNNING, finished=FINISHED)


def test_a_queued_job_is_claimed_with_a_fresh_heartbeat(job):
    outcome, claimed = claim(job)
    assert outcome == jobs.CLAIMED and claimed.status == ImportJob.Status.RUNNING
    assert claimed.runner and timezone.now() - claimed.heartbeat_at < timedelta(seconds=5)


def test_a_job_another_run_is_alive_on_is_not_claimed_twice(job):
    claim(job)
    outcome, _ = claim(job)  # the broker's redelivery, say, while the first run beats
    assert outcome == jobs.BUSY


def test_a_job_whose_heartbeat_stopped_is_claimed_by_the_next_run(job, settings):
    _, first = claim(job)
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    )
    outcome, second = claim(job)
    assert outcome == jobs.CLAIMED and second.runner != first.runner


def test_a_finished_job_is_left_alone(job):
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE)
    assert claim(job)[0] == jobs.FINISHED


def test_the_beat_requeues_only_jobs_whose_heartbeat_stopped(job, users, settings, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda pk: sent.append(pk))
    alive = ImportJob.objects.create(
        upload="imports/y.xlsx", upload_name="y.xlsx", upload_sha256="1" * 64, created_by=users["officer_in"]
    )
    claim(job)
    claim(alive)
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    )
    assert tasks.requeue_stalled() == 1 and sent == [job.pk]


def test_defaults_resume_a_killed_job_within_two_minutes(settings):
    # the worst case: killed just after a beat, found stale, then the next requeue tick
    worst = settings.JOB_STALE_SECONDS + settings.JOB_HEARTBEAT_SECONDS + settings.JOB_REQUEUE_SECONDS
    assert worst <= 120
    assert settings.CELERY_BEAT_SCHEDULE["requeue-stalled-imports"]["task"] == "reporting.requeue_stalled"
    assert (
        settings.CELERY_BEAT_SCHEDULE["requeue-stalled-report-jobs"]["task"] == "evaluation.requeue_stalled"
    )
