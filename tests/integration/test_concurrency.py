"""Concurrency on the real PostgreSQL: row locks make parallel reviews and uploads safe."""

import threading
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from portal.errors import Conflict
from reporting import excel, services
from reporting.definitions import MONITORING_2022
from reporting.models import Filing, FilingStatus, FilingVersion, VersionSource
from tests.factories import periods, sheet_values

pytestmark = pytest.mark.integration


def run_together(*calls):
    """Start every call at the same moment, each in its own thread and database connection."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(i, call):
        barrier.wait()
        try:
            outcomes[i] = ("ok", call())
        except Exception as exc:  # the outcome is what the test asserts on
            outcomes[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_parallel_approve_and_return_exactly_one_wins(transactional_db, users, master):
    march = periods()[(2022, 3)]
    version = services.save_version(
        institution=master["A"],
        period=march,
        actor=users["filer_a"],
        raw=sheet_values(),
        source=VersionSource.WEB,
    )
    services.submit(filing=version.filing, actor=users["signer_a"], confirm=True)
    filing = Filing.objects.get(pk=version.filing_id)

    outcomes = run_together(
        lambda: services.approve(filing=filing, actor=users["officer_in"]),
        lambda: services.return_filing(filing=filing, actor=users["officer_branch"], reason="请核对"),
    )
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"]
    loser = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(loser, Conflict)
    assert "可能已被他人处理" in loser.message
    assert Filing.objects.get(pk=filing.pk).status in {FilingStatus.APPROVED, FilingStatus.RETURNED}
    assert filing.transitions.count() == 2  # the submission and the one review that won


def test_parallel_saves_give_distinct_versions_never_a_mix(transactional_db, users, master):
    march = periods()[(2022, 3)]
    a, b = sheet_values(borrowers="11111"), sheet_values(borrowers="22222", loan_balance="101")
    outcomes = run_together(
        lambda: services.save_version(
            institution=master["A"], period=march, actor=users["filer_a"], raw=a, source=VersionSource.EXCEL
        ),
        lambda: services.save_version(
            institution=master["A"], period=march, actor=users["signer_a"], raw=b, source=VersionSource.EXCEL
        ),
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    versions = list(FilingVersion.objects.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    stored = sorted((v.values["borrowers"], v.values["loan_balance"]) for v in versions)
    assert stored == [("11111", "100"), ("22222", "101")]  # each version is one upload, whole
    filing = Filing.objects.get()
    assert filing.current_version.number == 2 and filing.lock_version == 2


def test_parallel_uploads_through_the_page_give_one_version_each(
    transactional_db, users, master, settings, tmp_path
):
    """Two people upload a workbook for the same sheet at the same moment, through the real upload page: both
    are stored, as versions 1 and 2, each whole with its own file."""
    settings.MEDIA_ROOT = tmp_path
    icbc, march = master["A"], periods()[(2022, 3)]
    workbooks = {}
    for user, borrowers in (("filer_a", "11111"), ("signer_a", "22222")):
        values = {k: Decimal(v) for k, v in sheet_values(borrowers=borrowers).items()}
        workbooks[user] = excel.monitoring_template(
            MONITORING_2022, institution_name=icbc.short_name, year=2022, month=3, values=values
        )
    clients = {}
    for user in workbooks:
        clients[user] = Client(raise_request_exception=False)
        clients[user].force_login(users[user])
    url = reverse("reporting:upload", args=[icbc.pk, march.pk])

    def upload(user):
        file = SimpleUploadedFile(f"{user}.xlsx", workbooks[user], content_type="application/octet-stream")
        return clients[user].post(url, {"file": file}).status_code

    outcomes = run_together(lambda: upload("filer_a"), lambda: upload("signer_a"))
    assert outcomes == [("ok", 302), ("ok", 302)]
    versions = list(FilingVersion.objects.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    by_file = {v.upload_name: v.values["borrowers"] for v in versions}
    assert by_file == {"filer_a.xlsx": "11111", "signer_a.xlsx": "22222"}
    assert len({v.upload_sha256 for v in versions}) == 2
    assert Filing.objects.get().current_version.number == 2
