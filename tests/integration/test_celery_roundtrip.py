"""A task goes through Redis to a real `celery -A portal worker` process and its result comes back."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from portal.celery import app, ping

pytestmark = pytest.mark.integration


def _executed(worker, task_name: str) -> int:
    stats = app.control.inspect(destination=[worker.hostname], timeout=5).stats() or {}
    assert worker.hostname in stats, f"no stats from {worker.hostname}: {stats}"
    return stats[worker.hostname].get("total", {}).get(task_name, 0)


def test_ping_task_round_trips_through_the_worker(transactional_db, celery_worker_process):
    before = _executed(celery_worker_process, "portal.ping")

    result = ping.delay("x")

    assert result.get(timeout=20) == "pong:x"
    assert result.state == "SUCCESS"
    assert _executed(celery_worker_process, "portal.ping") == before + 1


def test_worker_answers_control_ping_by_its_hostname(transactional_db, celery_worker_process):
    replies = app.control.ping(destination=[celery_worker_process.hostname], timeout=2)

    assert replies == [{celery_worker_process.hostname: {"ok": "pong"}}]


def test_worker_is_started_against_the_test_database(transactional_db, celery_worker_process):
    """Rows the tests commit must be the rows the worker reads: its DATABASE_URL names the test database."""
    from django.db import connection

    environ = Path(f"/proc/{celery_worker_process.process.pid}/environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
    database_url = urlsplit(env["DATABASE_URL"])

    assert database_url.path == "/" + connection.settings_dict["NAME"]
    assert connection.settings_dict["NAME"].startswith("test_")
    assert database_url.hostname == connection.settings_dict["HOST"]
