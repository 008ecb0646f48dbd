"""The demo data obeys DOMAIN.md's rules and loading it twice changes nothing."""

from django.core.management import call_command

from institutions.models import Contact, Institution, PbocOffice, Region, User
from reporting import parsing, services
from reporting.definitions import definition_for
from reporting.models import Filing, FilingStatus


def test_loaddemo_is_idempotent_and_loads_every_role(db):
    call_command("loaddemo", verbosity=0)
    first = (Filing.objects.count(), User.objects.count(), Contact.objects.count())
    call_command("loaddemo", verbosity=0)
    assert (Filing.objects.count(), User.objects.count(), Contact.objects.count()) == first
    assert (Region.objects.count(), Institution.objects.count()) == (18, 24)
    assert Institution.objects.filter(evaluation_group="G1").count() == 5
    assert Institution.objects.filter(evaluation_group="G3", is_local_legal_person=True).count() == 5
    assert PbocOffice.objects.get(code="WH-YY").parent.code == "WH"
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {"bank_filer", "bank_signer", "pboc_officer", "pboc_admin", "sysadmin"}
    # two years of months for every institution, the last month in mixed states
    assert Filing.objects.filter(period__year=2021).count() == 24 * 12
    last = set(Filing.objects.filter(period__year=2022, period__month=12).values_list("status", flat=True))
    assert last == {FilingStatus.APPROVED, FilingStatus.SUBMITTED, FilingStatus.DRAFT, FilingStatus.RETURNED}


def test_demo_sheets_pass_every_error_rule(db):
    call_command("loaddemo", verbosity=0)
    problems = []
    for filing in Filing.objects.select_related("institution", "period", "current_version"):
        definition = definition_for(filing.period.form, filing.period.year)
        values = parsing.values_from_json(filing.current_version.values, definition)
        _definition, _values, findings = services.check(
            institution=filing.institution, period=filing.period, raw=values
        )
        problems += [
            (filing.institution.code, filing.period.key, f.rule) for f in findings if f.severity == "error"
        ]
    assert problems == []


def test_the_demo_month_under_review_carries_real_findings(db):
    from reporting import rules

    call_command("loaddemo", verbosity=0)
    cib = Filing.objects.select_related("current_version").get(
        institution__code="CIB", period__year=2022, period__month=12
    )
    found = [rules.Finding.from_dict(d) for d in cib.current_version.findings]
    assert [f.rule for f in found] == ["W401"]
    assert rules.unexplained(found, cib.current_version.explanations) == []


def test_demo_plans_agree_with_the_demo_monthly_sheets(db):
    call_command("loaddemo", verbosity=0)
    plans = Filing.objects.filter(period__form="plan").select_related("current_version", "institution")
    assert plans.count() == 22  # ICBC's and HFB's are left for the demo filers
    rules_found = {p.institution.code: {f["rule"] for f in p.current_version.findings} for p in plans}
    assert rules_found.pop("HBB") == {"W407"}  # the demo draft to fix
    assert all(found == set() for found in rules_found.values()), rules_found
