"""The embedded default (`make run`) runs long jobs in the background: a Celery worker with its beat beside
runserver, over the file broker (no Redis), on SQLite. Here the worker of portal/processes.py EMBEDDED is
started against a SQLite file of the test's own; an officer's bulk import queued in another process is
previewed by that worker while the request that queued it has long returned."""

import os
import subprocess
import sys
import time
from pathlib import Path

from portal.processes import EMBEDDED

ROOT = Path(__file__).resolve().parents[2]

QUEUE_AN_IMPORT = """
import sys
from decimal import Decimal
from django.utils import timezone
from institutions.models import Role, User
from institutions.services import load_master_data
from reporting import excel, services
from reporting.models import ImportJob
from tests.factories import periods, sheet_values

load_master_data()
periods((2022, 3), (2022, 3))
from institutions.models import PbocOffice
officer = User.objects.create(username="officer", role=Role.PBOC_OFFICER, office=PbocOffice.objects.get(code="WH"))
rows = [{"institution_code": "ICBC", "institution_name": "工商银行", "year": 2022, "month": 3,
         "values": {k: Decimal(v) for k, v in sheet_values().items()}}]
# the bulk workbook of the edition in force today, as the import page offers it
from reporting.definitions import definition_for
from reporting.models import Form
data = excel.bulk_template(definition_for(Form.MONITORING, timezone.localdate().year), rows)
job = services.start_import(actor=officer, data=data, filename="bulk.xlsx")
print("QUEUED", ImportJob.objects.get(pk=job.pk).status)
"""

JOB_STATUS = """
from reporting.models import ImportJob
job = ImportJob.objects.get()
print("STATUS", job.status, [line["category"] for line in (job.result or {}).get("preview", [])])
"""


def _env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
            "EMBEDDED_WORKER": "1",
            "EMBEDDED_WORKER_DIR": str(tmp_path),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "DEBUG": "1",
            "SECRET_KEY": "embedded-test",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
    )
    return env


def _manage(env, *args, code: str | None = None) -> str:
    argv = [sys.executable, "manage.py", *args] + (["-c", code] if code else [])
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_bulk_import_queued_on_the_embedded_default_is_previewed_by_its_background_worker(tmp_path):
    env = _env(tmp_path)
    _manage(env, "migrate", "--noinput", "-v", "0")
    queued = _manage(env, "shell", code=QUEUE_AN_IMPORT)
    assert "QUEUED queued" in queued  # the request returned before the work was done: it is not in-process

    worker_argv = [str(Path(sys.executable).parent / EMBEDDED["worker"][0]), *EMBEDDED["worker"][1:]]
    worker_argv[worker_argv.index("--schedule") + 1] = str(tmp_path / "celerybeat-schedule")
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(worker_argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, status = time.monotonic() + 90, ""
        while time.monotonic() < deadline:
            status = _manage(env, "shell", code=JOB_STATUS)
            if "STATUS ready" in status:
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(1)
        assert "STATUS ready ['new']" in status, (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        log.close()
