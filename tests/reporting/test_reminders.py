"""Beat's daily reminder (004 §(十九): the sheet is due by the 15th)."""

import pytest
from django.core import mail

from reporting import services
from reporting.models import VersionSource
from reporting.tasks import send_reminders
from tests.factories import periods, sheet_values


@pytest.fixture
def setup(users, master, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for name in ("filer_a", "filer_b", "officer_in"):
        users[name].email = f"{name}@example.test"
        users[name].save()
    ps = periods((2022, 3), (2022, 3))
    # ICBC has submitted March; HBB has not.
    services.save_version(
        institution=master["A"],
        period=ps[(2022, 3)],
        actor=users["filer_a"],
        raw=sheet_values(),
        source=VersionSource.WEB,
    )
    services.submit(filing=master["A"].filings.get(), actor=users["signer_a"], confirm=True)
    mail.outbox.clear()
    return ps


def test_three_days_before_the_15th_only_those_who_have_not_submitted_are_reminded(setup):
    assert send_reminders("2022-04-12") == {"reminders": 1, "overdue": 0}
    (message,) = mail.outbox
    assert message.to == ["filer_b@example.test"]
    assert "2022年3月" in message.subject and "04月15日" in message.subject


def test_the_day_after_the_deadline_an_overdue_notice_goes_to_the_bank_and_its_officers(setup, master, users):
    users["officer_branch"].email = "branch@example.test"
    users["officer_branch"].save()
    # 23 institutions have not submitted; each has at least the branch officer to tell.
    assert send_reminders("2022-04-16") == {"reminders": 0, "overdue": 23}
    assert all("逾期" in m.subject for m in mail.outbox)
    assert not any("工商银行" in m.subject for m in mail.outbox)
    (hbb,) = [m for m in mail.outbox if "湖北银行" in m.subject]
    # HBB is followed by 武汉分行 itself: its officer is told, 营业管理部's is not.
    assert set(hbb.to) == {"filer_b@example.test", "branch@example.test"}


def test_no_mail_on_other_days(setup):
    assert send_reminders("2022-04-05") == {"reminders": 0, "overdue": 0}
    assert mail.outbox == []


def test_each_day_the_months_up_to_last_month_have_their_periods(db):
    from reporting.models import Period
    from reporting.tasks import open_periods

    assert open_periods("2023-03-01") == 2  # 2023年1月 and 2月
    assert open_periods("2023-03-02") == 0
    february = Period.objects.get(year=2023, month=2)
    assert (str(february.opens_on), str(february.due_on)) == ("2023-03-01", "2023-03-15")


def test_the_yearly_returns_are_reminded_too(db, users, settings):
    from datetime import date

    from reporting import services as reporting_services

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    users["filer_a"].email = "filer_a@example.test"
    users["filer_a"].save()
    reporting_services.ensure_campaign_periods(2022, due_on=date(2022, 4, 29))
    mail.outbox.clear()
    send_reminders("2022-04-26")  # three days before the work plan, contacts and plan are due
    subjects = [m.subject for m in mail.outbox if m.to == ["filer_a@example.test"]]
    assert any("工作方案" in s for s in subjects) and any("投放计划表" in s for s in subjects)


# --- what was sent, and the officer's 催报 -------------------------------------------------------------------


def test_each_reminder_sent_is_recorded_with_its_recipients_and_carries_the_sheets_link(
    setup, master, settings
):
    from reporting.models import Reminder

    settings.PORTAL_URL = "https://portal.example"
    send_reminders("2022-04-12")
    (reminder,) = Reminder.objects.all()
    assert (reminder.institution, reminder.kind, reminder.sent_by) == (master["B"], "reminder", None)
    assert reminder.recipients == ["filer_b@example.test"]
    sheet = f"https://portal.example/reporting/institutions/{master['B'].pk}/periods/{setup[(2022, 3)].pk}/"
    assert sheet in mail.outbox[0].body


def test_an_officer_urges_the_institutions_that_have_not_submitted_with_a_copy(
    setup, master, users, client_for, settings
):
    from django.test import TestCase
    from django.urls import reverse

    from audit.models import AuditEntry
    from reporting.models import Reminder

    settings.CELERY_TASK_ALWAYS_EAGER = True
    march = setup[(2022, 3)]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for("officer_in").post(reverse("reporting:urge", args=[march.pk]), follow=True)
    assert "已向 18 家机构发出催报" in response.content.decode()  # 营业管理部's 19 national banks, ICBC filed
    urged = Reminder.objects.filter(kind="urge")
    assert urged.count() == 18 and not urged.filter(institution=master["A"]).exists()
    assert set(urged.values_list("sent_by__username", flat=True)) == {"officer_in"}
    copies = [m for m in mail.outbox if "officer_in@example.test" in m.to]
    assert copies and all("催报" in m.subject and "填报页面：" in m.body for m in copies)
    assert AuditEntry.objects.get(action="period.urge").actor == users["officer_in"]

    page = client_for("officer_in").get(reverse("reporting:reminders")).content.decode()
    assert page.count("<td>催报</td>") == 18
    outside = client_for("officer_out").get(reverse("reporting:reminders")).content.decode()
    assert "<td>催报</td>" not in outside  # 宜昌 follows none of them


def test_urging_when_everyone_has_submitted_says_so(setup, client_for, users, master):
    from django.urls import reverse

    response = client_for("officer_out").post(
        reverse("reporting:urge", args=[setup[(2022, 3)].pk]), follow=True
    )
    assert "辖区内机构均已提交，无需催报" in response.content.decode()
