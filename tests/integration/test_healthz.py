"""/healthz reports the database, the broker and the worker (portal/views.py)."""

import socket
from contextlib import contextmanager

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.integration


def test_healthz_is_ok_with_database_broker_and_a_worker(transactional_db, client, celery_worker_process):
    response = client.get("/healthz")

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": "ok", "broker": "ok", "worker": "ok", "status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reports_in_process_tasks_on_the_embedded_setting(db, client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "broker": "in-process",
        "worker": "in-process",
        "status": "ok",
    }


@contextmanager
def database_unreachable():
    """Point the default connection at a port nothing listens on (PostgreSQL itself keeps running)."""
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(port))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def test_healthz_answers_503_during_a_database_outage_even_with_a_session_cookie(
    transactional_db, client, settings, users
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # only the database is at stake here
    client.force_login(users["filer_a"])  # a real session, stored in the database
    assert client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/").status_code == 200

    with database_unreachable():
        # any other page needs the session from the database: the outage is real
        with pytest.raises(OperationalError):
            client.get("/")
        response = client.get("/healthz")

    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "database": "error: OperationalError",
        "broker": "in-process",
        "worker": "in-process",
        "status": "degraded",
    }
    # once the database is back, the same session works again
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200
