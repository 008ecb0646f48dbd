"""Pages: role-aware home, the sheet page, the officer's matrix, login, and the Chinese error pages."""

import pytest
from django.urls import reverse

from reporting import services
from reporting.models import FilingVersion, VersionSource
from tests.factories import PASSWORD, sheet_values


def sheet_url(institution, period, suffix=""):
    return reverse("reporting:sheet", args=[institution.pk, period.pk]) + suffix


def test_each_role_lands_on_its_own_home(client_for, master):
    assert "工商银行 · 报送事项" in client_for("filer_a").get("/").content.decode()
    assert "辖区报送概况" in client_for("officer_in").get("/").content.decode()
    assert "管理事项" in client_for("pboc_admin").get("/").content.decode()


def test_filer_saves_the_form_and_sees_findings_beside_the_fields(client_for, master, march):
    client = client_for("filer_a")
    response = client.post(
        sheet_url(master["A"], march), {**sheet_values(credit_loan_balance="150"), "lock_version": "0"}
    )
    assert response.status_code == 302
    page = client.get(sheet_url(master["A"], march)).content.decode()
    assert "E201" in page and "错误 1" in page
    assert FilingVersion.objects.get().values["credit_loan_balance"] == "150"


def test_forgiving_input_from_the_form(client_for, master, march):
    client = client_for("filer_a")
    client.post(
        sheet_url(master["A"], march), sheet_values(loan_balance="１，２３４.５亿元", weighted_rate="4.85%")
    )
    values = FilingVersion.objects.get().values
    assert (values["loan_balance"], values["weighted_rate"]) == ("1234.5", "4.85")


@pytest.mark.parametrize("who", ["filer_b", "signer_b", "officer_out"])
@pytest.mark.parametrize("suffix", ["", "template.xlsx", "history/", "findings.xlsx"])
def test_another_bank_or_an_outside_officer_gets_404_on_every_sheet_page(
    client_for, master, march, who, suffix
):
    services.save_version(
        institution=master["A"],
        period=march,
        actor=_user("filer_a"),
        raw=sheet_values(),
        source=VersionSource.WEB,
    )
    assert client_for(who).get(sheet_url(master["A"], march, suffix)).status_code == 404


@pytest.mark.parametrize("who", ["filer_b", "officer_out"])
@pytest.mark.parametrize("action", ["", "upload/", "submit/", "approve/", "return/", "reopen/"])
def test_another_bank_cannot_write_to_a_sheet(client_for, master, march, who, action):
    response = client_for(who).post(sheet_url(master["A"], march, action), {**sheet_values(), "reason": "x"})
    assert response.status_code == 404
    assert not FilingVersion.objects.exists()


def _user(name):
    from institutions.models import User

    return User.objects.get(username=name)


def test_status_matrix_query_count_does_not_grow_with_institutions(
    client_for, master, march, django_assert_max_num_queries
):
    client = client_for("officer_branch")
    with django_assert_max_num_queries(20):
        response = client.get(reverse("reporting:matrix") + "?months=12")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<tr>") >= 24 + 1  # every institution of 附件1 has a row


def test_bank_users_cannot_open_the_matrix(client_for, master):
    assert client_for("filer_a").get(reverse("reporting:matrix")).status_code == 403


def test_wrong_password_gets_a_chinese_message_and_repeated_failures_are_throttled(client, users, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        page = client.post(reverse("login"), {"username": "filer_a", "password": "wrong"}).content.decode()
        assert "用户名或密码不正确" in page
    page = client.post(reverse("login"), {"username": "filer_a", "password": PASSWORD}).content.decode()
    assert "登录失败次数过多" in page  # even the right password waits out the window


def test_unknown_url_gets_the_chinese_404_page(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_language_switch_to_english(client_for, master):
    client = client_for("filer_a")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Sign out" in page


def test_a_user_issues_an_api_token_that_works_and_rotating_it_kills_the_old_one(client_for, master):
    from rest_framework.test import APIClient

    from audit.models import AuditEntry

    page = client_for("filer_a").post(reverse("api_token")).content.decode()
    first = page.split('id="new-token">')[1].split("<")[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.get("/api/v1/me/").json()["username"] == "filer_a"
    client_for("filer_a").post(reverse("api_token"))
    assert api.get("/api/v1/me/").status_code == 401
    assert list(AuditEntry.objects.values_list("action", flat=True).order_by("id")) == [
        "api_token.create",
        "api_token.rotate",
    ]
