"""One write path for every version (`services.write_versions`): a row of an officer's bulk import and a bank's
own web save of the same sheet write the same version, transition and audit rows; the demo's history is
written by it too, with the transitions and audit entries a real month has."""

from decimal import Decimal

import pytest
from django.test import TestCase

from audit.models import AuditEntry
from institutions.models import Institution
from portal.errors import ServiceError
from reporting import bulk, excel, services
from reporting.definitions import MONITORING_2022
from reporting.demo import load_monthly_data
from reporting.models import Filing, FilingStatus, FilingVersion, ImportJob, Transition, VersionSource
from tests.factories import periods, sheet_values

VERSION_FIELDS = ("number", "edition", "values", "findings", "explanations", "reading_notes", "upload_sha256")
TRANSITION_FIELDS = ("from_status", "to_status", "reason", "field_comments")
AUDIT_FIELDS = ("action", "object_type", "summary", "changes")


@pytest.fixture
def month(users, master, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return periods()[(2022, 3)]


def import_rows(officer, rows, *, replace=(), approve=False):
    data = excel.bulk_template(
        MONITORING_2022,
        [
            {
                "institution_code": code,
                "institution_name": code,
                "year": 2022,
                "month": 3,
                "values": {k: Decimal(v) for k, v in sheet_values(**values).items()},
            }
            for code, values in rows
        ],
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = services.start_import(actor=officer, data=data, filename="汇总.xlsx")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY, job.error
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.confirm_import(
            job=job,
            actor=officer,
            replace=list(replace),
            reason="机构报送有误，以人民银行汇总为准",
            approve=approve,
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    return job


def written(filing: Filing, *, since: int = 0) -> dict:
    """What storing a version wrote for `filing` (after audit entry `since`), with who, when and where said
    in a way that does not name the bank, the way in or the row ids."""
    name = str(filing)
    versions = [
        {f: getattr(v, f) for f in VERSION_FIELDS}
        for v in FilingVersion.objects.filter(filing=filing).order_by("number")
    ]
    transitions = [
        {f: getattr(t, f) for f in TRANSITION_FIELDS}
        for t in Transition.objects.filter(filing=filing).order_by("at", "id")
    ]
    labels = [str(label) for label in (VersionSource.WEB.label, VersionSource.BULK.label)]
    entries = []
    for entry in AuditEntry.objects.filter(institution=filing.institution, pk__gt=since).order_by("pk"):
        row = {f: getattr(entry, f) for f in AUDIT_FIELDS}
        row["summary"] = row["summary"].replace(name, "<filing>")
        for label in labels:
            row["summary"] = row["summary"].replace(label, "<source>")
        entries.append(row)
    return {"versions": versions, "transitions": transitions, "audit": entries}


def test_a_bulk_row_writes_what_a_web_save_of_the_same_sheet_writes(users, master, month):
    ccb = Institution.objects.get(code="CCB")
    services.save_version(
        institution=master["A"],
        period=month,
        actor=users["filer_a"],
        raw=sheet_values(weighted_rate="4.6"),
        source=VersionSource.WEB,
    )
    import_rows(users["officer_branch"], [("CCB", {"weighted_rate": "4.6"})])

    web = written(Filing.objects.get(institution=master["A"], period=month))
    bulk = written(Filing.objects.get(institution=ccb, period=month))
    assert web == bulk
    assert [e["action"] for e in web["audit"]] == ["filing.save"]
    assert web["versions"][0]["values"]["weighted_rate"] == "4.6"
    version = FilingVersion.objects.get(filing__institution=ccb, filing__period=month)
    assert (version.source, version.created_by) == (VersionSource.BULK, users["officer_branch"])


def test_a_returned_sheet_goes_back_to_draft_the_same_way_by_either_path(users, master, month):
    """Both banks' sheets were sent back; ICBC corrects its own, the officer imports 湖北银行's with the
    replacement chosen: the same 已退回 → 草稿 step and the same save entry; the import adds its own record
    of what it replaced."""
    officer = users["officer_branch"]
    for bank, filer, signer in ((master["A"], "filer_a", "signer_a"), (master["B"], "filer_b", "signer_b")):
        filing = services.save_version(
            institution=bank, period=month, actor=users[filer], raw=sheet_values(), source=VersionSource.WEB
        ).filing
        services.submit(filing=filing, actor=users[signer], confirm=True)
        services.return_filing(filing=filing, actor=officer, reason="利率有误")
    since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()

    services.save_version(
        institution=master["A"],
        period=month,
        actor=users["filer_a"],
        raw=sheet_values(weighted_rate="4.6"),
        source=VersionSource.WEB,
    )
    hbb = Filing.objects.get(institution=master["B"], period=month)
    import_rows(officer, [("HBB", {"weighted_rate": "4.6"})], replace=[bulk.key_of(master["B"], month)])

    web = written(Filing.objects.get(institution=master["A"], period=month), since=since)
    imported = written(hbb, since=since)
    assert imported["versions"] == web["versions"]
    assert imported["transitions"] == web["transitions"]
    assert web["transitions"][-1] == {
        "from_status": FilingStatus.RETURNED,
        "to_status": FilingStatus.DRAFT,
        "reason": "退回后重新报送",
        "field_comments": {},
    }
    assert [e["action"] for e in web["audit"]] == ["filing.save"]
    assert [e["action"] for e in imported["audit"]] == ["filing.save", "filing.import_replace"]
    assert imported["audit"][0] == web["audit"][0]
    hbb.refresh_from_db()
    assert (hbb.status, hbb.lock_version) == (FilingStatus.DRAFT, 4)


def test_a_row_approved_on_import_is_stored_once_with_its_approval(users, master, month):
    job = import_rows(users["officer_branch"], [("CCB", {})], approve=True)
    filing = Filing.objects.get(institution__code="CCB", period=month)
    assert job.result["stored"] == 1
    assert (filing.status, filing.lock_version) == (FilingStatus.APPROVED, 2)
    assert filing.approved_at is not None and filing.first_submitted_at == filing.approved_at
    assert list(filing.transitions.values_list("from_status", "to_status", "reason")) == [
        (FilingStatus.DRAFT, FilingStatus.APPROVED, "人民银行批量导入")
    ]
    assert list(
        AuditEntry.objects.filter(institution=filing.institution)
        .order_by("pk")
        .values_list("action", "summary")
    ) == [
        ("filing.save", f"{filing} 保存第 1 版（批量导入，错误 0，预警 0）"),
        ("filing.import_approve", f"{filing} 批量导入并通过（第 1 版）"),
    ]


def test_a_save_over_a_submitted_sheet_is_refused_and_writes_nothing(users, master, month):
    filing = services.save_version(
        institution=master["A"],
        period=month,
        actor=users["filer_a"],
        raw=sheet_values(),
        source=VersionSource.WEB,
    ).filing
    services.submit(filing=filing, actor=users["signer_a"], confirm=True)
    counts = (FilingVersion.objects.count(), Transition.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ServiceError) as refused:
        services.save_version(
            institution=master["A"],
            period=month,
            actor=users["filer_a"],
            raw=sheet_values(),
            source=VersionSource.WEB,
        )
    assert refused.value.code == "locked"
    assert "已提交，正在审核" in refused.value.message
    assert (FilingVersion.objects.count(), Transition.objects.count(), AuditEntry.objects.count()) == counts


def test_a_filing_created_by_another_save_meanwhile_takes_the_version_after_its_own(
    users, master, month, monkeypatch
):
    """write_versions inserts a filing it found missing with its new state; when another transaction created
    that filing in between (modelled: the lock query's answer from before that save), the insert writes nothing
    and the save runs again on the filing as it now stands — its version numbered after the other's."""
    services.save_version(
        institution=master["A"],
        period=month,
        actor=users["filer_a"],
        raw=sheet_values(),
        source=VersionSource.WEB,
    )
    lock, calls = services._lock_filings, []

    def lock_as_before_the_other_save(keys, *, fresh):
        found = lock(keys, fresh=fresh)
        calls.append(fresh)
        if len(calls) == 1:  # the first attempt did not see the filing the other save created
            key = (master["A"].pk, month.pk)
            (pk,) = services.bulkdb.next_ids(Filing, 1)
            found[key] = services._Locked(pk, FilingStatus.DRAFT, 0, None, None, None, {}, created=key)
        return found

    monkeypatch.setattr(services, "_lock_filings", lock_as_before_the_other_save)
    version = services.save_version(
        institution=master["A"],
        period=month,
        actor=users["filer_a"],
        raw=sheet_values(weighted_rate="4.6"),
        source=VersionSource.WEB,
    )
    assert len(calls) == 2
    filing = Filing.objects.get(institution=master["A"], period=month)
    assert list(filing.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    assert (version.number, filing.current_version_id, filing.lock_version) == (2, version.pk, 2)
    assert version.values["weighted_rate"] == "4.6"
    saves = AuditEntry.objects.filter(institution=master["A"], action="filing.save").order_by("pk")
    assert saves.count() == 2 and saves.last().changes["weighted_rate"][1] == "4.6"


def test_the_demo_history_has_the_transitions_and_audit_of_a_real_month(users, master):
    load_monthly_data(first=(2022, 11), last=(2022, 12), officer=users["officer_branch"])
    november = Filing.objects.get(institution=master["A"], period__year=2022, period__month=11)
    assert november.status == FilingStatus.APPROVED
    assert list(november.transitions.values_list("from_status", "to_status")) == [
        (FilingStatus.DRAFT, FilingStatus.SUBMITTED),
        (FilingStatus.SUBMITTED, FilingStatus.APPROVED),
    ]
    actions = list(
        AuditEntry.objects.filter(
            institution=master["A"], object_id__in=[str(november.pk), str(november.current_version_id)]
        )
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["filing.save", "filing.submit", "filing.approve"]
    version = november.current_version
    assert (
        version.receipt_no == f"XW202211-{master['A'].code}-01"
        and version.submitted_at == november.submitted_at
    )
    assert november.approved_at > november.submitted_at > version.created_at
