"""Faults on the real stack: a Celery worker killed in the middle of a bulk import, Redis going away under a
bank's submission, PostgreSQL restarting under the web server.

(a) kill -9 during a 2,304-row bulk import (24 institutions × 96 months, an officer's upload through the
    web view; a few seconds of work, so the kill lands mid-way). The job must complete exactly once: done, processed == total, one version and one 草稿 → 已通过
    transition per filing, and a result that counts every row it stored as stored.
    - the pool process running the task is killed (what the OOM killer does): the worker's parent sees the
      loss, the task is re-queued (acks_late + reject_on_worker_lost) and a fresh pool process resumes it;
    - the whole worker is killed and a new worker started, all with the portal's default settings: the lost
      message would only come back after Redis's 900 s visibility timeout, but the job row's heartbeat stops
      and the beat's requeue (portal/jobs.py) sends the job again within a minute.
(a') kill -9 of the pool process while a batch of 24 report-card PDFs is being rendered: the task is
    redelivered, starts the batch again, and the job ends with one archive holding every card once.
(b) a private Redis (tests/private_stack.py) — the broker and cache of this process and of the worker the
    test starts — stopped while a bank uploads and submits its sheet through the web, then started again on
    the same port: the upload and the submission are stored, the submission's answer is not a 500, the
    follow-up task (reporting.after_transition) waits in the outbox and reaches the worker exactly once when
    the beat's outbox.deliver_pending runs after Redis is back.
(c) a private PostgreSQL cluster (initdb into a temporary directory, a free port) restarted and then stopped
    under a gunicorn serving the portal from it with DEBUG off: an idle persistent connection is
    health-checked and replaced (conn_health_checks), a page during the outage gets the 503 page without a
    stack trace and without claiming anything was saved, an API request the API's JSON error with 503, and
    requests succeed again afterwards.

Only the servers these tests start are ever stopped: the machine's shared PostgreSQL and Redis, and other
test runs using them, are never disturbed.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu import pools

from audit.models import AuditEntry
from evaluation import services as evaluation_services
from evaluation.models import ReportJob
from institutions.models import Institution
from outbox import services as outbox
from outbox import tasks as outbox_tasks
from outbox.models import PendingTask
from portal.celery import app
from reporting import excel
from reporting import tasks as reporting_tasks
from reporting.definitions import MONITORING_2022
from reporting.models import Filing, FilingStatus, FilingVersion, ImportJob, Transition, VersionSource
from tests.factories import periods, sheet_values
from tests.private_stack import PrivatePostgres, PrivateRedis, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_CSV = ROOT / "fixtures" / "2021-hubei-four-lists-evaluation.csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _test_database_url() -> str:
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + quote(connection.settings_dict["NAME"])))


def wait_for(what: str, condition, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s", pytrace=False)


# --- Celery workers this module starts (and kills) itself -------------------------------------------------


@dataclass
class Worker:
    hostname: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def pool_children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)


def start_worker(
    queue: str,
    *,
    pool: str,
    media: Path,
    settings_module: str = "portal.settings",
    redis_url: str | None = None,
) -> Worker:
    hostname = f"fault-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": redis_url or settings.REDIS_URL,
        "MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": settings_module,
    }
    log = Path(tempfile.mkstemp(prefix="fault-worker-", suffix=".log")[1])
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", pool, "--concurrency", "1"]
    command += ["-Q", queue, "-n", hostname, "--loglevel", "INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    worker = Worker(hostname, process, log)

    def answers():
        if process.poll() is not None:
            pytest.fail(f"worker exited with {process.returncode}:\n{worker.output()}", pytrace=False)
        return any(hostname in r for r in app.control.ping(destination=[hostname], timeout=0.5) or [])

    wait_for(f"worker {hostname} answering a ping", answers, 40)
    return worker


@pytest.fixture
def private_queue():
    """The job tasks routed to a queue of this test's own, so that no other worker takes the job."""
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    routes = app.conf.task_routes
    jobs = ("reporting.run_import", "evaluation.build_report_cards")
    app.conf.update(task_routes={name: {"queue": queue} for name in jobs})  # rebuilds the router
    try:
        yield queue
    finally:
        app.conf.update(task_routes=routes)
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


# --- (a) kill -9 in the middle of a bulk import ---------------------------------------------------------

MONTHS = [(year, month) for year in range(2015, 2023) for month in range(1, 13)]
INTO_NEXT = 0.3  # seconds of work after the first saved progress before the kill (a chunk takes ~1 s)


def bulk_workbook() -> bytes:
    rows = [
        {
            "institution_code": institution.code,
            "institution_name": institution.short_name,
            "year": year,
            "month": month,
            "values": {k: Decimal(v) for k, v in sheet_values(scale=month).items()},
        }
        for institution in Institution.objects.order_by("order")
        for year, month in MONTHS
    ]
    return excel.bulk_template(MONITORING_2022, rows)


def upload_bulk(users) -> ImportJob:
    periods(MONTHS[0], MONTHS[-1])
    client = Client()
    client.force_login(users["officer_branch"])
    file = SimpleUploadedFile("2022年监测表批量导入.xlsx", bulk_workbook(), content_type=XLSX)
    response = client.post(reverse("reporting:bulk_import"), {"file": file})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reporting:job", args=[job.pk])
    # the worker previews the file first (nothing stored); the officer then confirms, approving on import
    wait_for(
        "the import's preview",
        lambda: ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.READY).exists(),
        90,
        interval=0.05,
    )
    response = client.post(reverse("reporting:job_confirm", args=[job.pk]), {"approve": "on"})
    assert response.status_code == 302 and ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.QUEUED
    return job


def kill_mid_way(job: ImportJob, kill) -> tuple[int, int]:
    """Kill once the job has committed some progress and is working on more: wait for its first saved
    progress, give it INTO_NEXT seconds of further work, kill. Returns (progress saved, versions stored)."""
    wait_for(
        "the import saving its first progress",
        lambda: ImportJob.objects.filter(pk=job.pk, processed__gt=0).exists(),
        60,
        interval=0.005,
    )
    time.sleep(INTO_NEXT)
    kill()
    time.sleep(0.5)  # the server rolls back a transaction the kill cut short
    job.refresh_from_db()
    stored = FilingVersion.objects.count()
    assert job.total and stored < job.total, "the job ended before the kill: make the workbook bigger"
    return job.processed, stored


def assert_imported_exactly_once(job: ImportJob, killed_at: tuple[int, int]):
    rows = Institution.objects.count() * len(MONTHS)
    job.refresh_from_db()
    assert (job.status, job.total, job.processed) == (ImportJob.Status.DONE, rows, rows), job.error
    per_filing = Filing.objects.annotate(versions_n=Count("versions", distinct=True))
    assert per_filing.count() == rows
    assert set(per_filing.values_list("versions_n", flat=True)) == {1}, "a row was stored twice"
    assert FilingVersion.objects.filter(source=VersionSource.BULK).count() == rows
    steps = Transition.objects.values_list("filing_id", "from_status", "to_status")
    assert sorted(steps) == sorted((f, FilingStatus.DRAFT, FilingStatus.APPROVED) for f, _, _ in steps)
    assert Transition.objects.count() == rows, "a filing went through 草稿 → 已通过 twice"
    assert set(Filing.objects.values_list("status", flat=True)) == {FilingStatus.APPROVED}
    assert AuditEntry.objects.filter(action="filing.import_approve").count() == rows
    # what the officer reads on the job page: every row stored by this job, none "skipped as already approved"
    result = job.result
    assert (result["stored"], result["rejected"], result["skipped"]) == (rows, [], []), (
        f"killed with {killed_at[1]} rows stored and progress saved at {killed_at[0]}: the job reports "
        f"stored {result['stored']}, skipped {len(result['skipped'])} (e.g. {result['skipped'][:1]})"
    )


def test_import_resumes_exactly_once_after_its_pool_process_is_killed(
    transactional_db, users, master, settings, tmp_path, private_queue
):
    settings.MEDIA_ROOT = tmp_path
    worker = start_worker(private_queue, pool="prefork", media=tmp_path)
    try:
        [first_child] = worker.pool_children()
        job = upload_bulk(users)

        killed_at = kill_mid_way(job, lambda: os.kill(first_child, signal.SIGKILL))

        wait_for(
            "the import finishing after its pool process was killed",
            lambda: ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.DONE).exists(),
            90,
            interval=0.2,
        )
        assert worker.process.poll() is None and first_child not in worker.pool_children()
        assert "WorkerLostError" in worker.output() or "signal 9" in worker.output()
        assert_imported_exactly_once(job, killed_at)
    finally:
        worker.stop()


def test_import_completes_exactly_once_when_a_new_worker_takes_over_from_a_killed_one(
    transactional_db, users, master, settings, tmp_path, private_queue
):
    settings.MEDIA_ROOT = tmp_path
    first = start_worker(private_queue, pool="solo", media=tmp_path)
    second = None
    try:
        job = upload_bulk(users)

        killed_at = kill_mid_way(job, lambda: os.kill(first.process.pid, signal.SIGKILL))
        first.process.wait(timeout=10)
        assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.RUNNING
        # the portal's own settings: the lost message stays with Redis for its 900 s visibility timeout, and
        # it is the job row's stopped heartbeat that brings the job back (portal/jobs.py)
        second = start_worker(private_queue, pool="solo", media=tmp_path)

        def beat_tick():  # what the beat's "requeue-stalled-imports" entry runs every JOB_REQUEUE_SECONDS
            reporting_tasks.requeue_stalled()
            return ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.DONE).exists()

        wait_for(
            "the import resuming on the new worker", beat_tick, 120, interval=settings.JOB_REQUEUE_SECONDS
        )
        assert first.process.returncode == -signal.SIGKILL
        assert_imported_exactly_once(job, killed_at)
    finally:
        first.stop()
        if second is not None:
            second.stop()


# --- (a') kill -9 in the middle of a batch of report-card PDFs ---------------------------------------------


def test_report_cards_are_built_exactly_once_after_their_pool_process_is_killed(
    transactional_db, users, master, settings, tmp_path, private_queue
):
    settings.MEDIA_ROOT = tmp_path
    evaluation = evaluation_services.load_reference(path=REFERENCE_CSV)
    worker = start_worker(private_queue, pool="prefork", media=tmp_path)
    try:
        [first_child] = worker.pool_children()
        job = evaluation_services.request_report_cards(actor=users["pboc_admin"], evaluation=evaluation)
        wait_for(
            "the batch rendering its second card",
            lambda: ReportJob.objects.filter(pk=job.pk, processed__gte=2).exists(),
            60,
            interval=0.01,
        )
        os.kill(first_child, signal.SIGKILL)
        killed_at = ReportJob.objects.get(pk=job.pk)
        assert killed_at.status == ReportJob.Status.RUNNING and killed_at.processed < killed_at.total

        wait_for(
            "the batch finishing after its pool process was killed",
            lambda: ReportJob.objects.filter(pk=job.pk, status=ReportJob.Status.DONE).exists(),
            120,
            interval=0.2,
        )
        assert "WorkerLostError" in worker.output() or "signal 9" in worker.output()
    finally:
        worker.stop()
    job.refresh_from_db()
    assert (job.processed, job.total, job.error) == (24, 24, "")
    archives = [p for p in tmp_path.rglob("*.zip")]
    assert archives == [Path(job.file.path)], "one archive, written once"
    names = zipfile.ZipFile(job.file.path).namelist()
    assert len(names) == len(set(names)) == 24, "every card exactly once"
    assert AuditEntry.objects.filter(action="evaluation.cards").count() == 1


# --- (b) Redis down under a bank's submission -----------------------------------------------------------


@pytest.fixture
def private_redis(settings):
    """A redis-server of this test's own: the portal in this process (its Celery app and its cache) and the
    worker the test starts use it, and the test stops and starts only it."""
    redis = PrivateRedis().start()
    saved = (app.conf.broker_url, app.conf.result_backend)

    def use(url):
        pools.reset()  # close and forget every pooled connection (kombu keeps them per URL, process-wide)
        app.conf.broker_url = app.conf.result_backend = url
        app._after_fork()  # and the app's own references to those pools and producers
        app._backend_cache = None
        app._local.__dict__.pop("backend", None)

    use(redis.url)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis.url}
    }
    try:
        yield redis
    finally:
        use(saved[0])
        app.conf.result_backend = saved[1]
        redis.close()


def executed(worker_hostname: str, task: str) -> int | None:
    stats = app.control.inspect(destination=[worker_hostname], timeout=1).stats() or {}
    if worker_hostname not in stats:
        return None
    return stats[worker_hostname].get("total", {}).get(task, 0)


def test_bank_submission_while_redis_is_down_is_stored_and_answered(
    transactional_db, users, master, settings, tmp_path, private_redis
):
    settings.MEDIA_ROOT = tmp_path
    worker = start_worker(
        app.conf.task_default_queue, pool="solo", media=tmp_path, redis_url=private_redis.url
    )
    try:
        _submission_while_redis_is_down(users, master, worker, private_redis)
    finally:
        worker.stop()


def _submission_while_redis_is_down(users, master, worker, redis):
    icbc, march = master["A"], periods()[(2022, 3)]
    values = {k: Decimal(v) for k, v in sheet_values().items()}
    workbook = excel.monitoring_template(
        MONITORING_2022, institution_name=icbc.short_name, year=2022, month=3, values=values
    )
    filer, signer = Client(raise_request_exception=False), Client(raise_request_exception=False)
    filer.force_login(users["filer_a"])
    signer.force_login(users["signer_a"])
    follow_ups = executed(worker.hostname, "reporting.after_transition")
    assert follow_ups is not None

    redis.stop()
    try:
        assert not redis.is_up()
        uploaded = filer.post(
            reverse("reporting:upload", args=[icbc.pk, march.pk]),
            {"file": SimpleUploadedFile("监测表.xlsx", workbook, content_type=XLSX)},
        )
        submitted = signer.post(reverse("reporting:submit", args=[icbc.pk, march.pk]), {"confirm": "on"})
    finally:
        redis.start()  # on the same port, as a restarted service comes back

    filing = Filing.objects.get(institution=icbc, period=march)
    assert uploaded.status_code == 302 and filing.current_version.source == VersionSource.EXCEL
    assert filing.status == FilingStatus.SUBMITTED and filing.current_version.receipt_no
    assert submitted.status_code == 302, (
        f"the submission was stored but answered {submitted.status_code}: "
        + submitted.content.decode("utf-8", "replace")[:200]
    )
    # The follow-up was stored with the submission; the broker refused it, so it waits in the outbox …
    pending = PendingTask.objects.get(name="reporting.after_transition", args=[filing.pk, "submitted"])
    assert pending.sent_at is None and pending.attempts >= 1 and pending.last_error
    # The worker reconnects to the restarted broker with a back-off; once it answers again, it has run nothing
    wait_for(
        "the worker reconnecting to Redis",
        lambda: executed(worker.hostname, "reporting.after_transition") is not None,
        60,
        interval=0.5,
    )
    assert executed(worker.hostname, "reporting.after_transition") == follow_ups
    # … until the beat's next tick (every 30 s) sends it through the worker, once
    time.sleep(max(0.0, (pending.created_at + outbox.GRACE - timezone.now()).total_seconds()) + 0.5)
    outbox_tasks.deliver_pending.delay()
    wait_for(
        "the follow-up reaching the worker once Redis is back",
        lambda: executed(worker.hostname, "reporting.after_transition") == follow_ups + 1,
        60,
        interval=0.5,
    )
    pending.refresh_from_db()
    assert pending.sent_at is not None
    time.sleep(1)
    assert executed(worker.hostname, "reporting.after_transition") == follow_ups + 1


# --- (c) PostgreSQL restarting under the web server -----------------------------------------------------

# The private cluster gets the portal's schema and what the page needs: a bank user with a session.
SEED = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from institutions.models import Institution, Role, User
from institutions.services import load_master_data
from reporting.services import ensure_monthly_periods
load_master_data()
[march] = ensure_monthly_periods((2022, 3), (2022, 3))
icbc = Institution.objects.get(code="ICBC")
user = User.objects.create_user("filer_a", role=Role.BANK_FILER, institution=icbc, password="Portal-test-2022")
session = SessionStore()
session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash()})
session.create()
print(session.session_key, icbc.pk, march.pk)
"""


def get(url: str, cookie: str | None = None) -> tuple[int, str, str]:
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return (
                response.status,
                response.read().decode("utf-8", "replace"),
                response.headers["Content-Type"],
            )
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), exc.headers["Content-Type"]


@pytest.fixture
def private_postgres():
    cluster = PrivatePostgres().init()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.close()


def _manage(env: dict, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def web_server(private_postgres, tmp_path):
    """gunicorn serving the portal, DEBUG off, one worker, against a database on the private cluster."""
    port = free_port()
    owner_url = private_postgres.createdb("portal")
    app_url = owner_url.replace("postgres://postgres@", "postgres://portal_app:app-secret@")
    env = {
        **os.environ,
        "DATABASE_URL": app_url,  # served as the role that owns no table, as make serve and compose do
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PLAIN_HTTP": "1",  # served over HTTP on 127.0.0.1
        "MEDIA_ROOT": str(tmp_path),
    }
    # migrations as the owner, which creates and grants the portal's role (audit/privileges.py)
    _manage(
        {**env, "DATABASE_URL": owner_url, "APP_DATABASE_URL": app_url}, "migrate", "--noinput", "-v", "0"
    )
    session, institution, period = _manage(env, "shell", "-c", SEED).strip().splitlines()[-1].split()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "1", "--timeout", "30"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def serving():
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=2).close()
        except OSError:  # refused, reset, or slow to answer while it starts
            return False
        return True

    try:
        wait_for("gunicorn serving", serving, 30, interval=0.2)
        yield base, log, session, reverse("reporting:sheet", args=[int(institution), int(period)])
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_requests_fail_cleanly_during_a_postgresql_restart_and_succeed_after_it(private_postgres, web_server):
    base, log, cookie, sheet = web_server
    page, api = f"{base}{sheet}", f"{base}{reverse('api-me')}"
    assert get(page, cookie)[0] == 200  # the gunicorn worker now holds a persistent connection

    private_postgres.restart()
    after_restart = get(page, cookie)

    private_postgres.stop()
    try:
        during_outage = get(page, cookie)
        api_during_outage = get(api, cookie)
        health = get(f"{base}/healthz")  # as a load balancer asks: no session
    finally:
        private_postgres.start()
    after_outage = get(page, cookie)

    assert after_restart[0] == 200, "the idle connection was not health-checked and replaced after a restart"
    status, body, _type = during_outage
    assert status == 503, status
    assert "系统暂时无法处理您的请求" in body
    assert "没有丢失" not in body, "nothing was saved: the page must not say the data is safe"
    for leak in ("Traceback", "OperationalError", "psycopg2", "DATABASES", 'File "/'):
        assert leak not in body
    status, body, content_type = api_during_outage
    assert (status, content_type) == (503, "application/json"), (status, content_type, body[:200])
    assert json.loads(body)["error"]["code"] == "service_unavailable"
    assert "OperationalError" not in body
    assert health[0] == 503 and '"database": "error' in health[1]
    assert after_outage[0] == 200
    assert "Traceback" in log.read_text() or "OperationalError" in log.read_text()  # logged, not shown
