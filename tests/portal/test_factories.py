"""The factories of tests/factories.py make what the portal makes: a factory-made filing went through the
services (versions, transitions, receipt, audit rows), its people may do what they did, and a user signs in."""

import pytest

from audit.models import AuditEntry
from institutions import access
from institutions.models import Role
from portal.errors import ServiceError
from reporting.models import FilingStatus, Form, Transition
from tests.factories import (
    PASSWORD,
    FilerFactory,
    FilingFactory,
    InstitutionFactory,
    MonthlyPeriodFactory,
    OfficerFactory,
    SignerFactory,
    sheet_values,
)


def steps(filing) -> list[tuple[str, str]]:
    return list(Transition.objects.filter(filing=filing).values_list("from_status", "to_status"))


def actions(filing) -> list[str]:
    return list(
        AuditEntry.objects.filter(institution=filing.institution, action__startswith="filing.")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_an_approved_filing_has_the_versions_transitions_receipt_and_audit_of_a_filed_one(master, users):
    march = MonthlyPeriodFactory(year=2022, month=3)
    filing = FilingFactory(institution=master["A"], period=march)

    assert filing.status == FilingStatus.APPROVED and filing.approved_at is not None
    assert filing.current_version.number == 1 and filing.current_version.receipt_no == "XW202203-ICBC-01"
    assert filing.current_version.submitted_by == users["signer_a"]
    assert steps(filing) == [
        (FilingStatus.DRAFT, FilingStatus.SUBMITTED),
        (FilingStatus.SUBMITTED, FilingStatus.APPROVED),
    ]
    assert actions(filing) == ["filing.save", "filing.submit", "filing.approve"]
    # the people already at ICBC did it: the users fixture's filer, signer and 营业管理部's officer
    assert Transition.objects.get(filing=filing, to_status=FilingStatus.APPROVED).actor == users["officer_in"]


def test_draft_submitted_and_returned_stop_where_they_are_told(master, users):
    march, april = MonthlyPeriodFactory(year=2022, month=3), MonthlyPeriodFactory(year=2022, month=4)
    draft = FilingFactory(institution=master["A"], period=march, status="draft", versions=2)
    submitted = FilingFactory(institution=master["B"], period=march, status="submitted")
    returned = FilingFactory(institution=master["B"], period=april, status="returned", reason="余额有误")

    assert draft.status == FilingStatus.DRAFT and draft.versions.count() == 2 and steps(draft) == []
    assert submitted.status == FilingStatus.SUBMITTED and submitted.first_submitted_at is not None
    assert returned.status == FilingStatus.RETURNED
    assert Transition.objects.get(filing=returned, to_status=FilingStatus.RETURNED).reason == "余额有误"


def test_warnings_are_explained_so_the_filing_can_be_submitted(master, users):
    filing = FilingFactory(
        institution=master["A"], period=MonthlyPeriodFactory(), values=sheet_values(weighted_rate="15")
    )
    version = filing.current_version
    [warning] = [f for f in version.findings if f["severity"] == "warning"]  # W401: outside the band
    assert version.explanations[warning["key"]]
    assert filing.status == FilingStatus.APPROVED


def test_a_filing_with_errors_can_only_be_a_draft(master, users):
    with pytest.raises(ServiceError, match="错误"):
        FilingFactory(institution=master["A"], values=sheet_values(credit_loan_balance="150"))
    draft = FilingFactory(
        institution=master["A"], values=sheet_values(credit_loan_balance="150"), status="draft"
    )
    assert [f["rule"] for f in draft.current_version.findings] == ["E201"]


def test_a_new_bank_comes_with_its_own_office_people_and_period(db):
    filing = FilingFactory()  # nothing loaded: the bank, its 支行, a filer, a signer and an officer are made

    bank = filing.institution
    officer = Transition.objects.get(filing=filing, to_status=FilingStatus.APPROVED).actor
    assert officer.role == Role.PBOC_OFFICER and officer.office == bank.supervising_office
    assert access.can_review(officer, bank)
    assert filing.period.form == Form.MONITORING and (filing.period.year, filing.period.month) == (2022, 3)
    assert InstitutionFactory(code=bank.code) == bank  # by code: the same bank, as for the master data's


def test_role_factories_make_people_who_sign_in_and_may_do_their_part(master, client):
    filer = FilerFactory(institution=master["A"])
    signer = SignerFactory(institution=master["A"])
    officer = OfficerFactory(office=master["office_out"])

    assert access.can_prepare(filer, master["A"]) and not access.can_submit(filer, master["A"])
    assert access.can_submit(signer, master["A"])
    assert not access.can_review(officer, master["A"])  # 宜昌 does not follow ICBC
    assert client.login(username=filer.username, password=PASSWORD)
