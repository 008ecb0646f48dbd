"""A real Celery worker for the integration tests, running against the test database and the test Redis.

`make test` (and .ci/run) always set DATABASE_URL to PostgreSQL and REDIS_URL; without them these tests
fail rather than skip, because the stack they exist to check would not be the one under test.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


@dataclass
class WorkerProcess:
    hostname: str
    queue: str
    process: subprocess.Popen
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _test_database_url() -> str:
    """settings.DATABASE_URL with its database swapped for the one pytest-django created."""
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + quote(connection.settings_dict["NAME"])))


def _require_real_stack() -> None:
    problems = []
    if connection.vendor != "postgresql":
        problems.append(f"DATABASE_URL must point at PostgreSQL (the tests run on {connection.vendor})")
    if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        problems.append("REDIS_URL must be set so that Celery uses a real broker")
    if problems:
        pytest.fail(
            "Integration tests need the real stack: "
            + "; ".join(problems)
            + ". Run them through `make test`, or export DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal"
            " REDIS_URL=redis://127.0.0.1:6379/15.",
            pytrace=False,
        )


def _answers(app, hostname: str) -> bool:
    replies = app.control.ping(destination=[hostname], timeout=0.5) or []
    return any(hostname in reply for reply in replies)


@pytest.fixture(scope="package")
def celery_worker_process(django_db_setup):
    """Start `celery -A portal worker` on the default queue; yield it once it answers a ping.

    Package-scoped: one worker serves every test in tests/integration/ and is stopped before the rest of
    the suite runs, so it never picks up work queued by unrelated tests.
    """
    _require_real_stack()
    from portal.celery import app

    queue = app.conf.task_default_queue
    hostname = f"itest-{uuid.uuid4().hex[:10]}@{socket.gethostname()}"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL}

    # Messages left by earlier runs (or by tests that queued work without a worker) must not be replayed.
    app.control.purge()

    log_file = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)
    log_path = Path(log_file.name)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        "--pool",
        "solo",
        "-Q",
        queue,
        "-n",
        hostname,
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    worker = WorkerProcess(hostname=hostname, queue=queue, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(app, hostname):
            if process.poll() is not None:
                pytest.fail(
                    f"The Celery worker exited with {process.returncode} before answering a ping:\n"
                    + worker.output(),
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The Celery worker {hostname} did not answer a ping within {START_TIMEOUT:.0f} s:\n"
                    + worker.output(),
                    pytrace=False,
                )
        yield worker
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log_path.unlink(missing_ok=True)
