"""Hostile uploads through the real web views and the API (the corpus: tests/hostile/make_corpus.py).

Every file of tests/hostile/corpus.json is uploaded where a person or a bank's system would upload it:
工商银行's filer for the 监测表 (2022年3月), the 计划表 (2022) and the 工作方案 (2022), a PBoC officer for the
bulk import (which has no API). A refused file must get its specific Chinese message — never a 500 — leave
nothing stored (no version, no import job) and exactly one audit entry of the attempt, naming the file and
its SHA-256. The corpus's controls must be accepted.

Files that can blow up (zip bombs, 100,000 rows, a stray cell at XFD1048576) are uploaded by a fresh,
address-space-limited process (tests/hostile/probe.py) that measures each request's peak RSS growth: the
bound is MEMORY_BOUND_MB, and an abort or an out-of-memory there fails the test instead of the test run.
"""

import hashlib
import html
import json
import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEntry
from institutions.models import Institution, PbocOffice, Role, User
from institutions.services import load_master_data
from reporting import bulk
from reporting.models import Filing, FilingVersion, Form, ImportJob, Period
from reporting.services import ensure_campaign_periods, ensure_monthly_periods
from tests.hostile import make_corpus

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
MANIFEST: dict[str, dict] = json.loads((HOSTILE / "corpus.json").read_text(encoding="utf-8"))
MB = 1024 * 1024
MEMORY_BOUND_MB = 200
ADDRESS_SPACE = 4 * 1024 * MB  # the probe's hard limit: a runaway allocation fails there, not on the host
REJECTED_ACTION = {"bulk": "import.rejected"}  # every other target: "filing.upload_rejected"

IN_PROCESS_WEB = sorted(n for n, e in MANIFEST.items() if not e["isolate"] or e["target"] == "bulk")
IN_PROCESS_API = sorted(n for n, e in MANIFEST.items() if not e["isolate"] and e["target"] != "bulk")
ISOLATED = sorted(n for n, e in MANIFEST.items() if e["isolate"])


# --- the corpus and the world it is uploaded into ---------------------------------------------------------


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """The corpus, generated afresh by the script (deterministic, so it is the committed one)."""
    out = tmp_path_factory.mktemp("hostile-corpus")
    generated = make_corpus.build(out)
    assert generated == MANIFEST, (
        "tests/hostile/corpus.json is stale: run python tests/hostile/make_corpus.py"
    )
    return out


def content(corpus: Path, name: str) -> bytes:
    entry = MANIFEST[name]
    if entry["lazy"] == "oversize":
        # built here rather than stored: the portal's own template, padded past the limit by 2 MB
        start = make_corpus.monthly()
        return start + bytes(settings.UPLOAD_MAX_BYTES + 2 * MB - len(start))
    return (corpus / name).read_bytes()


def _world(tmp_path, prefix: str = "hostile") -> SimpleNamespace:
    load_master_data()
    icbc = Institution.objects.get(code="ICBC")
    filer = User(username=f"{prefix}_filer", role=Role.BANK_FILER, institution=icbc, display_name="填报人")
    officer = User(
        username=f"{prefix}_officer",
        role=Role.PBOC_OFFICER,
        office=PbocOffice.objects.get(code="WH"),
        display_name="经办",
    )
    for user in (filer, officer):
        user.set_unusable_password()
        user.save()
    ensure_monthly_periods((2022, 2), (2022, 3))
    ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    periods = {
        "monthly": Period.objects.get(form=Form.MONITORING, year=2022, month=3),
        "plan": Period.objects.get(form=Form.PLAN, year=2022),
        "document": Period.objects.get(form=Form.WORK_PLAN, year=2022),
    }
    return SimpleNamespace(icbc=icbc, filer=filer, officer=officer, periods=periods, media=tmp_path / "media")


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return _world(tmp_path)


def uploader(world, target: str) -> User:
    return world.officer if target == "bulk" else world.filer


def sheet_url(world, target: str) -> str:
    return reverse("reporting:sheet", args=[world.icbc.pk, world.periods[target].pk])


def web_url(world, target: str) -> str:
    if target == "bulk":
        return reverse("reporting:bulk_import")
    name = "reporting:document" if target == "document" else "reporting:upload"
    return reverse(name, args=[world.icbc.pk, world.periods[target].pk])


def api_url(world, target: str) -> str:
    what = "document" if target == "document" else "workbook"
    return f"/api/v1/institutions/{world.icbc.pk}/periods/{world.periods[target].pk}/{what}/"


_MESSAGES = re.compile(r'<ul class="messages">(.*?)</ul>', re.S)


def page_messages(response) -> str:
    found = _MESSAGES.search(response.content.decode("utf-8"))
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


# --- what a refusal must leave behind --------------------------------------------------------------------


class Ledger:
    """What is stored before an upload, to compare with what is stored after it."""

    def __init__(self):
        self.versions = FilingVersion.objects.count()
        self.jobs = ImportJob.objects.count()
        self.audit = set(AuditEntry.objects.values_list("pk", flat=True))

    def new_audit(self):
        return list(AuditEntry.objects.exclude(pk__in=self.audit).order_by("id"))


def expected_message(entry: dict, data: bytes) -> list[str]:
    """The fragments a refusal's message must contain: the manifest's, and for a file over the limit,
    its real size and the limit (a filer must learn by how much to shrink it)."""
    fragments = [entry["message"]]
    if entry["lazy"] == "oversize":
        shown = f"{len(data) / MB:.1f}".removesuffix(".0")
        fragments += [f"大小为 {shown} MB", f"超过上限 {settings.UPLOAD_MAX_BYTES // MB} MB"]
    return fragments


def assert_only_the_attempt_was_recorded(world, ledger: Ledger, name: str, data: bytes, *, attempts: int = 1):
    entry = MANIFEST[name]
    assert FilingVersion.objects.count() == ledger.versions, f"{name}: a refused file was stored as a version"
    assert ImportJob.objects.count() == ledger.jobs, f"{name}: a refused bulk file got an import job"
    new = ledger.new_audit()
    action = REJECTED_ACTION.get(entry["target"], "filing.upload_rejected")
    assert [a.action for a in new] == [action] * attempts, f"{name}: audit entries {[a.action for a in new]}"
    for attempt in new:
        assert attempt.actor == uploader(world, entry["target"])
        assert attempt.changes["filename"] == name
        assert attempt.changes["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["message"] is None or entry["message"] in attempt.changes["message"]
        if entry["target"] != "bulk":
            assert attempt.institution == world.icbc


def assert_stored(world, ledger: Ledger, name: str):
    entry = MANIFEST[name]
    if entry["target"] == "bulk":
        assert ImportJob.objects.count() == ledger.jobs + 1, f"{name}: the accepted bulk file has no job"
    else:
        assert FilingVersion.objects.count() == ledger.versions + 1, (
            f"{name}: the accepted file was not stored"
        )
    assert not [a for a in ledger.new_audit() if a.action.endswith("rejected")]


def assert_found(name: str):
    """A file stored with findings: the manifest's rule at its cell of the uploaded file, with its message."""
    entry = MANIFEST[name]
    version = FilingVersion.objects.latest("id")
    hits = [f for f in version.findings if f["rule"] == entry["code"] and f["location"] == entry["location"]]
    assert hits, f"{name}: no {entry['code']} at {entry['location']} in {version.findings}"
    assert entry["message"] in hits[0]["message"], (
        f"{name}: {entry['message']!r} not in {hits[0]['message']!r}"
    )


# --- every file through the web view ----------------------------------------------------------------------


@pytest.mark.parametrize("name", IN_PROCESS_WEB)
def test_web_upload_of_corpus_file_is_answered_as_the_manifest_says(name, world, corpus):
    entry = MANIFEST[name]
    target = entry["target"]
    data = content(corpus, name)
    client = Client()
    client.force_login(uploader(world, target))
    ledger = Ledger()

    response = client.post(web_url(world, target), {"file": SimpleUploadedFile(name, data)})

    assert response.status_code < 500
    if target == "bulk":
        # the import page: re-rendered with the refusal, or a redirect to the new job
        assert response.status_code in (200, 302)
    else:
        assert (response.status_code, response["Location"]) == (302, sheet_url(world, target))
    shown = page_messages(client.get(response["Location"]) if response.status_code == 302 else response)
    refused = [a for a in ledger.new_audit() if a.action.endswith("rejected")]
    if target == "bulk" and entry["expect"] == "refused" and ImportJob.objects.count() > ledger.jobs:
        pytest.fail(
            f"{name}: the officer got an import job instead of the refusal {entry['code']} "
            f"({entry['about']}): only the worker finds it, after the upload was accepted"
        )
    if entry["expect"] in ("accepted", "findings") or (entry["expect"] == "bounded" and not refused):
        assert_stored(world, ledger, name)
        if entry["expect"] == "findings":
            assert_found(name)
        return
    if entry["expect"] == "refused":
        for fragment in expected_message(entry, data):
            assert fragment in shown, f"{name}: {fragment!r} not in the page's message {shown!r}"
    assert_only_the_attempt_was_recorded(world, ledger, name, data)


# --- and through the API ---------------------------------------------------------------------------------


def api_client(user) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.mark.parametrize("name", IN_PROCESS_API)
def test_api_upload_of_corpus_file_is_answered_as_the_manifest_says(name, world, corpus):
    entry = MANIFEST[name]
    data = content(corpus, name)
    upload = BytesIO(data)
    upload.name = name
    ledger = Ledger()

    response = api_client(world.filer).post(
        api_url(world, entry["target"]), {"file": upload}, format="multipart"
    )

    assert response.status_code < 500
    if entry["expect"] in ("accepted", "findings"):
        assert response.status_code == 201, response.json()
        assert_stored(world, ledger, name)
        if entry["expect"] == "findings":
            assert_found(name)
        return
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (400, entry["code"]), error
    for fragment in expected_message(entry, data):
        assert fragment in error["message"], f"{name}: {fragment!r} not in {error['message']!r}"
    assert_only_the_attempt_was_recorded(world, ledger, name, data)


# --- files that can blow up: in memory-limited children, with the peak measured -------------------------


def _child_database_url() -> str:
    if connection.vendor != "postgresql" or not settings.DATABASE_URL:
        pytest.fail("the isolated uploads share the test database with a child process: run on PostgreSQL")
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + quote(connection.settings_dict["NAME"])))


def _channels(name: str) -> list[str]:
    # bulk: the web view only checks the file (in-process test above); the worker reads it — probe that
    return ["reader"] if MANIFEST[name]["target"] == "bulk" else ["web", "api"]


def _probe(world, corpus: Path, name: str) -> dict:
    entry = MANIFEST[name]
    period = world.periods.get(entry["target"])
    step = {
        "target": entry["target"],
        "path": str(corpus / name),
        "name": name,
        "username": uploader(world, entry["target"]).username,
        "institution": world.icbc.pk,
        "period": period.pk if period else None,
    }
    spec = {
        "database_url": _child_database_url(),
        "address_space": ADDRESS_SPACE,
        "steps": [{**step, "channel": channel} for channel in _channels(name)],
    }
    env = {
        **os.environ,
        "MEDIA_ROOT": str(world.media),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "RUST_BACKTRACE": "0",
    }
    done = subprocess.run(
        [sys.executable, str(HOSTILE / "probe.py")],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {"results": results, "death": None if done.returncode == 0 else _death(done)}


def _death(done: subprocess.CompletedProcess) -> str:
    code = done.returncode
    how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    lines = done.stderr.strip().splitlines()
    why = [line for line in lines if "memory allocation" in line or "Error" in line][:2] or lines[-3:]
    return f"{how}: {why}"


@pytest.fixture(scope="module")
def probed(django_db_setup, django_db_blocker, corpus, tmp_path_factory):
    """Every isolated file, each in its own child process (four at a time), against a committed world;
    then what each left in the database. The database is flushed afterwards, as after a transactional test."""
    with django_db_blocker.unblock():
        world = _world(tmp_path_factory.mktemp("probed"), prefix="probe")
        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                outcomes = dict(
                    zip(ISOLATED, pool.map(lambda n: _probe(world, corpus, n), ISOLATED), strict=True)
                )
            for name, outcome in outcomes.items():
                outcome["versions"] = FilingVersion.objects.filter(upload_name=name).count()
                outcome["audit"] = list(
                    AuditEntry.objects.filter(changes__filename=name).values(
                        "action", "actor__username", "institution__code", "changes"
                    )
                )
            yield world, outcomes, corpus
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.mark.parametrize("name", ISOLATED)
def test_upload_that_could_blow_up_is_answered_with_bounded_memory(name, probed):
    world, outcomes, corpus = probed
    entry, outcome = MANIFEST[name], outcomes[name]
    channels = _channels(name)
    results = outcome["results"] + [None] * len(channels)

    for channel, result in zip(channels, results, strict=False):
        assert result is not None, (
            f"{name}: the process died during the {channel} upload ({outcome['death']})"
        )
        assert result["growth_mb"] < MEMORY_BOUND_MB, f"{name}: {channel} took {result['growth_mb']} MB"
        if channel == "reader":
            if entry["expect"] == "refused":
                assert result.get("code") == entry["code"] and entry["message"] in result["message"], result
            continue
        assert result["status"] < 500, result
        if entry["expect"] != "refused":
            continue
        if channel == "web":
            assert (result["status"], result["location"]) == (302, sheet_url(world, entry["target"]))
            assert entry["message"] in result["messages"] and not result["traceback"], result
        else:
            error = result["body"]["error"]
            assert (result["status"], error["code"]) == (400, entry["code"]) and entry["message"] in error[
                "message"
            ]
    if channels == ["reader"]:
        return
    refusals = [a for a in outcome["audit"] if a["action"] == "filing.upload_rejected"]
    if entry["expect"] == "refused":
        assert outcome["versions"] == 0 and len(refusals) == len(outcome["audit"]) == 2, outcome
    else:
        assert outcome["versions"] + len(refusals) == 2, f"{name}: 2 uploads, {outcome}"
    sha = hashlib.sha256((corpus / name).read_bytes()).hexdigest()
    for attempt in refusals:
        assert (attempt["actor__username"], attempt["institution__code"]) == (world.filer.username, "ICBC")
        assert attempt["changes"]["sha256"] == sha


# --- row-level look-alikes in a bulk import ---------------------------------------------------------------


def test_cyrillic_lookalike_institution_code_in_a_bulk_row_is_never_imported_as_icbc(world, corpus):
    """ІСВС (Cyrillic І, С, В, С) looks like ICBC: the row must be rejected, naming the code it read."""
    client = Client()
    client.force_login(world.officer)
    name = "bulk_lookalike_codes.xlsx"
    response = client.post(web_url(world, "bulk"), {"file": SimpleUploadedFile(name, content(corpus, name))})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reporting:job", args=[job.pk])

    bulk.process(job)

    job.refresh_from_db()
    assert (job.status, job.total, job.processed, job.result["stored"]) == ("done", 2, 2, 1)
    [rejected] = job.result["rejected"]
    assert rejected["row"] == 5 and "“\u0406\u0421\u0412\u0421”不存在" in rejected["message"]
    assert not Filing.objects.filter(institution=world.icbc).exists()
    assert Filing.objects.get(institution__code="HBB").current_version.number == 1


def test_the_committed_corpus_is_what_the_generator_writes(corpus):
    """tests/hostile/corpus/ can be regenerated byte for byte: zip timestamps and document dates are fixed,
    so the files in git are the ones these tests upload."""
    stored = [n for n, e in MANIFEST.items() if not e["lazy"]]
    committed = HOSTILE / "corpus"
    assert [n for n in stored if (committed / n).read_bytes() != (corpus / n).read_bytes()] == []
    assert len(stored) >= 40 and {e["target"] for e in MANIFEST.values()} == {
        "monthly",
        "plan",
        "document",
        "bulk",
    }
