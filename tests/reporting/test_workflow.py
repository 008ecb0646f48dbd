"""The monthly sheet's state machine, through reporting.services (004 §(十九))."""

import pytest
import time_machine
from django.core import mail

from audit.models import AuditEntry
from portal.errors import Conflict, Forbidden, ServiceError
from reporting import events, services
from reporting.models import Filing, FilingStatus, FilingVersion, Transition, VersionSource
from tests.factories import periods, sheet_values


@pytest.fixture
def setup(users, master, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return {"periods": periods(), **users, **master}


def save(s, who="filer_a", month=(2022, 3), **overrides):
    return services.save_version(
        institution=s["A"],
        period=s["periods"][month],
        actor=s[who],
        raw=sheet_values(**overrides),
        source=VersionSource.WEB,
    )


def test_every_save_adds_an_immutable_version_with_its_findings(setup):
    v1 = save(setup, credit_loan_balance="150")
    v2 = save(setup)
    assert (v1.number, v2.number) == (1, 2)
    assert [f["rule"] for f in FilingVersion.objects.get(pk=v1.pk).findings] == ["E201"]
    assert FilingVersion.objects.get(pk=v2.pk).findings == []
    filing = Filing.objects.get(pk=v2.filing_id)
    assert filing.current_version_id == v2.pk and filing.status == FilingStatus.DRAFT


def test_submit_with_an_error_is_refused_and_names_the_finding(setup):
    version = save(setup, credit_loan_balance="150")
    with pytest.raises(ServiceError) as exc:
        services.submit(filing=version.filing, actor=setup["signer_a"], confirm=True)
    assert exc.value.code == "has_errors"
    assert exc.value.details[0].rule == "E201"
    assert Filing.objects.get(pk=version.filing_id).status == FilingStatus.DRAFT


def test_submit_needs_every_warning_explained(setup):
    version = save(setup, weighted_rate="15")  # W401: outside the configured band
    assert version.warning_count == 1
    with pytest.raises(ServiceError) as exc:
        services.submit(filing=version.filing, actor=setup["signer_a"], confirm=True)
    assert exc.value.code == "unexplained"
    key = version.findings[0]["key"]
    explained = services.save_version(
        institution=setup["A"],
        period=setup["periods"][(2022, 3)],
        actor=setup["filer_a"],
        raw=sheet_values(weighted_rate="15"),
        source=VersionSource.WEB,
        explanations={key: "本月投放一批创业担保贷款，利率较高。"},
    )
    submitted = services.submit(filing=explained.filing, actor=setup["signer_a"], confirm=True)
    assert submitted.receipt_no == "XW202203-ICBC-02"
    assert "确认本表数据真实、准确、完整" in submitted.attestation


def test_only_the_signer_submits_and_only_with_the_attestation(setup):
    version = save(setup)
    with pytest.raises(Forbidden):
        services.submit(filing=version.filing, actor=setup["filer_a"], confirm=True)
    with pytest.raises(ServiceError) as exc:
        services.submit(filing=version.filing, actor=setup["signer_a"], confirm=False)
    assert exc.value.code == "attestation"


def test_return_with_reason_then_new_version_then_approve_locks_the_sheet(setup):
    version = save(setup)
    filing = version.filing
    services.submit(filing=filing, actor=setup["signer_a"], confirm=True)
    with pytest.raises(ServiceError):
        services.return_filing(filing=filing, actor=setup["officer_in"], reason="  ")
    services.return_filing(
        filing=filing,
        actor=setup["officer_in"],
        reason="户数口径有误",
        field_comments={"borrowers": "请按A3302口径"},
    )
    step = Transition.objects.filter(filing=filing).latest("id")
    assert (step.to_status, step.reason, step.field_comments) == (
        "returned",
        "户数口径有误",
        {"borrowers": "请按A3302口径"},
    )
    save(setup, borrowers="9800")
    assert Filing.objects.get(pk=filing.pk).status == FilingStatus.DRAFT
    services.submit(filing=filing, actor=setup["signer_a"], confirm=True)
    services.approve(filing=filing, actor=setup["officer_in"])
    with pytest.raises(ServiceError) as exc:
        save(setup)
    assert exc.value.code == "locked"
    assert FilingVersion.objects.filter(filing=filing).count() == 2


def test_reopen_needs_a_reason(setup):
    filing = save(setup).filing
    services.submit(filing=filing, actor=setup["signer_a"], confirm=True)
    services.approve(filing=filing, actor=setup["officer_in"])
    with pytest.raises(ServiceError):
        services.reopen(filing=filing, actor=setup["officer_in"], reason="")
    services.reopen(filing=filing, actor=setup["officer_in"], reason="发现口径错误")
    assert Filing.objects.get(pk=filing.pk).status == FilingStatus.RETURNED


def test_an_officer_outside_the_jurisdiction_cannot_review(setup):
    filing = save(setup).filing
    services.submit(filing=filing, actor=setup["signer_a"], confirm=True)
    with pytest.raises(Forbidden):
        services.approve(filing=filing, actor=setup["officer_out"])
    services.approve(filing=filing, actor=setup["officer_branch"])  # the branch covers every office below it


def test_a_bank_cannot_file_for_another_bank(setup):
    with pytest.raises(Forbidden):
        services.save_version(
            institution=setup["A"],
            period=setup["periods"][(2022, 3)],
            actor=setup["filer_b"],
            raw=sheet_values(),
            source=VersionSource.WEB,
        )
    assert not Filing.objects.exists()


def test_second_review_of_the_same_submission_is_a_conflict(setup):
    filing = save(setup).filing
    services.submit(filing=filing, actor=setup["signer_a"], confirm=True)
    services.approve(filing=filing, actor=setup["officer_in"])
    with pytest.raises(Conflict):
        services.return_filing(filing=filing, actor=setup["officer_branch"], reason="迟到的退回")


def test_a_stale_form_cannot_overwrite_a_newer_version(setup):
    filing = save(setup).filing
    stale = Filing.objects.get(pk=filing.pk).lock_version
    save(setup, who="signer_a", borrowers="10001")
    with pytest.raises(Conflict):
        services.save_version(
            institution=setup["A"],
            period=setup["periods"][(2022, 3)],
            actor=setup["filer_a"],
            raw=sheet_values(),
            source=VersionSource.WEB,
            expected_lock_version=stale,
        )
    assert FilingVersion.objects.filter(filing=filing).count() == 2


def test_late_is_computed_from_the_first_submission_time(setup):
    with time_machine.travel("2022-04-15 23:50 +0800"):
        on_time = save(setup).filing
        services.submit(filing=on_time, actor=setup["signer_a"], confirm=True)
    with time_machine.travel("2022-06-16 00:10 +0800"):
        late = save(setup, month=(2022, 5)).filing
        services.submit(filing=late, actor=setup["signer_a"], confirm=True)
    assert Filing.objects.get(pk=on_time.pk).is_late is False
    assert Filing.objects.get(pk=late.pk).is_late is True


def test_year_to_date_falling_within_the_year_is_an_error_but_january_restarts(setup):
    save(setup, month=(2022, 2), scale=2)
    march = save(setup, month=(2022, 3), new_loans="10")  # February had 60
    assert "E301" in {f["rule"] for f in march.findings}
    save(setup, month=(2021, 12), scale=3)
    january = save(setup, month=(2022, 1))
    assert "E301" not in {f["rule"] for f in january.findings}


def test_every_state_change_is_audited_with_who_and_what(setup):
    filing = save(setup).filing
    services.submit(filing=filing, actor=setup["signer_a"], confirm=True)
    services.approve(filing=filing, actor=setup["officer_in"])
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor__username"))
    assert actions == [
        ("filing.save", "filer_a"),
        ("filing.submit", "signer_a"),
        ("filing.approve", "officer_in"),
    ]
    assert AuditEntry.objects.get(action="filing.save").changes["loan_balance"] == [None, "100"]


def test_submission_and_approval_notify_the_people_concerned(setup, django_capture_on_commit_callbacks):
    setup["officer_in"].email = "officer@pboc.example"
    setup["officer_in"].save()
    setup["filer_a"].email = "filer@icbc.example"
    setup["filer_a"].save()
    filing = save(setup).filing
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(filing=filing, actor=setup["signer_a"], confirm=True)
        services.approve(filing=filing, actor=setup["officer_in"])
    recipients = [(m.subject, m.to) for m in mail.outbox]
    assert any("请审核" in s and to == ["officer@pboc.example"] for s, to in recipients)
    assert any("已审核通过" in s and "filer@icbc.example" in to for s, to in recipients)


def test_bulk_approve_takes_only_clean_submissions(setup):
    clean = save(setup).filing
    services.submit(filing=clean, actor=setup["signer_a"], confirm=True)
    warned = save(setup, month=(2022, 4), weighted_rate="15").filing
    key = warned.current_version.findings[0]["key"]
    services.save_version(
        institution=setup["A"],
        period=setup["periods"][(2022, 4)],
        actor=setup["filer_a"],
        raw=sheet_values(weighted_rate="15"),
        source=VersionSource.WEB,
        explanations={key: "说明"},
    )
    services.submit(filing=warned, actor=setup["signer_a"], confirm=True)
    result = services.bulk_approve(filings=Filing.objects.all(), actor=setup["officer_in"])
    assert result == {"approved": 1, "skipped": 1}
    assert Filing.objects.get(pk=clean.pk).status == FilingStatus.APPROVED
    assert Filing.objects.get(pk=warned.pk).status == FilingStatus.SUBMITTED


def test_only_an_admin_moves_a_deadline(setup):
    period = setup["periods"][(2022, 3)]
    with pytest.raises(Forbidden):
        services.change_period_window(
            period=period, actor=setup["officer_in"], due_on=period.due_on.replace(day=20)
        )
    services.change_period_window(
        period=period, actor=setup["pboc_admin"], due_on=period.due_on.replace(day=20)
    )
    assert AuditEntry.objects.get(action="period.window").changes == {"due_on": ["2022-04-15", "2022-04-20"]}


def test_a_closed_window_refuses_new_versions(setup):
    period = setup["periods"][(2022, 3)]
    services.change_period_window(
        period=period, actor=setup["pboc_admin"], due_on=period.due_on, closes_on=period.due_on
    )
    with time_machine.travel("2022-04-16 09:00 +0800"), pytest.raises(ServiceError) as exc:
        save(setup)
    assert "报送窗口已关闭" in exc.value.message
    assert not FilingVersion.objects.exists()


def test_the_admin_page_moves_a_deadline_through_the_service(client, setup):
    client.force_login(setup["pboc_admin"])
    setup["pboc_admin"].is_staff = True
    setup["pboc_admin"].is_superuser = True
    setup["pboc_admin"].save()
    period = setup["periods"][(2022, 3)]
    url = f"/admin/reporting/period/{period.pk}/change/"
    response = client.post(url, {"due_on": "2022-04-18", "closes_on": ""})
    assert response.status_code == 302
    assert AuditEntry.objects.get(action="period.window").changes == {"due_on": ["2022-04-15", "2022-04-18"]}


def test_every_save_and_workflow_step_is_announced_once_committed(setup, django_capture_on_commit_callbacks):
    """What followers (the dashboard's filing rates) hear: reporting.events.filings_changed, sent on commit."""
    heard = []

    def listen(*, filings, **_payload):
        heard.append(list(filings))

    events.filings_changed.connect(listen, dispatch_uid="test.listen")
    try:
        with django_capture_on_commit_callbacks(execute=False) as pending:
            version = save(setup)
        assert heard == [] and pending  # nothing before the commit
        for callback in pending:
            callback()
        filing = version.filing
        with django_capture_on_commit_callbacks(execute=True):
            services.submit(filing=filing, actor=setup["signer_a"], confirm=True)
        with django_capture_on_commit_callbacks(execute=True):
            services.approve(filing=filing, actor=setup["officer_in"])
    finally:
        events.filings_changed.disconnect(dispatch_uid="test.listen")
    assert heard == [[filing.pk], [filing.pk], [filing.pk]]
