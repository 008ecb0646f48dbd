"""The demo data obeys DOMAIN.md's rules and loading it twice changes nothing."""

from decimal import Decimal

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
    # three years of months for every institution, the last month in mixed states
    assert Filing.objects.filter(period__form="monitoring", period__year=2020).count() == 24 * 12
    assert Filing.objects.filter(period__form="monitoring", period__year=2021).count() == 24 * 12
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
    assert plans.count() == 23  # HFB, the demo's laggard, has not filed its plan
    rules_found = {p.institution.code: {f["rule"] for f in p.current_version.findings} for p in plans}
    assert rules_found.pop("HBB") == {"W407"}  # sent back to fix
    assert plans.get(institution__code="HBB").status == FilingStatus.RETURNED
    # the 2020年末 column is the demo's own 2020年12月 sheet
    icbc = plans.get(institution__code="ICBC").current_version.values
    december_2020 = Filing.objects.get(
        institution__code="ICBC", period__form="monitoring", period__year=2020, period__month=12
    )
    total = sum(
        Decimal(v) for k, v in icbc.items() if k.endswith(".balance_y2") and not k.startswith("420000.")
    )
    assert total == Decimal(december_2020.current_version.values["loan_balance"])
    assert all(found == set() for found in rules_found.values()), rules_found


def test_the_demo_shows_every_indicator_of_2022(db):
    """2020 is in the demo: 2022's 增量同比 and 2021's 比年初 trend have what they compare with."""
    from indicators import storage

    call_command("loaddemo", verbosity=0)
    for year, code in ((2022, "loan_increase_yoy"), (2021, "loan_increase_ytd"), (2021, "loan_growth_yoy")):
        shown = storage.values(scope_kind="institution", year=year, month=11, code=code)
        assert len(shown) == 24 and not [s for s in shown if s.value is None], (year, code)


def test_on_the_demo_clock_newcomers_see_no_overdue_returns(db, client, settings):
    """At the demo's day (2023-01-10) the 2022年12月 sheet is due in five days and the year's returns are
    in: only the laggard (HFB) is overdue, and the filers' home pages list nothing overdue."""
    from datetime import date

    from institutions.models import User
    from reporting.selectors import obligations_for_institution

    settings.DEMO_TODAY = date(2023, 1, 10)
    call_command("loaddemo", verbosity=0)
    late = {
        (code, p.form, p.key)
        for code in Institution.objects.values_list("code", flat=True)
        for row in obligations_for_institution(Institution.objects.get(code=code), limit=12)
        for p in [row["period"]]
        if (row["filing"].is_late if row["filing"] else p.is_overdue())
        and (row["filing"] is None or row["filing"].status in (FilingStatus.DRAFT, FilingStatus.RETURNED))
    }
    assert {code for code, _form, _key in late} == {"HFB"}, late
    for name in ("filer_icbc", "filer_hbb"):
        client.force_login(User.objects.get(username=name))
        page = client.get("/").content.decode()
        assert 'class="badge late"' not in page, name
        assert "2022年12月" in page
