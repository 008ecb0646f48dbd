"""The filing month as people live it: a return stays returned until resubmitted, explanations survive a
re-upload, input the portal could not read stays in its box, every return is on the home page."""

import io
from datetime import date

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from institutions.models import Contact, ContactRole
from reporting import services
from reporting.models import FilingVersion, Form, Period, VersionSource
from tests.factories import sheet_values

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet_url(institution, period) -> str:
    return reverse("reporting:sheet", args=[institution.pk, period.pk])


def save(users, master, period, who="filer_a", explanations=None, **values):
    return services.save_version(
        institution=master["A"],
        period=period,
        actor=users[who],
        raw=sheet_values(**values),
        source=VersionSource.WEB,
        explanations=explanations,
    )


def submitted(users, master, period, **values):
    version = save(users, master, period, **values)
    return services.submit(filing=version.filing, actor=users["signer_a"], confirm=True).filing


def returned(users, master, period):
    filing = submitted(users, master, period)
    return services.return_filing(
        filing=filing,
        actor=users["officer_in"],
        reason="户数与A3302报表不一致，请核对。",
        field_comments={"borrowers": "应为 9,800 户"},
    )


# --- a return stays returned until it is resubmitted --------------------------------------------------------


def test_the_return_reason_and_field_comments_stay_after_the_first_correction(
    client_for, users, master, march
):
    returned(users, master, march)
    save(users, master, march, borrowers="9800")  # the filer's first correction: 已退回 → 草稿

    page = client_for("filer_a").get(sheet_url(master["A"], march)).content.decode()
    assert 'id="return-reason"' in page and "户数与A3302报表不一致" in page
    assert "审核意见：应为 9,800 户" in page and "退回意见保留到再次提交为止" in page


def test_the_return_ends_with_the_next_submission(client_for, users, master, march):
    filing = returned(users, master, march)
    save(users, master, march, borrowers="9800")
    services.submit(filing=filing, actor=users["signer_a"], confirm=True)

    page = client_for("filer_a").get(sheet_url(master["A"], march)).content.decode()
    assert 'id="return-reason"' not in page and "应为 9,800 户" not in page


def test_the_home_row_shows_the_standing_return_reason(client_for, users, master, march):
    returned(users, master, march)
    save(users, master, march, borrowers="9800")
    page = client_for("filer_a").get("/").content.decode()
    assert "退回原因：户数与A3302报表不一致，请核对。" in page


def test_history_names_commented_fields_by_their_labels(client_for, users, master, march):
    returned(users, master, march)
    page = client_for("filer_a").get(reverse("reporting:history", args=[master["A"].pk, march.pk]))
    text = page.content.decode()
    assert "3月末普惠小微贷款户数：应为 9,800 户" in text and "borrowers：" not in text


# --- explanations survive a re-upload ---------------------------------------------------------------------


def workbook(client, institution, period, **values) -> bytes:
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("reporting:template", args=[institution.pk, period.pk])).content)
    )
    from reporting.definitions import MONITORING_2022

    for fd in MONITORING_2022.fields:
        book["监测表"][f"{fd.column}5"] = float(sheet_values(**values)[fd.code])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, institution, period, data: bytes):
    url = reverse("reporting:upload", args=[institution.pk, period.pk])
    return client.post(url, {"file": SimpleUploadedFile("监测表.xlsx", data, content_type=XLSX)}, follow=True)


def test_an_explanation_is_carried_across_a_reupload_when_the_warning_recurs(
    client_for, users, master, march
):
    client = client_for("filer_a")
    upload(client, master["A"], march, workbook(client, master["A"], march, weighted_rate="15"))
    first = FilingVersion.objects.get()
    save(
        users,
        master,
        march,
        explanations={"W401:weighted_rate": "本月发放创业担保贷款，利率按政策执行。"},
        weighted_rate="15",
    )
    # corrected offline to 14 %: the same warning comes back, and so does its explanation
    page = upload(
        client, master["A"], march, workbook(client, master["A"], march, weighted_rate="14")
    ).content
    latest = FilingVersion.objects.exclude(pk=first.pk).order_by("-number").first()
    assert latest.number == 3
    assert latest.explanations == {"W401:weighted_rate": "本月发放创业担保贷款，利率按政策执行。"}
    assert "沿用上一版的说明，可修改" in page.decode()


def test_an_explanation_is_dropped_when_its_warning_is_gone_and_a_blank_removes_it(users, master, march):
    save(users, master, march, weighted_rate="15")
    save(users, master, march, explanations={"W401:weighted_rate": "政策性利率"}, weighted_rate="15")
    assert save(users, master, march, weighted_rate="4.85").explanations == {}  # no W401 any more
    save(users, master, march, explanations={"W401:weighted_rate": "政策性利率"}, weighted_rate="15")
    blanked = save(users, master, march, explanations={"W401:weighted_rate": "  "}, weighted_rate="15")
    assert blanked.explanations == {}


# --- input kept, checks while typing, the template's contact line -------------------------------------------


def test_a_rejected_entry_stays_in_its_box_with_its_message(client_for, master, march):
    client = client_for("filer_a")
    posted = {**sheet_values(), "borrowers": "11万", "lock_version": 0}
    page = client.post(sheet_url(master["A"], march), posted, follow=True).content.decode()
    assert 'name="borrowers" inputmode="decimal" value="11万"' in page
    assert "填写的“11万”不是数值" in page


def test_the_form_carries_the_part_within_whole_checks_for_the_script(client_for, master, march):
    page = client_for("filer_a").get(sheet_url(master["A"], march)).content.decode()
    assert 'data-part="credit_loan_balance" data-whole="loan_balance" hidden>[E201]' in page
    assert 'data-part="first_loan_borrowers" data-whole="new_borrowers"' in page


def test_the_monthly_template_is_prefilled_with_the_liaison_of_the_contacts_return(client_for, master, march):
    Contact.objects.create(
        institution=master["A"],
        role=ContactRole.LIAISON,
        department="普惠金融事业部",
        name="周敏",
        title="经理",
        office_phone="027-87654321",
        mobile="13900000000",
        email="zhoumin@icbc.example",
    )
    data = client_for("filer_a").get(reverse("reporting:template", args=[master["A"].pk, march.pk])).content
    ws = openpyxl.load_workbook(io.BytesIO(data))["监测表"]
    assert (ws["B2"].value, ws["E2"].value) == ("周敏", "027-87654321")


# --- every return on the home page ----------------------------------------------------------------------------


def test_the_home_page_lists_every_return_due_with_its_form_deadline_and_state(
    client_for, users, master, march
):
    services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    plan = Period.objects.get(form=Form.PLAN, year=2022)
    save(users, master, march)
    page = client_for("filer_a").get("/").content.decode()
    for form in (
        "专项行动进展情况监测表",
        "普惠小微贷款投放计划表",
        "专项行动联系人",
        "工作方案",
        "经验做法",
    ):
        assert form in page, form
    assert reverse("reporting:sheet", args=[master["A"].pk, plan.pk]) in page
    assert "2022-04-29" in page and "草稿" in page and "未填报" in page


def test_my_returns_name_the_form_of_each_row(client_for, users, master, march):
    save(users, master, march)
    page = client_for("filer_a").get(reverse("reporting:list")).content.decode()
    assert "<td>专项行动进展情况监测表（附件4）</td>" in page
