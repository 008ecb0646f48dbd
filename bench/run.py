"""`make bench` (`python -m bench.run`): the team's benchmark suite — issue 7, described in bench/README.md.

Every figure is measured beside its baseline in the same run, repeated (`--repeat`, 5 by default), and
reported as the median with min and max; bench/results.json and bench/results.md are written, and the table
replaces the one between the markers in README.md. Speed is measured here, never asserted by a test
(tests/portal/test_bench_smoke.py only checks that a tiny run produces every figure).

The database is the bench's own: it is flushed and refilled by `bench.generate` several times (the run
refuses a database whose name does not contain "bench" unless told otherwise). Redis takes the broker
messages of the bulk imports' indicator refreshes, which are purged; gunicorn and a Celery worker are
started for the dashboard's load test (the command lines of portal/processes.py) and stopped after it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


# --- what is reported --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    op: str  # "<", "<=", "=="
    value: float | str  # a number, or the key of the figure this one must equal
    unit: str
    label: str


TARGETS: dict[str, Target] = {
    "ingest_seconds": Target(
        "<", 1, "s", "one month's bulk import of every institution, parse → rules → store"
    ),
    "ingest_ratio_vs_floor": Target(
        "<=", 2, "×", "bulk import ÷ (calamine reading the file + COPY of the rows it stores)"
    ),
    "ingest_ratio_vs_calamine": Target("<=", 6, "×", "bulk import of one month ÷ calamine reading the file"),
    "upload_p95_ms": Target("<", 150, "ms", "a bank's single-sheet upload, p95 server time"),
    "refresh_full_seconds": Target("<", 5, "s", "full indicator refresh: load + compute + store, every year"),
    "refresh_ratio_vs_floor": Target(
        "<=", 3, "×", "full refresh ÷ (one SQL read + bare pandas groupby/shift + COPY of the result rows)"
    ),
    "refresh_one_approval_seconds": Target("<", 0.5, "s", "the refresh one approved sheet triggers"),
    "indicators_seconds": Target("<", 2, "s", "compute only: every indicator, every institution-month"),
    "indicators_ratio_vs_pandas": Target("<=", 3, "×", "indicators ÷ bare pandas groupby/shift"),
    "dashboard_cold_ms": Target("<", 500, "ms", "the officer dashboard computing its body, one request"),
    "dashboard_p95_ratio_vs_healthz": Target(
        "<=", 3, "×", "officer dashboard p95 ÷ /healthz p95, 16 clients, body cached"
    ),
    "dashboard_p95_ratio_vs_healthz_after_refresh": Target(
        "<=", 3, "×", "the same just after a refresh renewed the body"
    ),
    "dashboard_queries_450": Target(
        "==", "dashboard_queries_4500", "queries", "dashboard queries, small world"
    ),
    "dashboard_queries_4500": Target(
        "==", "dashboard_queries_450", "queries", "dashboard queries, main world"
    ),
    "pdf_ratio_vs_latin": Target("<=", 1.3, "×", "附件1 table + report card PDF ÷ the same in Latin text"),
    "peak_rss_mib": Target("<", 1024, "MiB", "largest resident memory of ingest, refresh and indicators"),
    "ingest_scaling_exponent": Target("<=", 1.1, "", "slope of log(ingest time) on log(institutions)"),
    "refresh_scaling_exponent": Target("<=", 1.1, "", "slope of log(full refresh time) on log(institutions)"),
    "indicators_scaling_exponent": Target(
        "<=", 1.1, "", "slope of log(indicators time) on log(institutions)"
    ),
}


@dataclass
class Figure:
    runs: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        s = sorted(self.runs)
        mid = len(s) // 2
        return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2

    def summary(self, digits: int = 3) -> dict:
        return {
            "median": round(self.median, digits),
            "min": round(min(self.runs), digits),
            "max": round(max(self.runs), digits),
            "runs": [round(r, digits + 2) for r in self.runs],
        }


@dataclass
class Config:
    institutions: int = 4500  # the main world
    months: int = 36
    small: int = 450  # the scaling points: small, main, large
    large: int = 45_000
    repeat: int = 5
    clients: int = 16
    uploads: int = 30  # per run
    healthz_requests: int = 6  # per client per run
    dashboard_requests: int = 1  # per client per run
    dashboard_world: str = "main"  # which world the load test runs in: "small" or "main"
    out: Path = HERE
    readme: Path | None = ROOT / "README.md"
    allow_any_database: bool = False
    log: Callable[[str], None] = print

    @classmethod
    def smoke(cls, out: Path, **overrides) -> Config:
        """The tiny run of tests/portal/test_bench_smoke.py: the same code path at 24–60 institutions × 3 months."""
        base = cls(
            institutions=30,
            months=3,
            small=24,
            large=60,
            repeat=2,
            uploads=3,
            healthz_requests=2,
            dashboard_requests=1,
            out=out,
            readme=None,
            allow_any_database=True,
        )
        return replace(base, **overrides)


# --- the measuring tools -----------------------------------------------------------------------------------------


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


class PeakRSS:
    """The process's peak resident set size while the block runs (Linux: VmHWM, reset through clear_refs)."""

    def __init__(self):
        self.mib = 0.0
        self.resettable = True

    def __enter__(self):
        gc.collect()
        _trim_heap()  # what earlier steps freed goes back to the system before the peak is reset
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            self.resettable = False
        return self

    def __exit__(self, *exc):
        self.mib = _hwm_mib()


def _trim_heap() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _hwm_mib() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q))


def slope(sizes: list[int], times: list[float]) -> float:
    """Least-squares slope of log(time) on log(size)."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(t) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


# --- database and processes --------------------------------------------------------------------------------------


def database_url() -> str:
    """The URL of the database Django is connected to (under pytest: the test database it created)."""
    from django.conf import settings
    from django.db import connection

    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + quote(connection.settings_dict["NAME"])))


def purge_broker() -> None:
    """Drop queued messages (the imports' indicator refreshes) so that no worker replays them later."""
    from portal.celery import app

    try:
        app.control.purge()
    except Exception as exc:  # a broker that is down is reported by the load test, not here
        print(f"bench: could not purge the broker ({exc.__class__.__name__})", file=sys.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """gunicorn (PROCESSES["web"] on 127.0.0.1 and a free port) and a Celery worker (PROCESSES["worker"]),
    against the bench database; /healthz answers once both are up."""

    port: int
    processes: list[subprocess.Popen]
    logs: list[Path]

    @classmethod
    def start(cls, media: Path, timeout: float = 90) -> Server:
        from django.conf import settings

        from portal.processes import PROCESSES

        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-secret-key",
            "DEBUG": "0",
            "PLAIN_HTTP": "1",  # served on 127.0.0.1 over HTTP: no redirect to HTTPS
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "MEDIA_ROOT": str(media),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("CELERY_BROKER_URL", None)
        web = list(PROCESSES["web"])
        web[web.index("--bind") + 1] = f"127.0.0.1:{port}"
        worker = [*PROCESSES["worker"], "--hostname", f"bench-{uuid.uuid4().hex[:8]}@%h"]
        purge_broker()
        processes, logs = [], []
        for name, argv in (("web", web), ("worker", worker)):
            log = media / f"{name}.log"
            logs.append(log)
            with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
                processes.append(
                    subprocess.Popen(
                        _executable(argv),
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        server = cls(port, processes, logs)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in processes):
                break
            try:
                status, _body = server.get("/healthz")
                if status == 200:
                    return server
            except OSError:
                pass
            time.sleep(0.5)
        server.stop()
        tail = "\n".join(log.read_text(errors="replace")[-1500:] for log in logs)
        raise RuntimeError(f"gunicorn / Celery worker did not become healthy:\n{tail}")

    def get(self, path: str, cookie: str = "") -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def load(self, path: str, cookies: list[str], per_client: int) -> list[float]:
        """len(cookies) clients at once, each sending per_client requests one after another; the latencies."""
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(len(cookies))

        def client(cookie: str) -> None:
            barrier.wait()
            for _ in range(per_client):
                start = time.perf_counter()
                status, body = self.get(path, cookie)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if status != 200:
                        failures.append(f"{path} → {status}: {body[:200]!r}")

        threads = [threading.Thread(target=client, args=(c,)) for c in cookies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise Degraded(f"{len(failures)} failed requests, e.g. {failures[0]}")
        return latencies

    def stop(self) -> None:
        """SIGTERM to each process group (gunicorn's and Celery's children too); wait until every member is
        gone, so that no connection to the database outlives the run."""
        for p in self.processes:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for p in self.processes:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            while time.monotonic() < deadline:
                try:
                    os.killpg(p.pid, 0)  # anyone left in the group?
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)


class Degraded(RuntimeError):
    """The stack answered 503 (PostgreSQL or Redis went away): the run is done again once it is back."""


def transient(exc: BaseException) -> bool:
    """A failure of the services rather than of the code: PostgreSQL or Redis restarting under the run."""
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError

    return isinstance(exc, Degraded | OperationalError | InterfaceError | BrokerError | RedisConnectionError)


def wait_for_services(timeout: float = 120) -> None:
    """Until PostgreSQL answers and the broker accepts a connection again."""
    from django.db import connections

    from portal.celery import app

    deadline = time.monotonic() + timeout
    while True:
        connections.close_all()
        try:
            connections["default"].ensure_connection()
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def _executable(argv: list[str]) -> list[str]:
    candidate = Path(sys.executable).parent / argv[0]
    return [str(candidate) if candidate.exists() else argv[0], *argv[1:]]


# --- the benchmark ------------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, config: Config, media: Path):
        self.c = config
        self.media = media
        self.started = time.monotonic()
        self.figures: dict[str, Figure] = {}
        self.details: dict = {}
        self.rss: dict[str, float] = {}
        self.retries = 0

    def log(self, message: str) -> None:
        self.c.log(f"[{time.monotonic() - self.started:6.1f}s] {message}")

    def step(self, fn, *args, attempts: int = 3):
        """Run one step; when PostgreSQL or Redis went away under it, wait for them and run it again (each
        step starts from its own state: a world is rewritten, an import month reset)."""
        for attempt in range(1, attempts + 1):
            try:
                return fn(*args)
            except Exception as exc:
                if attempt == attempts or not transient(exc):
                    raise
                self.log(f"{fn.__name__}: {exc.__class__.__name__}: {str(exc)[:120]} — waiting, then again")
                self.retries += 1
                wait_for_services()

    # worlds ---------------------------------------------------------------------------------------------------

    def world(self, n: int, full: bool):
        from bench import generate as g

        if full:
            world = g.write_world(n, months=g.data_months(self.c.months))
            g.store_indicators(world, institution_months=self._dashboard_months())
        else:  # the large scaling world: only the month the imported one follows
            world = g.write_world(n, months=[self._previous_month()], plans=False)
        self.log(f"world of {n} institutions ({'full' if full else 'one month'}) written")
        return world

    def _data_end(self) -> tuple[int, int]:
        from bench import generate as g

        return g.data_months(self.c.months)[-1]

    def _dashboard_months(self) -> list[tuple[int, int]]:
        year, month = self._data_end()
        return sorted({(year, month), (year - 1, month), (year - 1, 12)})

    def _previous_month(self) -> tuple[int, int]:
        return self._data_end()

    def _ingest_month(self) -> tuple[int, int]:
        year, month = self._data_end()
        return (year + 1, 1) if month == 12 else (year, month + 1)

    def _upload_month(self) -> tuple[int, int]:
        from bench import generate as g

        t = g.month_index(*self._data_end()) + 6
        return g.period_of(t)

    # ingest ---------------------------------------------------------------------------------------------------

    def ingest(self, world, scale: str) -> None:
        """One month's 批量导入 workbook for every institution: python-calamine reading it, then the import job
        (file checks, parse, validate, store), side by side in each run; the month is reset between runs."""
        from io import BytesIO

        from python_calamine import CalamineWorkbook

        from bench import generate as g
        from reporting import bulk, excel
        from reporting.definitions import definition_for
        from reporting.models import Form

        year, month = self._ingest_month()
        rows = g.bulk_rows(world.specs, year, month)
        # One workbook, even past the product's 20,000-row cap: split, each row of a later workbook would be
        # checked by W406 against every row of the earlier ones (bench/README.md, "findings").
        data = excel.bulk_template(definition_for(Form.MONITORING, year), rows)
        self.log(f"ingest {world.n}: a {len(data) / 1e6:.1f} MB workbook")

        def calamine():
            sheet = CalamineWorkbook.from_object(BytesIO(data)).get_sheet_by_name(excel.BULK_SHEET)
            sheet.to_python(skip_empty_area=False)

        ratios, floor_ratios, seconds, readings, copies = [], [], [], [], []
        for _run in range(self.c.repeat):
            self._reset_month(year, month)
            job = self._job(world, data)
            t_read = min(timed(calamine)[0] for _ in range(3))  # the floor: the best of three readings
            with PeakRSS() as peak, row_cap(len(rows)):
                t_ingest, _ = timed(bulk.process, job)
            self._check_job(job, len(rows))
            t_copy = self._copy_floor(year, month)
            ratios.append(t_ingest / t_read)
            floor_ratios.append(t_ingest / (t_read + t_copy))
            seconds.append(t_ingest)
            readings.append(t_read)
            copies.append(t_copy)
            self.rss[f"ingest_{world.n}"] = max(self.rss.get(f"ingest_{world.n}", 0), peak.mib)
            self.log(
                f"  ingest {world.n}: {t_ingest:.2f} s, calamine {t_read * 1000:.0f} ms + COPY "
                f"{t_copy * 1000:.0f} ms, ×{floor_ratios[-1]:.1f} the floor, ×{t_ingest / t_read:.1f} calamine"
            )
        self._reset_month(year, month)
        purge_broker()
        self.details.setdefault("ingest", {})[str(world.n)] = {
            "scale": scale,
            "rows": len(rows),
            "workbook_bytes": len(data),
            "ingest_seconds": Figure(seconds).summary(),
            "calamine_seconds": Figure(readings).summary(4),
            "copy_seconds": Figure(copies).summary(4),
            "ratio": Figure(ratios).summary(),
            "ratio_vs_floor": Figure(floor_ratios).summary(),
        }
        if scale == "main":
            self.figures["ingest_seconds"] = Figure(seconds)
            self.figures["ingest_ratio_vs_calamine"] = Figure(ratios)
            self.figures["ingest_ratio_vs_floor"] = Figure(
                floor_ratios,
                note=f"floor: calamine {Figure(readings).median * 1000:.0f} ms + COPY of the stored rows "
                f"{Figure(copies).median * 1000:.0f} ms",
            )

    def _job(self, world, data: bytes):
        from django.core.files.base import ContentFile

        from reporting.models import ImportJob

        job = ImportJob(created_by=world.officer, upload_name="bench.xlsx", upload_sha256="bench")
        job.upload.save(f"bench-{uuid.uuid4().hex[:12]}.xlsx", ContentFile(data), save=False)
        job.save()
        return job

    @staticmethod
    def _check_job(job, rows: int) -> None:
        job.refresh_from_db()
        if job.status != "done" or job.result.get("rejected") or job.result.get("skipped"):
            first = (job.result.get("rejected") or job.result.get("skipped") or [job.error])[0]
            raise RuntimeError(f"the generated workbook did not import cleanly: {job.status}, {first}")
        if job.result["stored"] != rows:
            raise RuntimeError(f"{job.result['stored']} of {rows} rows stored")

    def _copy_floor(self, year: int, month: int) -> float:
        """The write floor of an import: every row it stored — the month's filings, their versions and
        transitions, the audit entries — read back out (COPY TO, not timed), the month reset, then written again
        with one COPY per table in one transaction (timed); the month is reset after."""
        import io

        from django.db import connection, transaction

        from reporting.models import Form, Period

        period = Period.objects.get(form=Form.MONITORING, year=year, month=month).pk
        filings = f"SELECT id FROM reporting_filing WHERE period_id = {int(period)}"
        tables = {
            "reporting_filing": f"SELECT * FROM reporting_filing WHERE period_id = {int(period)}",
            "reporting_filingversion": f"SELECT * FROM reporting_filingversion WHERE filing_id IN ({filings})",
            "reporting_transition": f"SELECT * FROM reporting_transition WHERE filing_id IN ({filings})",
            "audit_auditentry": "SELECT * FROM audit_auditentry",
        }
        dumps = {}
        with connection.cursor() as cursor:
            for table, query in tables.items():
                buffer = io.StringIO()
                cursor.cursor.copy_expert(f"COPY ({query}) TO STDOUT", buffer)
                dumps[table] = buffer.getvalue()
        self._reset_month(year, month)

        def copy_in():
            # the filings name their versions before these exist: Django's foreign keys are checked at commit
            with transaction.atomic(), connection.cursor() as cursor:
                for table, text in dumps.items():
                    cursor.cursor.copy_expert(f"COPY {table} FROM STDIN", io.StringIO(text))

        seconds, _ = timed(copy_in)
        self._reset_month(year, month)
        return seconds

    @staticmethod
    def _reset_month(year: int, month: int) -> None:
        """Undo an import: the month's filings with their versions and transitions, the jobs, the queued
        refresh runs, and the audit log (TRUNCATE past the append-only triggers: the bench's own database)."""
        from django.db import connection, transaction

        from audit.privileges import wiping_allowed
        from reporting.models import Form, Period

        period = Period.objects.get(form=Form.MONITORING, year=year, month=month)
        with transaction.atomic(), connection.cursor() as cursor:
            filings = "SELECT id FROM reporting_filing WHERE period_id = %s"
            cursor.execute(f"DELETE FROM reporting_transition WHERE filing_id IN ({filings})", [period.pk])
            cursor.execute(
                "UPDATE reporting_filing SET current_version_id = NULL WHERE period_id = %s", [period.pk]
            )
            cursor.execute(f"DELETE FROM reporting_filingversion WHERE filing_id IN ({filings})", [period.pk])
            cursor.execute("DELETE FROM reporting_filing WHERE period_id = %s", [period.pk])
            cursor.execute("DELETE FROM reporting_importjob")
            cursor.execute("DELETE FROM indicators_refreshrun WHERE status = 'queued'")
        with wiping_allowed(connection), connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditentry, audit_auditseal")

    # upload ---------------------------------------------------------------------------------------------------

    def upload(self, world) -> None:
        """A bank's filer uploads its filled 附件4 template (the web form's POST, in process): the server time
        from request_started to request_finished, p95 of `uploads` uploads per run."""
        from decimal import Decimal

        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.core.signals import request_finished, request_started
        from django.test import Client
        from django.urls import reverse

        from bench import generate as g
        from institutions.models import Institution
        from reporting import excel
        from reporting.definitions import definition_for
        from reporting.models import Form, Period

        year, month = self._upload_month()
        period = Period.objects.get(form=Form.MONITORING, year=year, month=month)
        institution = Institution.objects.get(pk=world.filer.institution_id)
        arrays = g.sheet_arrays(world.n, (year, month), 1)
        definition = definition_for(Form.MONITORING, year)
        values = {
            code: Decimal(g.text(int(arrays[code][0, 0]), g.ALL_DECIMALS[code])) for code in definition.codes
        }
        data = excel.monitoring_template(
            definition, institution_name=institution.name, year=year, month=month, values=values
        )
        client = Client()
        client.force_login(world.filer)
        url = reverse("reporting:upload", args=[institution.pk, period.pk])
        marks: list[float] = []

        def started(**_kw):
            marks.append(time.perf_counter())

        def finished(**_kw):
            marks.append(time.perf_counter())

        p95s = []
        request_started.connect(started)
        request_finished.connect(finished)
        try:
            for _run in range(self.c.repeat):
                server = []
                for _ in range(self.c.uploads):
                    marks.clear()
                    file = SimpleUploadedFile("监测表.xlsx", data, content_type="application/octet-stream")
                    response = client.post(url, {"file": file})
                    if response.status_code != 302:
                        raise RuntimeError(f"upload answered {response.status_code}")
                    server.append((marks[-1] - marks[0]) * 1000)
                p95s.append(percentile(server, 95))
                self.log(f"  upload p95 {p95s[-1]:.0f} ms (median {percentile(server, 50):.0f} ms)")
        finally:
            request_started.disconnect(started)
            request_finished.disconnect(finished)
        from reporting.models import FilingVersion

        stored = FilingVersion.objects.filter(filing__period=period, filing__institution=institution).count()
        if stored != self.c.repeat * self.c.uploads:
            raise RuntimeError(f"{stored} upload versions stored, expected {self.c.repeat * self.c.uploads}")
        self.figures["upload_p95_ms"] = Figure(p95s)

    # indicators -----------------------------------------------------------------------------------------------

    def indicators(self) -> None:
        """indicators.compute over generated inputs (every indicator, every institution-month, every scope)
        beside a bare pandas groupby/shift over the same sheets frame, at the three scales."""
        from bench import generate as g
        from indicators import indicators as ind

        fields = [c for c in ind.SHEET_FIELDS if c in g.DECIMALS]
        medians = {}
        per_run: dict[int, list[float]] = {}
        for n in (self.c.small, self.c.institutions, self.c.large):
            inputs = g.inputs(n, self.c.months)
            engine, floor = [], []
            for _run in range(self.c.repeat):
                t_floor = min(timed(pandas_floor, inputs.sheets, fields)[0] for _ in range(3))
                with PeakRSS() as peak:
                    t_engine, result = timed(ind.compute, inputs)
                engine.append(t_engine)
                floor.append(t_floor)
                self.rss[f"indicators_{n}"] = max(self.rss.get(f"indicators_{n}", 0), peak.mib)
                del result
            per_run[n] = engine
            medians[n] = Figure(engine).median
            self.details.setdefault("indicators", {})[str(n)] = {
                "institution_months": len(inputs.sheets),
                "indicators": len(ind.INDICATORS),
                "engine_seconds": Figure(engine).summary(),
                "pandas_seconds": Figure(floor).summary(4),
            }
            self.log(
                f"indicators {n}: {Figure(engine).median:.2f} s, pandas {Figure(floor).median * 1000:.0f} ms"
            )
            if n == self.c.institutions:
                self.figures["indicators_seconds"] = Figure(engine)
                self.figures["indicators_ratio_vs_pandas"] = Figure(
                    [e / f for e, f in zip(engine, floor, strict=True)]
                )
            del inputs
        sizes = [self.c.small, self.c.institutions, self.c.large]
        self.figures["indicators_scaling_exponent"] = Figure(
            [slope(sizes, [per_run[n][r] for n in sizes]) for r in range(self.c.repeat)],
            note=f"medians {', '.join(f'{n}: {medians[n]:.2f} s' for n in sizes)}",
        )

    # refresh --------------------------------------------------------------------------------------------------

    def refresh(self, world, scale: str) -> None:
        """The indicator refresh as the worker runs it: every year from the database (`services.refresh_now`:
        load + compute + store, one transaction), beside its floor in the same run — one SQL read of the same
        sheet values into a frame, the bare pandas groupby/shift over it, and a COPY of the rows the refresh
        stored; then, in the main world, the refresh one approved sheet triggers (`changes`)."""
        from indicators import indicators as ind
        from indicators import services
        from indicators.models import RefreshRun

        fields = list(ind.SHEET_FIELDS)
        full, floors, parts, single = [], [], [], []
        for _run in range(self.c.repeat):
            with PeakRSS() as peak:
                t_full, run = timed(services.refresh_now)
            if run.status != RefreshRun.Status.DONE:
                raise RuntimeError(f"the full refresh ended {run.status}: {run.error}")
            t_read, frame = timed(self._sql_frame, fields)
            t_pandas = min(timed(pandas_floor, frame, fields)[0] for _ in range(3))
            t_copy = self._copy_results()
            full.append(t_full)
            floors.append(t_read + t_pandas + t_copy)
            parts.append((t_read, t_pandas, t_copy))
            self.rss[f"refresh_{world.n}"] = max(self.rss.get(f"refresh_{world.n}", 0), peak.mib)
            line = (
                f"  refresh {world.n}: {t_full:.2f} s ({run.row_count:,} values), floor {floors[-1]:.2f} s "
                f"(read {t_read:.2f} + pandas {t_pandas:.2f} + COPY {t_copy:.2f}), ×{t_full / floors[-1]:.1f}"
            )
            if scale == "main":
                t_one = self._one_approval(world)
                single.append(t_one)
                line += f"; one approval {t_one * 1000:.0f} ms"
            self.log(line)
        self.details.setdefault("refresh", {})[str(world.n)] = {
            "scale": scale,
            "values_stored": run.row_count,
            "refresh_seconds": Figure(full).summary(),
            "floor_seconds": Figure(floors).summary(),
            "floor_read_pandas_copy_seconds": [[round(x, 4) for x in p] for p in parts],
        }
        if scale == "main":
            self.figures["refresh_full_seconds"] = Figure(full, note=f"{run.row_count:,} values stored")
            self.figures["refresh_ratio_vs_floor"] = Figure(
                [f / b for f, b in zip(full, floors, strict=True)]
            )
            self.figures["refresh_one_approval_seconds"] = Figure(
                single,
                note="one institution's December sheet: its rows, its group's, kind's and province's, the next years' reach",
            )

    @staticmethod
    def _sql_frame(fields: list[str]):
        """One SQL read of every approved monitoring sheet's values (JSON → float in the query) into a frame."""
        import pandas as pd
        from django.db import connection

        numbers = ", ".join(f"(v.values ->> %s)::float AS {code}" for code in fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT f.institution_id, p.year, p.month, {numbers} FROM reporting_filing f "
                "JOIN reporting_period p ON p.id = f.period_id "
                "JOIN reporting_filingversion v ON v.id = f.current_version_id "
                "WHERE p.form = 'monitoring' AND f.status = 'approved'",
                fields,
            )
            return pd.DataFrame.from_records(
                cursor.fetchall(), columns=["institution_id", "year", "month", *fields]
            )

    @staticmethod
    def _copy_results() -> float:
        """COPY of the stored result rows into a table like theirs (read out first, not timed). The refresh
        also writes the reason texts it has not stored before (a few dozen): left out of the floor."""
        import io

        from django.db import connection, transaction

        from indicators.models import IndicatorMonth

        table = IndicatorMonth._meta.db_table
        buffer = io.BytesIO()
        with connection.cursor() as cursor:  # binary, as indicators.storage writes them
            cursor.cursor.copy_expert(f"COPY {table} TO STDOUT (FORMAT binary)", buffer)
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS bench_result_copy (LIKE {table})")
            cursor.execute("TRUNCATE bench_result_copy")
        data = buffer.getvalue()

        def copy_in():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.cursor.copy_expert(
                    "COPY bench_result_copy FROM STDIN (FORMAT binary)", io.BytesIO(data)
                )

        seconds, _ = timed(copy_in)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE bench_result_copy")
        return seconds

    def _one_approval(self, world) -> float:
        """The refresh after one sheet's approval: one institution's last December (the last month of a world
        shorter than a year), through request_refresh
        as refresh_after_transition asks for it, performed in process."""
        from indicators import services
        from indicators.models import RefreshRun
        from reporting.models import Filing, Form

        year, month = self._data_end()
        if month != 12 and self.c.months > month:  # the year before ends within the data: its December
            year, month = year - 1, 12
        filing = (
            Filing.objects.filter(period__form=Form.MONITORING, period__year=year, period__month=month)
            .order_by("institution_id")
            .select_related("period")
            .first()
        )
        run = services.request_refresh(
            trigger=RefreshRun.Trigger.APPROVAL,
            changes=[(filing.institution_id, Form.MONITORING, year, month)],
            filing=filing,
        )
        seconds, run = timed(services.refresh, run=run)
        if run.status != RefreshRun.Status.DONE or not run.row_count:
            raise RuntimeError(f"the one-approval refresh ended {run.status}: {run.error}")
        purge_broker()
        return seconds

    # dashboard ------------------------------------------------------------------------------------------------

    def dashboard_alone(self, world, key: str) -> None:
        """The dashboard in process, one request at a time, after a warm-up: its queries and time with the body
        computed (the cache renewed first: the count must be equal at every scale) and served from the cache."""
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from indicators import dashcache

        client = Client()
        client.force_login(world.officer)
        client.get("/indicators/")
        computed, cached = [], []
        for _ in range(self.c.repeat):
            dashcache.renew()
            with CaptureQueriesContext(connection) as captured:
                seconds, response = timed(client.get, "/indicators/")
            queries = len(captured)  # now: the next request clears the connection's query log
            if response.status_code != 200:
                raise RuntimeError(f"the dashboard answered {response.status_code}")
            computed.append(seconds)
            with CaptureQueriesContext(connection) as captured:
                seconds, _response = timed(client.get, "/indicators/")
            cached_queries = len(captured)
            cached.append(seconds)
        self.figures[key] = Figure([float(queries)] * self.c.repeat)
        if world.n == self.c.institutions:
            self.figures["dashboard_cold_ms"] = Figure(
                [s * 1000 for s in computed], note=f"at {world.n} institutions, an officer who sees them all"
            )
        self.details.setdefault("dashboard_alone_seconds", {})[str(world.n)] = Figure(computed).summary()
        self.details.setdefault("dashboard_cached_seconds", {})[str(world.n)] = Figure(cached).summary()
        self.details.setdefault("dashboard_cached_queries", {})[str(world.n)] = cached_queries
        self.details.setdefault("dashboard_page_bytes", {})[str(world.n)] = len(response.content)
        self.log(
            f"dashboard at {world.n}: {queries} queries, {min(computed):.2f} s computed; "
            f"{cached_queries} queries, {min(cached) * 1000:.0f} ms from the cache"
        )

    def dashboard_load(self, world) -> None:
        """16 clients at once against gunicorn: /healthz, then the officer's dashboard, in each run."""
        from django.conf import settings
        from django.test import Client

        from indicators import dashcache

        cookies = []
        for _ in range(self.c.clients):
            client = Client()
            client.force_login(world.officer)
            cookies.append(
                f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
            )
        server = Server.start(self.media)
        try:
            status, body = server.get("/indicators/", cookies[0])
            if status != 200 or b"<html" not in body[:2000].lower():
                raise RuntimeError(f"the dashboard answered {status}")
            # every gunicorn worker warmed up (8 requests at once reach all 4), not measured
            server.load("/healthz", cookies, 1)
            server.load("/indicators/", cookies[:8], 1)
            ratios, health_p95, board_p95, cold_p95, cold_ratios = [], [], [], [], []
            for _run in range(self.c.repeat):
                health = server.load("/healthz", cookies, self.c.healthz_requests)
                board = server.load("/indicators/", cookies, self.c.dashboard_requests)
                # cold: the body just renewed (a refresh completed), so all 16 compute it at once
                dashcache.renew()
                cold = server.load("/indicators/", cookies, self.c.dashboard_requests)
                h, d, c = percentile(health, 95), percentile(board, 95), percentile(cold, 95)
                health_p95.append(h)
                board_p95.append(d)
                ratios.append(d / h)
                cold_p95.append(c)
                cold_ratios.append(c / h)
                self.log(
                    f"  healthz p95 {h * 1000:.0f} ms, dashboard p95 {d * 1000:.0f} ms, ×{d / h:.1f}; "
                    f"just after a refresh {c * 1000:.0f} ms, ×{c / h:.0f}"
                )
        finally:
            server.stop()
        self.figures["dashboard_p95_ratio_vs_healthz"] = Figure(
            ratios,
            note=f"at {world.n} institutions, {self.c.clients} clients, gunicorn --workers 4, the body cached",
        )
        self.figures["dashboard_p95_ratio_vs_healthz_after_refresh"] = Figure(
            cold_ratios, note=f"the {self.c.clients} clients' first request after the body was renewed"
        )
        self.details["dashboard"] = {
            "institutions": world.n,
            "clients": self.c.clients,
            "requests_per_run": {
                "healthz": self.c.clients * self.c.healthz_requests,
                "dashboard": self.c.clients * self.c.dashboard_requests,
            },
            "healthz_p95_seconds": Figure(health_p95).summary(4),
            "dashboard_p95_seconds": Figure(board_p95).summary(3),
            "cold_dashboard_p95_seconds": Figure(cold_p95).summary(3),
            "cold_ratio_vs_healthz": Figure(cold_ratios).summary(1),
            "page_bytes": len(body),
        }

    # pdf ------------------------------------------------------------------------------------------------------

    def pdf(self) -> None:
        """evaluation.pdf's 附件1 table and one report card, as the portal renders them, beside the same HTML
        with every CJK character replaced by two Latin letters (the same code path; only the text differs)."""
        from evaluation import pages, pdf, selectors, services
        from institutions.models import Institution
        from portal import pdf as machinery

        evaluation = services.load_reference(path=ROOT / "fixtures" / "2021-hubei-four-lists-evaluation.csv")
        table = selectors.results(evaluation)
        institution = Institution.objects.get(pk=table.rows[0].institution_id)
        card = pages.report_card(evaluation, institution, table)
        now = datetime.now(UTC)

        def render(latin: bool) -> int:
            with latin_text(latin):
                a = pdf.result_table_pdf(table, generated_at=now)
                b = pdf.report_card_pdf(card, generated_at=now)
            return len(a) + len(b)

        render(False), render(True)  # fonts and templates loaded once
        ratios, cjk, latin = [], [], []
        for run in range(self.c.repeat):
            order = (False, True) if run % 2 == 0 else (True, False)
            times = {}
            for variant in order:
                times[variant], size = timed(render, variant)
            cjk.append(times[False])
            latin.append(times[True])
            ratios.append(times[False] / times[True])
            self.log(f"  pdf {times[False]:.2f} s, latin {times[True]:.2f} s, ×{ratios[-1]:.2f}")
        self.figures["pdf_ratio_vs_latin"] = Figure(ratios)
        self.details["pdf"] = {
            "font": str(machinery.font_path()),
            "cjk_seconds": Figure(cjk).summary(),
            "latin_seconds": Figure(latin).summary(),
            "institutions_in_table": len(table.rows),
            "card": institution.short_name,
        }

    # the whole run --------------------------------------------------------------------------------------------

    def run(self) -> dict:
        c = self.c
        purge_broker()
        small = self.step(self.world, c.small, True)
        self.step(self.dashboard_alone, small, "dashboard_queries_450")
        if c.dashboard_world == "small":
            self.step(self.dashboard_load, small)
        self.step(self.ingest, small, "small")
        self.step(self.refresh, small, "small")
        large = self.step(self.world, c.large, False)
        self.step(self.ingest, large, "large")
        del large
        main = self.step(self.world, c.institutions, True)
        self.step(self.dashboard_alone, main, "dashboard_queries_4500")
        if c.dashboard_world == "main":
            self.step(self.dashboard_load, main)
        self.step(self.pdf)
        self.step(self.upload, main)
        self.step(self.ingest, main, "main")
        self.step(self.refresh, main, "main")
        del main
        self.indicators()
        # the full refresh at the large scale needs the large world with every month
        large = self.step(self.world, c.large, True)
        self.step(self.refresh, large, "large")
        del large
        sizes = [c.small, c.institutions, c.large]
        refreshes = [self.details["refresh"][str(n)]["refresh_seconds"]["runs"] for n in sizes]
        self.figures["refresh_scaling_exponent"] = Figure(
            [slope(sizes, [r[i] for r in refreshes]) for i in range(c.repeat)],
            note="medians "
            + ", ".join(
                f"{n}: {self.details['refresh'][str(n)]['refresh_seconds']['median']:.2f} s" for n in sizes
            ),
        )
        runs = [self.details["ingest"][str(n)]["ingest_seconds"]["runs"] for n in sizes]
        self.figures["ingest_scaling_exponent"] = Figure(
            [slope(sizes, [r[i] for r in runs]) for i in range(c.repeat)],
            note="medians "
            + ", ".join(
                f"{n}: {self.details['ingest'][str(n)]['ingest_seconds']['median']:.2f} s" for n in sizes
            ),
        )
        peak = max(
            self.rss.get(f"ingest_{c.institutions}", 0),
            self.rss.get(f"refresh_{c.institutions}", 0),
            self.rss.get(f"indicators_{c.institutions}", 0),
        )
        self.figures["peak_rss_mib"] = Figure(
            [peak] * c.repeat, note="the process's VmHWM, reset before each step"
        )
        self.details["peak_rss_mib_by_step"] = {k: round(v, 1) for k, v in sorted(self.rss.items())}
        purge_broker()
        return self.report()

    def report(self) -> dict:
        c = self.c
        out: dict = {}
        figures = {}
        for key, target in TARGETS.items():
            figure = self.figures[key]
            summary = figure.summary()
            met = _met(key, figure.median, self.figures)
            figures[key] = {
                **summary,
                "unit": target.unit,
                "target": _target_text(target),
                "met": met,
                "what": target.label,
                **({"note": figure.note} if figure.note else {}),
            }
            out[key] = summary["median"]
        out["figures"] = figures
        out["details"] = self.details
        out["environment"] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": _postgres_version(),
            "duration_seconds": round(time.monotonic() - self.started, 1),
            "steps_retried": self.retries,
            "config": {
                "institutions": c.institutions,
                "months": c.months,
                "scales": [c.small, c.institutions, c.large],
                "repeat": c.repeat,
                "clients": c.clients,
                "uploads_per_run": c.uploads,
                "dashboard_world": c.small if c.dashboard_world == "small" else c.institutions,
            },
        }
        return out


class row_cap:
    """The product's caps on a bulk workbook (excel.BULK_MAX_ROWS, uploads.MAX_SHEET_ROWS) raised to at least
    `rows` while active: the large scaling point imports its month as one workbook."""

    def __init__(self, rows: int):
        self.rows = rows

    def __enter__(self):
        from reporting import excel, uploads

        self.previous = excel.BULK_MAX_ROWS, uploads.MAX_SHEET_ROWS
        excel.BULK_MAX_ROWS = max(excel.BULK_MAX_ROWS, self.rows)
        uploads.MAX_SHEET_ROWS = max(uploads.MAX_SHEET_ROWS, self.rows + 100)  # + title and header rows

    def __exit__(self, *exc):
        from reporting import excel, uploads

        excel.BULK_MAX_ROWS, uploads.MAX_SHEET_ROWS = self.previous


def pandas_floor(sheets, fields):
    """The physical floor of the indicators: over the same frame, bring each institution-month its value a
    year earlier (one groupby/shift) and total every month (one groupby/sum) — what any formula of a month
    against another month, summed over a scope, has to touch at least once."""
    frame = sheets.sort_values(["institution_id", "year", "month"])
    earlier = frame.groupby("institution_id", sort=False)[fields].shift(12)
    totals = frame.groupby(["year", "month"])[fields].sum()
    return earlier, totals


class latin_text:
    """While active (and `on`), weasyprint.HTML gets its HTML with every CJK character replaced by two Latin
    letters — the 附件1 table and the report card rendered by the portal's own code, in Latin text. Inactive,
    it passes the HTML through the same wrapper, so both variants pay the same."""

    def __init__(self, on: bool):
        self.on = on

    def __enter__(self):
        import weasyprint

        self.original = weasyprint.HTML
        on, original = self.on, self.original

        def html(*args, string=None, **kwargs):
            if string is not None and on:
                string = to_latin(string)
            return original(*args, string=string, **kwargs)

        weasyprint.HTML = html
        return self

    def __exit__(self, *exc):
        import weasyprint

        weasyprint.HTML = self.original


_LATIN = "abcdefghijklmnopqrstuvwxyz"


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def to_latin(text: str) -> str:
    """CJK ideographs, punctuation and full-width forms → two lowercase Latin letters each (about the same
    width on the page); everything else unchanged."""
    return "".join(_LATIN[ord(ch) % 26] + _LATIN[(ord(ch) // 26) % 26] if _is_cjk(ch) else ch for ch in text)


def _met(key: str, value: float, figures: dict[str, Figure]) -> bool:
    target = TARGETS[key]
    if target.op == "==":
        return value == figures[str(target.value)].median
    if target.op == "<":
        return value < target.value
    return value <= target.value


def _target_text(target: Target) -> str:
    if target.op == "==":
        return f"= {target.value}"
    unit = "" if target.unit in ("×", "") else f" {target.unit}"
    sign = {"<": "<", "<=": "≤"}[target.op]
    return f"{sign} {target.value}{unit}"


def _postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


# --- output -------------------------------------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit == "queries":
        return f"{value:.0f}"
    if unit == "MiB" or unit == "ms":
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def markdown(results: dict) -> str:
    env = results["environment"]
    cfg = env["config"]
    lines = [
        f"Latest run: {env['date']}, {env['cpus']} CPUs, PostgreSQL {env['postgresql']}, Python {env['python']}; "
        f"{cfg['institutions']:,} institutions × {cfg['months']} months (scaling: "
        f"{' / '.join(f'{n:,}' for n in cfg['scales'])}); median of {cfg['repeat']} runs (min – max); "
        f"`make bench` took {env['duration_seconds'] / 60:.1f} min.",
        "",
        "| figure | median | min – max | target | met |",
        "|---|---:|---:|---|:---:|",
    ]
    for key, f in results["figures"].items():
        unit = f["unit"]
        suffix = "" if unit in ("", "queries") else (" " + unit if unit != "×" else "×")
        lines.append(
            f"| `{key}` | {_fmt(f['median'], unit)}{suffix} | {_fmt(f['min'], unit)} – {_fmt(f['max'], unit)} "
            f"| {f['target']} | {'yes' if f['met'] else '**no**'} |"
        )
    notes = [f"`{k}`: {f['note']}" for k, f in results["figures"].items() if f.get("note")]
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
    return "\n".join(lines) + "\n"


def write(results: dict, config: Config) -> None:
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "results.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    table = markdown(results)
    (config.out / "results.md").write_text("# Benchmark results\n\n" + table, "utf-8")
    if config.readme and config.readme.exists():
        text = config.readme.read_text("utf-8")
        if README_START in text and README_END in text:
            head, rest = text.split(README_START, 1)
            _old, tail = rest.split(README_END, 1)
            config.readme.write_text(f"{head}{README_START}\n{table}{README_END}{tail}", "utf-8")


def run(config: Config) -> dict:
    """Run every benchmark against the database Django is connected to; write and return the results."""
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql":
        raise SystemExit("make bench needs PostgreSQL: set DATABASE_URL (see the Makefile's bench target).")
    if "bench" not in str(name) and not config.allow_any_database:
        raise SystemExit(
            f"refusing to flush the database “{name}”: the bench needs its own (a name with “bench”)."
        )
    with tempfile.TemporaryDirectory(prefix="bench-media-") as media:
        from django.conf import settings

        previous = settings.MEDIA_ROOT
        settings.MEDIA_ROOT = media
        try:
            results = Bench(config, Path(media)).run()
        finally:
            settings.MEDIA_ROOT = previous
    write(results, config)
    return results


# --- command line -------------------------------------------------------------------------------------------------


def _prepare_database() -> None:
    """Create the bench database when it does not exist, then migrate it."""
    import psycopg2
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    params = connection.get_connection_params()
    name = settings.DATABASES["default"]["NAME"]
    try:
        connection.ensure_connection()
    except Exception:
        admin = psycopg2.connect(**{**params, "dbname": "postgres"})
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        admin.close()
    call_command("migrate", interactive=False, verbosity=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    defaults = Config()
    parser.add_argument("--institutions", type=int, default=defaults.institutions)
    parser.add_argument("--months", type=int, default=defaults.months)
    parser.add_argument("--small", type=int, default=defaults.small)
    parser.add_argument("--large", type=int, default=defaults.large)
    parser.add_argument("--repeat", type=int, default=defaults.repeat)
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--dashboard-world", choices=["small", "main"], default=defaults.dashboard_world)
    parser.add_argument("--out", type=Path, default=defaults.out)
    parser.add_argument("--no-readme", action="store_true", help="do not update the table in README.md")
    parser.add_argument("--allow-any-database", action="store_true")
    args = parser.parse_args(argv)

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        parser.error("set DATABASE_URL to a PostgreSQL database of its own (make bench does)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # The bench asks its own pages over plain HTTP on 127.0.0.1, in process and through the server it starts.
    os.environ.setdefault("PLAIN_HTTP", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    _prepare_database()
    config = Config(
        institutions=args.institutions,
        months=args.months,
        small=args.small,
        large=args.large,
        repeat=args.repeat,
        clients=args.clients,
        dashboard_world=args.dashboard_world,
        out=args.out,
        readme=None if args.no_readme else defaults.readme,
        allow_any_database=args.allow_any_database,
    )
    results = run(config)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
