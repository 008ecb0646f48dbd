"""The outbox: a state change's follow-up task is stored with the change and sent once it commits.

These run against the real Redis broker of `make test`; the broker going away under a submission, and the
follow-up reaching a worker once it is back, is tests/integration/test_faults.py.
"""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from indicators.models import RefreshRun
from outbox import services as outbox
from outbox.models import PendingTask
from portal.celery import app
from reporting import services, tasks
from tests.factories import FilingFactory, periods


@pytest.fixture
def submitted_sheet(users, master):
    filing = FilingFactory(institution=master["A"], period=periods()[(2022, 3)], status="draft")  # by filer_a
    return filing, users["signer_a"]


@pytest.fixture
def purge_broker():
    yield
    app.control.purge()  # the messages these tests sent have no worker to take them


def test_the_follow_up_is_stored_with_the_step_and_sent_only_after_commit(
    submitted_sheet, django_capture_on_commit_callbacks, purge_broker
):
    filing, signer = submitted_sheet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.submit(filing=filing, actor=signer, confirm=True)
    row = PendingTask.objects.get(name="reporting.after_transition")
    assert row.args == [filing.pk, "submitted"] and row.sent_at is None  # nothing sent before commit

    for callback in callbacks:
        callback()
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 0 and row.task_id == f"outbox-{row.pk}"
    assert outbox.deliver(row.pk) == outbox.SKIPPED  # already sent: never sent twice by the outbox


def test_deliver_pending_sends_old_unsent_rows_and_leaves_young_ones_to_their_request(db, purge_broker):
    old = PendingTask.objects.create(name="portal.ping", args=["old"])
    young = PendingTask.objects.create(name="portal.ping", args=["young"])
    done = PendingTask.objects.create(name="portal.ping", args=["done"], sent_at=timezone.now())
    PendingTask.objects.filter(pk__in=[old.pk, done.pk]).update(
        created_at=timezone.now() - outbox.GRACE - timedelta(seconds=1)
    )

    assert outbox.deliver_pending() == 1
    old.refresh_from_db(), young.refresh_from_db(), done.refresh_from_db()
    assert old.sent_at is not None and young.sent_at is None
    assert outbox.deliver_pending(now=timezone.now() + outbox.GRACE) == 1  # the young one's turn
    assert PendingTask.objects.filter(sent_at=None).count() == 0


def test_on_the_embedded_default_the_follow_up_runs_in_process(
    submitted_sheet, users, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    filing, signer = submitted_sheet
    services.submit(filing=filing, actor=signer, confirm=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(filing=filing, actor=users["officer_in"])
    # the approval's follow-up ran here and then: it queued (and ran) the indicator refresh
    row = PendingTask.objects.get(name=tasks.after_transition.name, args=[filing.pk, "approved"])
    assert row.sent_at is not None
    run = RefreshRun.objects.get(filing=filing)
    assert run.status == RefreshRun.Status.DONE
    assert PendingTask.objects.get(name="indicators.refresh", args=[run.pk]).sent_at is not None


def test_the_beat_retries_the_outbox_twice_a_minute():
    entry = next(
        e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "outbox.deliver_pending"
    )
    assert entry["schedule"] <= 60
    app.loader.import_default_modules()
    assert "outbox.deliver_pending" in app.tasks
