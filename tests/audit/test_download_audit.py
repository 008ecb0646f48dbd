"""Every download of confidential data leaves an audit entry — who, what, when, from where — and the audit
browser filters by downloads and by sign-in events (audit.services.record_download, audit.selectors)."""

from django.urls import reverse

from audit import services as audit
from audit.models import AuditEntry
from tests.factories import periods


def downloads(user) -> list[str]:
    return list(
        AuditEntry.objects.filter(actor=user, action__startswith="download.")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_the_contacts_export_with_names_and_mobiles_is_audited(client_for, users):
    assert client_for("officer_in").get(reverse("reporting:contacts_export")).status_code == 200
    [entry] = AuditEntry.objects.filter(action="download.contacts")
    assert entry.actor == users["officer_in"] and entry.ip == "127.0.0.1" and "手机" in entry.summary


def test_the_audit_export_is_audited_with_its_filter(client_for, users):
    client_for("pboc_admin").get(reverse("audit:export"), {"action": "login"})
    [entry] = AuditEntry.objects.filter(action="download.audit")
    assert entry.actor == users["pboc_admin"] and "login" in entry.summary


def test_a_findings_report_is_audited_on_the_page_and_through_the_api(client_for, users, master):
    march = periods()[(2022, 3)]
    client = client_for("filer_a")
    assert client.get(reverse("reporting:findings", args=[master["A"].pk, march.pk])).status_code == 200
    [entry] = AuditEntry.objects.filter(action="download.findings")
    assert entry.institution == master["A"] and entry.actor == users["filer_a"]


def test_evaluation_results_and_report_cards_are_audited(published, client_for, users, master):
    officer = client_for("officer_in")
    assert officer.get(reverse("evaluation:results_xlsx", args=[published.pk])).status_code == 200
    assert officer.get(reverse("evaluation:results_pdf", args=[published.pk])).status_code == 200
    card = reverse("evaluation:card", args=[published.pk, master["A"].pk])
    assert officer.get(card).status_code == 200
    assert downloads(users["officer_in"]) == [
        "download.evaluation_results",
        "download.evaluation_results",
        "download.report_cards",
    ]
    assert AuditEntry.objects.get(action="download.report_cards").institution == master["A"]


def test_the_audit_browser_filters_downloads_and_sign_in_events(client_for, users, master):
    audit.record(actor=users["filer_a"], action="login", summary="登录")
    audit.record(actor=None, action="login.failed", summary="登录失败：用户名“x”不存在")
    audit.record(actor=users["officer_in"], action="download.contacts", summary="下载联系人汇总")
    audit.record(actor=users["filer_a"], action="filing.save", institution=master["A"], summary="保存监测表")
    client = client_for("pboc_admin")

    def rows(params):  # the table of entries (the 操作 filter lists every action's name, 登录失败 among them)
        page = client.get(reverse("audit:log"), params).content.decode()
        return page[page.index('id="audit"') :]

    page = rows({"category": "download"})
    assert "下载联系人汇总" in page and "保存监测表" not in page and "登录失败" not in page
    page = rows({"category": "access"})
    assert "登录失败" in page and "下载联系人汇总" not in page and "保存监测表" not in page
