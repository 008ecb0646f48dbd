"""The optional second factor for PBoC roles, and revocable API tokens."""

import base64
import re
import time

from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEntry
from institutions import totp
from tests.factories import PASSWORD


def test_totp_matches_the_rfc_6238_reference_values():
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.code_at(secret, 59, digits=8) == "94287082"
    assert totp.code_at(secret, 1111111109, digits=8) == "07081804"
    assert totp.verify(secret, totp.code_at(secret, 1000), now=1000 + 30)  # one step of clock drift
    assert not totp.verify(secret, totp.code_at(secret, 1000), now=1000 + 95)


def enable(client, user):
    page = client.get(reverse("two_factor")).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "otpauth://" in page or "<svg" in page
    client.post(
        reverse("two_factor"),
        {"code": "000000" if totp.code_at(secret, time.time()) != "000000" else "111111"},
    )
    assert not type(user).objects.get(pk=user.pk).totp_secret  # a wrong code does not enable it
    client.post(reverse("two_factor"), {"code": totp.code_at(secret, time.time())})
    return secret


def test_an_officer_enables_the_second_factor_and_then_needs_it_to_sign_in(client, users):
    officer = users["officer_in"]
    client.force_login(officer)
    secret = enable(client, officer)
    assert type(officer).objects.get(pk=officer.pk).totp_secret == secret
    assert AuditEntry.objects.filter(action="2fa.enable", actor=officer).count() == 1
    client.logout()

    response = client.post(reverse("login"), {"username": "officer_in", "password": PASSWORD})
    assert response["Location"] == reverse("login_2fa")
    assert client.get("/").status_code == 302  # not signed in yet
    page = client.post(reverse("login_2fa"), {"code": "12345"}).content.decode()
    assert "验证码不正确" in page
    # the code that turned the factor on was spent; the app's next code (one step of drift allowed) signs in
    response = client.post(reverse("login_2fa"), {"code": totp.code_at(secret, time.time() + totp.STEP)})
    assert response.status_code == 302 and client.get("/").status_code == 200


def test_a_code_is_accepted_once(client, users):
    officer = users["officer_in"]
    client.force_login(officer)
    secret = enable(client, officer)
    client.logout()
    code = totp.code_at(secret, time.time() + totp.STEP)
    client.post(reverse("login"), {"username": "officer_in", "password": PASSWORD})
    assert client.post(reverse("login_2fa"), {"code": code}).status_code == 302
    client.logout()

    client.post(reverse("login"), {"username": "officer_in", "password": PASSWORD})
    page = client.post(reverse("login_2fa"), {"code": code}).content.decode()  # replayed within its window
    assert "已使用过" in page and client.get("/").status_code == 302
    assert AuditEntry.objects.filter(action="login.2fa_failed", object_id=str(officer.pk)).count() == 1


def test_repeated_wrong_codes_are_throttled(client, users, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    officer = users["officer_in"]
    client.force_login(officer)
    secret = enable(client, officer)
    client.logout()
    client.post(reverse("login"), {"username": "officer_in", "password": PASSWORD})
    right = totp.code_at(secret, time.time())
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(3):
        client.post(reverse("login_2fa"), {"code": wrong})
    page = client.post(reverse("login_2fa"), {"code": right}).content.decode()
    assert "错误次数过多" in page


def test_bank_users_have_no_second_factor_page(client_for):
    assert client_for("filer_a").get(reverse("two_factor")).status_code == 403


def test_a_revoked_token_stops_working(client_for):
    client = client_for("filer_a")
    page = client.post(reverse("api_token")).content.decode()
    key = page.split('id="new-token">')[1].split("<")[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 200
    client.post(reverse("api_token"), {"action": "revoke"})
    assert api.get("/api/v1/me/").status_code == 401
    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1
