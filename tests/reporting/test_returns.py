"""附件3 plan, 附件2 contacts and the document returns on the shared filing machinery."""

from datetime import date
from decimal import Decimal

import pytest

from audit.models import AuditEntry
from institutions.models import Contact
from portal.errors import ServiceError
from reporting import rules, services
from reporting.definitions import CONTACTS_2022
from reporting.models import Filing, FilingStatus, Form, Period, VersionSource
from tests.factories import periods, sheet_values
from tests.worlds import PLAN, contact_values, plan_values


def findings_for(definition, values, **context):
    from reporting import parsing

    parsed, found = parsing.parse_values(definition, values)
    ctx = rules.Context(definition=definition, year=2022, month=None, values=parsed, **context)
    return found + rules.validate(ctx)


def ids(found):
    return sorted({f.rule for f in found})


# --- derived columns ---------------------------------------------------------------------------------


def test_the_province_row_is_the_sum_of_the_regions_and_growth_is_computed():
    from reporting import parsing

    parsed, _ = parsing.parse_values(PLAN, plan_values())
    derived = PLAN.derive(parsed)
    assert derived["420000.balance_y1"] == Decimal(12 * 17)
    assert derived["420100.growth_y1"] == Decimal("0.2")  # (12 − 10) / 10
    assert derived["420000.planned_growth"] == Decimal(3 * 17) / Decimal(12 * 17)


def test_an_undefined_growth_rate_is_none_never_an_error():
    from reporting import parsing

    parsed, _ = parsing.parse_values(PLAN, plan_values(**{"420100.balance_y2": "0"}))
    derived = PLAN.derive(parsed)
    assert derived["420100.growth_y1"] is None
    parsed, _ = parsing.parse_values(PLAN, plan_values(**{"420200.balance_y1": ""}))
    derived = PLAN.derive(parsed)
    assert derived["420200.planned_growth"] is None and derived["420000.balance_y1"] is None


# --- plan rules -------------------------------------------------------------------------------------------


def test_a_consistent_plan_has_no_findings():
    assert findings_for(PLAN, plan_values()) == []


def test_E101_a_blank_plan_cell_is_an_error_located_by_row_and_column():
    (finding,) = findings_for(PLAN, plan_values(**{"420500.q3_plan": ""}))
    assert (finding.rule, finding.location) == ("E101", "宜昌分行 · 三季度预计新增额")


def test_E103_a_negative_plan_amount_is_an_error():
    assert "E103" in ids(findings_for(PLAN, plan_values(**{"420100.q2_plan": "-1"})))


def test_W407_quarters_that_do_not_add_up_to_the_annual_plan_warn():
    found = findings_for(PLAN, plan_values(**{"420100.q4_plan": "1.3"}))
    (finding,) = [f for f in found if f.rule == "W407"]
    assert finding.field == "420100.planned_increase"
    assert "武汉分行" in finding.message and "3.5" in finding.message and "3" in finding.message


def test_W407_quarters_within_tolerance_pass():
    assert "W407" not in ids(findings_for(PLAN, plan_values(**{"420100.q4_plan": "0.805"})))


def test_W408_implausible_growth_warns_and_plausible_growth_passes():
    assert "W408" in ids(findings_for(PLAN, plan_values(**{"420100.balance_y1": "30"})))  # +200 %
    assert "W408" not in ids(findings_for(PLAN, plan_values()))


def test_W501_first_quarter_actual_against_the_approved_monthly_sheets_shows_both_numbers():
    related = {"balance_prev_dec": Decimal("204"), "balance_march": Decimal("220")}  # actual Q1 = 16
    (finding,) = [f for f in findings_for(PLAN, plan_values(), related=related) if f.rule == "W501"]
    assert "10.2 亿元" in finding.message and "16 亿元" in finding.message  # plan 17 × 0.6 vs sheets
    assert finding.location == "全省 · 一季度实际新增额"


def test_W501_passes_when_the_sheets_agree_or_are_not_approved():
    agree = {"balance_prev_dec": Decimal("204"), "balance_march": Decimal("214.2")}
    assert "W501" not in ids(findings_for(PLAN, plan_values(), related=agree))
    assert "W501" not in ids(findings_for(PLAN, plan_values(), related={"balance_prev_dec": None}))


def test_W502_last_year_end_balance_against_the_december_sheet():
    found = findings_for(PLAN, plan_values(), related={"balance_prev_dec": Decimal("200")})
    (finding,) = [f for f in found if f.rule == "W502"]
    assert "204 亿元" in finding.message and "200 亿元" in finding.message
    found = findings_for(PLAN, plan_values(), related={"balance_prev_dec": Decimal("204")})
    assert "W502" not in ids(found)


# --- contacts rules ---------------------------------------------------------------------------------------


def test_valid_contacts_pass():
    assert findings_for(CONTACTS_2022, contact_values()) == []


def test_E106_a_blank_contact_cell_is_an_error():
    (finding,) = findings_for(CONTACTS_2022, contact_values(**{"head.name": "  "}))
    assert (finding.rule, finding.location) == ("E106", "牵头部门负责人 · 姓名")


@pytest.mark.parametrize(
    ("code", "bad", "good"),
    [
        ("liaison.mobile", "1390000", "139 0000 0000"),
        ("liaison.office_phone", "87654", "(027)8765-4321转123"),
        ("liaison.office_phone", "027-1234", "027-87654321"),
        ("liaison.office_phone", "0271234", "400-888-8888"),
        ("liaison.email", "user.icbc.com.cn", "ＵＳＥＲ@icbc.com.cn"),
    ],
)
def test_E107_phone_mobile_and_email_formats(code, bad, good):
    assert ids(findings_for(CONTACTS_2022, contact_values(**{code: bad}))) == ["E107"]
    assert findings_for(CONTACTS_2022, contact_values(**{code: good})) == []


def test_E108_text_longer_than_the_column_allows():
    assert ids(findings_for(CONTACTS_2022, contact_values(**{"leader.name": "名" * 31}))) == ["E108"]


# --- periods, receipts, the flow --------------------------------------------------------------------------


def test_campaign_periods_with_quarterly_deadlines_a_month_after_each_quarter(db):
    services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))  # idempotent
    assert Period.objects.filter(year=2022).count() == 7
    assert Period.objects.get(form=Form.PLAN, year=2022).due_on == date(2022, 4, 29)
    dues = list(
        Period.objects.filter(form=Form.EXPERIENCE).order_by("quarter").values_list("due_on", flat=True)
    )
    assert dues == [date(2022, 4, 30), date(2022, 7, 31), date(2022, 10, 31), date(2023, 1, 31)]


def test_plan_is_filed_submitted_and_approved_with_its_own_receipt(campaign, users, master):
    version = services.save_version(
        institution=master["A"],
        period=campaign[Form.PLAN],
        actor=users["filer_a"],
        raw=plan_values(),
        source=VersionSource.WEB,
    )
    assert version.values["420000.planned_increase"] == "51"  # the province row is stored, computed
    assert version.values["420100.growth_y1"] == "0.2"
    submitted = services.submit(filing=version.filing, actor=users["signer_a"], confirm=True)
    assert submitted.receipt_no == "XWJH2022-ICBC-01"
    services.approve(filing=version.filing, actor=users["officer_in"])
    assert Filing.objects.get(pk=version.filing_id).status == FilingStatus.APPROVED


def test_plan_cross_checks_use_only_approved_monthly_sheets(campaign, users, master):
    ps = periods((2021, 12), (2022, 3))
    december = services.save_version(
        institution=master["A"],
        period=ps[(2021, 12)],
        actor=users["filer_a"],
        raw=sheet_values(loan_balance="200"),
        source=VersionSource.WEB,
    )
    plan = services.save_version(
        institution=master["A"],
        period=campaign[Form.PLAN],
        actor=users["filer_a"],
        raw=plan_values(),
        source=VersionSource.WEB,
    )
    assert "W502" not in {f["rule"] for f in plan.findings}  # December not approved yet: nothing to compare
    services.submit(filing=december.filing, actor=users["signer_a"], confirm=True)
    services.approve(filing=december.filing, actor=users["officer_in"])
    plan = services.save_version(
        institution=master["A"],
        period=campaign[Form.PLAN],
        actor=users["filer_a"],
        raw=plan_values(),
        source=VersionSource.WEB,
    )
    (w502,) = [f for f in plan.findings if f["rule"] == "W502"]
    assert "204 亿元" in w502["message"] and "200 亿元" in w502["message"]


def test_approved_contacts_become_the_institutions_contacts(campaign, users, master):
    version = services.save_version(
        institution=master["A"],
        period=campaign[Form.CONTACTS],
        actor=users["filer_a"],
        raw=contact_values(),
        source=VersionSource.WEB,
    )
    assert version.values["leader.mobile"] == "13900000000"  # text stays text
    services.submit(filing=version.filing, actor=users["signer_a"], confirm=True)
    assert not Contact.objects.filter(institution=master["A"]).exists()  # only on approval
    services.approve(filing=version.filing, actor=users["officer_in"])
    leader = Contact.objects.get(institution=master["A"], role="leader")
    assert (leader.name, leader.email) == ("李建国", "user0@icbc.com.cn")
    assert AuditEntry.objects.get(action="contacts.sync").changes["leader.name"] == [None, "李建国"]


def test_a_document_return_takes_files_not_values_and_records_where_it_came_from(campaign, users, master):
    from reporting.demo import demo_pdf

    with pytest.raises(ServiceError) as exc:
        services.save_version(
            institution=master["A"],
            period=campaign[Form.WORK_PLAN],
            actor=users["filer_a"],
            raw={},
            source="web",
        )
    assert exc.value.code == "not_applicable"
    version = services.save_document(
        institution=master["A"],
        period=campaign[Form.WORK_PLAN],
        actor=users["filer_a"],
        data=demo_pdf("work plan"),
        filename="方案.docx",
        source=VersionSource.API,
    )
    assert (version.source, version.upload.name.endswith(".pdf")) == ("api", True)  # stored as what it is


def test_plans_of_later_years_name_their_own_years():
    from reporting.definitions import definition_for

    plan_2024 = definition_for("plan", 2024)
    assert plan_2024.field("420100.balance_y1").label == "武汉分行 · 2023年末普惠小微贷款余额"
    assert plan_2024.template_id == "xwqy-plan-2024"


def test_the_officer_exports_every_contact_in_the_jurisdiction(campaign, users, master, client_for):
    import io

    import openpyxl

    for who, inst in (("filer_a", "A"), ("filer_b", "B")):
        services.save_version(
            institution=master[inst],
            period=campaign[Form.CONTACTS],
            actor=users[who],
            raw=contact_values(**{"liaison.name": '=HYPERLINK("x")'}),
            source=VersionSource.WEB,
        )
    response = client_for("officer_in").get("/reporting/contacts.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    banks = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert banks == {"工商银行"}  # 湖北银行 is outside 营业管理部's jurisdiction
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert not any(str(c).startswith("=") for c in cells)  # user text never becomes a formula
    assert client_for("filer_a").get("/reporting/contacts.xlsx").status_code == 403


@pytest.mark.parametrize("who", ["filer_b", "signer_b", "officer_out"])
@pytest.mark.parametrize("suffix", ["", "document/1/", "history/", "document/"])
def test_another_bank_or_an_outside_officer_cannot_reach_a_work_plan(
    campaign, users, master, client_for, who, suffix
):
    from reporting.demo import demo_pdf

    services.save_document(
        institution=master["A"],
        period=campaign[Form.WORK_PLAN],
        actor=users["filer_a"],
        data=demo_pdf("work plan"),
        filename="方案.pdf",
    )
    url = f"/reporting/institutions/{master['A'].pk}/periods/{campaign[Form.WORK_PLAN].pk}/{suffix}"
    client = client_for(who)
    response = client.post(url, {"file": ""}) if suffix == "document/" else client.get(url)
    assert response.status_code == 404


def test_the_filer_previews_the_pdf_inline_and_gets_it_under_its_checked_type(
    campaign, users, master, client_for
):
    from reporting.demo import demo_pdf

    services.save_document(
        institution=master["A"],
        period=campaign[Form.WORK_PLAN],
        actor=users["filer_a"],
        data=demo_pdf("work plan"),
        filename="方案.docx",
    )
    url = f"/reporting/institutions/{master['A'].pk}/periods/{campaign[Form.WORK_PLAN].pk}/document/1/"
    response = client_for("officer_in").get(url)
    assert response["Content-Type"] == "application/pdf"
    assert "inline" in response["Content-Disposition"] and ".pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_only_the_document_preview_may_be_framed(campaign, users, master, client_for):
    from reporting.demo import demo_pdf

    services.save_document(
        institution=master["A"],
        period=campaign[Form.WORK_PLAN],
        actor=users["filer_a"],
        data=demo_pdf("work plan"),
        filename="方案.pdf",
    )
    base = f"/reporting/institutions/{master['A'].pk}/periods/{campaign[Form.WORK_PLAN].pk}/"
    client = client_for("filer_a")
    assert client.get(base + "document/1/")["X-Frame-Options"] == "SAMEORIGIN"
    assert client.get(base)["X-Frame-Options"] == "DENY"
