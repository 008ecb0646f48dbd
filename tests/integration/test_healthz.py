"""/healthz reports the database, the broker and the worker (portal/views.py)."""

import pytest

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
