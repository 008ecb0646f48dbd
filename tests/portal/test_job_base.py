"""The one job base (portal/jobs.py) of the bulk import, the indicators' refresh and the report-card ZIP: its
percent rule, its helpers, the status JSON every kind's status URL answers, and who may poll it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from evaluation.models import ReportJob
from indicators.models import RefreshRun
from portal import jobs
from reporting.models import ImportJob

KINDS = (ImportJob, RefreshRun, ReportJob)
KEYS = {"status", "status_label", "finished", "percent", "processed", "total", "error"}


def import_job(user, **fields) -> ImportJob:
    return ImportJob.objects.create(
        upload="imports/x.xlsx", upload_name="x.xlsx", upload_sha256="0" * 64, created_by=user, **fields
    )


# --- the percent rule ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", KINDS)
@pytest.mark.parametrize(
    ("status", "processed", "total", "percent"),
    [
        ("queued", 0, 0, 0),  # nothing counted yet
        ("running", 0, 0, 0),
        ("running", 1, 3, 33),  # floored
        ("running", 2, 3, 66),
        ("running", 10, 10, 99),  # every row handled, the job not over: never 100 before it ends
        ("done", 0, 0, 100),  # a refresh counts nothing and still ends at 100
        ("done", 24, 24, 100),
        ("skipped", 0, 0, 100),
        ("ready", 10, 10, 100),  # an import's preview: every row read
        ("failed", 4, 10, 40),  # where it stopped
        ("failed", 0, 0, 0),
    ],
)
def test_one_percent_rule_for_every_kind(model, status, processed, total, percent):
    assert model(status=status, processed=processed, total=total).percent == percent


@pytest.mark.parametrize("model", KINDS)
def test_a_job_is_pending_while_queued_or_running_and_finished_otherwise(model):
    for status in jobs.Status:
        job = model(status=status)
        assert job.is_pending is (status in {jobs.Status.QUEUED, jobs.Status.RUNNING})
        assert job.is_finished is not job.is_pending


def test_the_three_kinds_share_one_status_list():
    assert ImportJob.Status is RefreshRun.Status is ReportJob.Status is jobs.Status
    for model in KINDS:
        assert model._meta.get_field("status").choices == jobs.Status.choices


# --- helpers ---------------------------------------------------------------------------------------------------


def test_advance_finish_fail_and_requeue_write_the_row(users):
    job = import_job(users["officer_in"], status=ImportJob.Status.RUNNING, total=10)
    job.advance(4)
    assert ImportJob.objects.get(pk=job.pk).processed == 4
    job.result = {"stored": 4}
    job.finish(ImportJob.Status.READY, "result")
    stored = ImportJob.objects.get(pk=job.pk)
    assert (stored.status, stored.result, stored.error) == ("ready", {"stored": 4}, "")
    assert timezone.now() - stored.finished_at < timedelta(seconds=5)
    job.requeue("result")
    stored = ImportJob.objects.get(pk=job.pk)
    assert (stored.status, stored.processed, stored.finished_at) == ("queued", 0, None)
    job.processed = 9  # the failed work's half-changed instance: only the failure is written
    job.fail("x" * 3000)
    stored = ImportJob.objects.get(pk=job.pk)
    assert (stored.status, stored.processed, len(stored.error)) == ("failed", 0, jobs.ERROR_MAX)
    assert stored.finished_at is not None


def test_a_claim_records_when_the_run_started(users):
    job = import_job(users["officer_in"])
    outcome, claimed = jobs.claim(ImportJob, job.pk)
    assert outcome == jobs.CLAIMED and timezone.now() - claimed.started_at < timedelta(seconds=5)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.READY)
    assert jobs.claim(ImportJob, job.pk)[0] == jobs.FINISHED  # by default: no longer pending


# --- one status JSON for every kind ----------------------------------------------------------------------------


def test_an_import_answers_the_shared_status_with_its_counts(users, client_for):
    job = import_job(
        users["officer_in"],
        status=ImportJob.Status.RUNNING,
        total=10,
        processed=10,
        result={"stored": 7, "rejected": [{}], "skipped": [{}, {}]},
    )
    status = client_for("officer_in").get(reverse("reporting:job_status", args=[job.pk])).json()
    assert set(status) == KEYS | {"stored", "rejected", "skipped"}
    assert status == {
        "status": "running",
        "status_label": "处理中",
        "finished": False,
        "percent": 99,
        "processed": 10,
        "total": 10,
        "error": "",
        "stored": 7,
        "rejected": 1,
        "skipped": 2,
    }


def test_a_report_job_answers_the_shared_status_with_its_download(published, users, client_for):
    job = ReportJob.objects.create(
        evaluation=published,
        created_by=users["pboc_admin"],
        status=ReportJob.Status.FAILED,
        total=24,
        processed=6,
        error="生成失败：x",
    )
    status = (
        client_for("pboc_admin").get(reverse("evaluation:job_status", args=[published.pk, job.pk])).json()
    )
    assert set(status) == KEYS | {"download"}
    assert (status["status"], status["finished"], status["percent"], status["error"], status["download"]) == (
        "failed",
        True,
        25,
        "生成失败：x",
        "",
    )


def test_a_refresh_run_answers_the_shared_status(users, client_for):
    run = RefreshRun.objects.create(trigger=RefreshRun.Trigger.MANUAL)
    url = reverse("indicators:refresh_status", args=[run.pk])
    status = client_for("officer_out").get(url).json()
    assert status == {
        "status": "queued",
        "status_label": "排队中",
        "finished": False,
        "percent": 0,
        "processed": 0,
        "total": 0,
        "error": "",
    }
    run.finish(RefreshRun.Status.DONE)
    status = client_for("officer_out").get(url).json()
    assert (status["status"], status["finished"], status["percent"]) == ("done", True, 100)


def test_a_bulletin_is_followed_with_the_same_keys(
    world, users, client_for, django_capture_on_commit_callbacks
):
    from indicators import services

    with django_capture_on_commit_callbacks(execute=False):
        b = services.request_bulletin(actor=users["officer_branch"], year=2022, month=3)
    status = client_for("officer_branch").get(reverse("indicators:bulletin_status", args=[b.pk])).json()
    assert set(status) == KEYS and (status["finished"], status["total"]) == (False, 100)


# --- the pages and who may poll ----------------------------------------------------------------------------------


def test_a_pending_job_page_includes_job_js_and_a_finished_one_does_not(users, client_for):
    job = import_job(users["officer_in"], status=ImportJob.Status.RUNNING, total=10, processed=4)
    client = client_for("officer_in")
    page = client.get(reverse("reporting:job", args=[job.pk])).content.decode()
    assert 'id="job"' in page and "js/job.js" in page and 'id="job-bar" max="100" value="40"' in page
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, processed=10)
    page = client.get(reverse("reporting:job", args=[job.pk])).content.decode()
    assert "js/job.js" not in page and 'value="100"' in page


def test_a_refresh_run_page_is_for_pboc_users_only(users, client_for):
    run = RefreshRun.objects.create(trigger=RefreshRun.Trigger.MANUAL, first_year=2022, last_year=2022)
    page = client_for("officer_in").get(reverse("indicators:refresh_run", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "js/job.js" in html and reverse("indicators:refresh_status", args=[run.pk]) in html
    for bank in ("filer_a", "signer_b"):
        assert client_for(bank).get(reverse("indicators:refresh_run", args=[run.pk])).status_code == 403
        assert client_for(bank).get(reverse("indicators:refresh_status", args=[run.pk])).status_code == 403
    assert (
        client_for("officer_in").get(reverse("indicators:refresh_status", args=[run.pk + 1])).status_code
        == 404
    )


def test_a_pending_refresh_is_linked_from_the_as_of_line_for_pboc_users(world, client_for):
    run = RefreshRun.objects.create(trigger=RefreshRun.Trigger.MANUAL)
    link = reverse("indicators:refresh_run", args=[run.pk])
    assert link in client_for("officer_branch").get(reverse("indicators:dashboard")).content.decode()
    assert link not in client_for("filer_a").get(reverse("indicators:dashboard")).content.decode()


def test_jobs_stay_their_creators(published, users, client_for):
    mine = import_job(users["officer_in"])
    assert client_for("officer_out").get(reverse("reporting:job_status", args=[mine.pk])).status_code == 404
    assert client_for("filer_a").get(reverse("reporting:job_status", args=[mine.pk])).status_code == 404
    cards = ReportJob.objects.create(evaluation=published, created_by=users["pboc_admin"])
    url = reverse("evaluation:job_status", args=[published.pk, cards.pk])
    assert client_for("officer_branch").get(url).status_code == 404
    assert client_for("filer_b").get(url).status_code == 404
