"""Next year's campaign set up by a PBoC admin (indicators.campaigns): the preview, the periods and their
deadlines, 附件3's year labels, the province targets; the earlier campaign stays untouched."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from indicators import campaigns
from indicators.models import Target
from portal.errors import Forbidden, ServiceError
from reporting import services
from reporting.models import Form, Period
from tests.factories import periods, sheet_values


@pytest.fixture
def campaign_2022(users, master):
    periods((2022, 1), (2022, 12))
    services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    return {(p.form, p.month, p.quarter): p for p in Period.objects.filter(year=2022)}


def test_the_preview_shows_the_2023_edition_the_plan_labels_and_every_period(campaign_2022):
    plan = campaigns.plan_campaign(year=2023, monthly_due_day=12, annual_due_on=date(2023, 4, 28))
    assert plan.monitoring.edition == "2023"
    assert [f.code for f in plan.new_fields] == ["total_loan_balance", "npl_write_offs"]
    assert [c.label for c in plan.plan.columns][:3] == [
        "2021年末普惠小微贷款余额",
        "2022年末普惠小微贷款余额",
        "2023年普惠小微贷款预计新增额",
    ]
    monthly = [p for p in plan.periods if p.form == Form.MONITORING]
    assert [(p.month, p.due_on) for p in monthly][:2] == [(1, date(2023, 2, 12)), (2, date(2023, 3, 12))]
    assert monthly[-1].due_on == date(2024, 1, 12)
    annual = {p.form: p.due_on for p in plan.periods if p.month is None and p.quarter is None}
    assert annual == {
        Form.PLAN: date(2023, 4, 28),
        Form.CONTACTS: date(2023, 4, 28),
        Form.WORK_PLAN: date(2023, 4, 28),
    }
    assert len(plan.periods) == 12 + 3 + 4 and all(plan.is_new(p) for p in plan.periods)
    assert not Period.objects.filter(year=2023).exists()  # a preview saves nothing


def test_the_admin_sets_up_2023_with_targets_and_2022_stays_as_it_was(
    campaign_2022, users, client_for, master
):
    before = list(Period.objects.filter(year=2022).values_list("pk", "due_on").order_by("pk"))
    services.save_version(
        institution=master["A"],
        period=campaign_2022[(Form.MONITORING, 3, None)],
        actor=users["filer_a"],
        raw=sheet_values(),
        source="web",
    )
    client = client_for("pboc_admin")
    page = client.get(reverse("indicators:campaign"), {"year": "2023"}).content.decode()
    assert "各项贷款余额" in page and "2022年末普惠小微贷款余额" in page and "将新增" in page
    response = client.post(
        reverse("indicators:campaign"),
        {
            "year": "2023",
            "due_day": "15",
            "annual_due_on": "2023-04-28",
            "target:loan_increase_ytd": "1800",
            "target:loan_growth_restored_ytd": "25",
        },
        follow=True,
    )
    assert "已设置 2023 年专项行动：新增报送期 19 个，全省目标 2 项" in response.content.decode()
    assert Period.objects.filter(year=2023, form=Form.MONITORING).count() == 12
    assert Period.objects.get(year=2023, form=Form.PLAN).due_on == date(2023, 4, 28)
    targets = {t.indicator: t.value for t in Target.objects.filter(year=2023)}
    assert targets == {"loan_increase_ytd": Decimal("1800"), "loan_growth_restored_ytd": Decimal("0.25")}
    assert AuditEntry.objects.filter(action="campaign.set_up").count() == 1
    assert list(Period.objects.filter(year=2022).values_list("pk", "due_on").order_by("pk")) == before
    # the 2022 sheet is still read on its own edition
    page = (
        client_for("filer_a")
        .get(reverse("reporting:sheet", args=[master["A"].pk, campaign_2022[(Form.MONITORING, 3, None)].pk]))
        .content.decode()
    )
    assert 'name="total_loan_balance"' not in page
    # a second set-up adds nothing and changes a target in place
    again = campaigns.plan_campaign(
        year=2023, targets=[campaigns.TargetInput("loan_increase_ytd", Decimal("1900"))]
    )
    assert campaigns.set_up_campaign(actor=users["pboc_admin"], plan=again) == {"periods": 0, "targets": 1}
    assert Target.objects.get(year=2023, indicator="loan_increase_ytd").value == Decimal("1900")


def test_only_an_admin_sets_up_a_campaign_and_bad_input_is_refused(campaign_2022, users, client_for):
    with pytest.raises(Forbidden):
        campaigns.set_up_campaign(actor=users["officer_in"], plan=campaigns.plan_campaign(year=2023))
    assert client_for("officer_in").get(reverse("indicators:campaign")).status_code == 403
    page = (
        client_for("pboc_admin")
        .post(reverse("indicators:campaign"), {"year": "2023", "due_day": "31"}, follow=True)
        .content.decode()
    )
    assert "报送截止日应为次月 1–28 日" in page and not Period.objects.filter(year=2023).exists()
    with pytest.raises(ServiceError, match="不是数值"):
        campaigns.parse_targets({"target:loan_increase_ytd": "很多"})


def test_a_period_set_up_ahead_refuses_a_filing_until_it_opens(campaign_2022, users, master, time_machine):
    time_machine.move_to("2023-01-10 10:00 +08:00")
    campaigns.set_up_campaign(actor=users["pboc_admin"], plan=campaigns.plan_campaign(year=2023))
    march = Period.objects.get(year=2023, form=Form.MONITORING, month=3)
    with pytest.raises(ServiceError, match="自 2023-04-01 起接受报送"):
        services.save_version(
            institution=master["A"], period=march, actor=users["filer_a"], raw=sheet_values(), source="web"
        )
