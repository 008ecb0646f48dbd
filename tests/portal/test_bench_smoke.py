"""The benchmark harness (bench/run.py) end to end at a tiny scale, so that `make bench` never rots.

Speed is measured by `make bench`, never asserted here: this only checks that the same code path — the
generator, the bulk import, the upload, the indicators, gunicorn and a Celery worker under 16 clients, the
PDFs — still runs and reports every figure as a number. It flushes the test database, as a transactional
test does anyway.
"""

import json
import math

import pytest
from django.conf import settings

from bench import run as bench

pytestmark = pytest.mark.integration


def test_bench_harness_reports_every_figure_as_a_number(transactional_db, tmp_path):
    if not settings.REDIS_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail(
            "the bench starts gunicorn and a Celery worker: run it with REDIS_URL set (make test does)"
        )

    results = bench.run(bench.Config.smoke(tmp_path, log=lambda _message: None))

    written = json.loads((tmp_path / "results.json").read_text("utf-8"))
    for key in bench.TARGETS:
        value = written[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        assert math.isfinite(value), key
        assert written["figures"][key]["min"] <= value <= written["figures"][key]["max"], key
    assert (
        written["dashboard_queries_450"]
        == written["dashboard_queries_4500"]
        == results["dashboard_queries_450"]
    )
    table = (tmp_path / "results.md").read_text("utf-8")
    assert all(f"`{key}`" in table for key in bench.TARGETS)
