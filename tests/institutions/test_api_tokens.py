"""API tokens: scoped to the institution they were issued for, their last use recorded, listed at
/accounts/tokens/ (an admin's jurisdiction, anyone else's own) and revocable there with an audit row."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from audit.models import AuditEntry
from institutions import services
from institutions.models import ApiToken, Role
from reporting import services as reporting_services
from reporting.models import Form, Period
from tests.factories import make_user

URL = "/accounts/tokens/"


def issue(user) -> str:
    return services.rotate_api_token(user=user)


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def listed(response) -> set[str]:
    """Usernames of the rows on the token page."""
    html = response.content.decode()
    return {
        row.split("<td>", 1)[1].split("<", 1)[0].split("（")[0] for row in html.split('<tr data-token="')[1:]
    }


@pytest.fixture
def admin_in(master):
    """A PBoC admin of 营业管理部: ICBC is in the jurisdiction, HBB (followed by 武汉分行 directly) is not."""
    return make_user("admin_in", Role.PBOC_ADMIN, office=master["office_in"])


@pytest.fixture
def tokens(users):
    return {
        name: issue(users[name]) for name in ("filer_a", "signer_a", "filer_b", "officer_in", "officer_out")
    }


# --- scope and tracking ----------------------------------------------------------------------------------


def test_a_banks_token_acts_for_its_own_institution_only(users, master):
    key = issue(users["filer_a"])

    me = api(key).get("/api/v1/me/").json()
    assert me["username"] == "filer_a"
    assert [i["code"] for i in api(key).get("/api/v1/institutions/").json()["results"]] == ["ICBC"]
    reporting_services.ensure_monthly_periods((2022, 3), (2022, 3))
    march = Period.objects.get(form=Form.MONITORING, year=2022, month=3)
    check = "/api/v1/institutions/{}/periods/{}/check/"
    assert (
        api(key).post(check.format(master["A"].pk, march.pk), {"values": {}}, format="json").status_code
        == 200
    )
    assert (
        api(key).post(check.format(master["B"].pk, march.pk), {"values": {}}, format="json").status_code
        == 404
    )


def test_a_token_stops_working_when_its_user_moves_to_another_institution(users, master):
    key = issue(users["filer_a"])
    assert api(key).get("/api/v1/me/").status_code == 200

    users["filer_a"].institution = master["B"]
    users["filer_a"].save(update_fields=["institution"])

    response = api(key).get("/api/v1/institutions/")
    assert response.status_code == 401
    assert "所属机构" in response.json()["error"]["message"]


def test_every_token_gets_its_record_whoever_creates_it(users):
    token = Token.objects.create(user=users["signer_b"])  # e.g. DRF's drf_create_token command

    record = ApiToken.objects.get(token=token)
    assert (record.user, record.institution, record.key_prefix) == (
        users["signer_b"],
        users["signer_b"].institution,
        token.key[:4],
    )
    assert api(token.key).get("/api/v1/me/").status_code == 200


def test_last_use_is_recorded_at_most_once_a_minute(users, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    key = issue(users["filer_a"])
    record = ApiToken.objects.get(user=users["filer_a"])
    assert record.last_used_at is None

    api(key).get("/api/v1/me/")
    first = ApiToken.objects.get(pk=record.pk).last_used_at
    assert first == timezone.now()

    time_machine.shift(timedelta(seconds=30))
    api(key).get("/api/v1/me/")
    assert ApiToken.objects.get(pk=record.pk).last_used_at == first

    time_machine.shift(timedelta(seconds=31))
    api(key).get("/api/v1/me/")
    assert ApiToken.objects.get(pk=record.pk).last_used_at == first + timedelta(seconds=61)


def test_rotating_keeps_the_replaced_token_listed_as_revoked(users, client_for):
    first = issue(users["filer_a"])
    second = issue(users["filer_a"])

    old, new = ApiToken.objects.get(key_prefix=first[:4]), ApiToken.objects.get(key_prefix=second[:4])
    assert old.revoked_at is not None and old.revoked_by == users["filer_a"] and not old.is_active
    assert new.is_active and new.token_id == second
    page = client_for("filer_a").get(URL).content.decode()
    assert f"{first[:4]}…" in page and f"{second[:4]}…" in page and "已撤销" in page


# --- who sees which -----------------------------------------------------------------------------------------


def test_a_branch_admin_lists_every_token_of_the_jurisdiction(tokens, client_for):
    response = client_for("pboc_admin").get(URL)

    assert response.status_code == 200
    assert listed(response) == {"filer_a", "signer_a", "filer_b", "officer_in", "officer_out"}
    assert "辖内接口令牌" in response.content.decode()


def test_an_admin_lists_only_the_institutions_and_offices_below_them(tokens, admin_in, client):
    client.force_login(admin_in)

    assert listed(client.get(URL)) == {"filer_a", "signer_a", "officer_in"}


@pytest.mark.parametrize(("name", "own"), [("filer_a", "filer_a"), ("officer_in", "officer_in")])
def test_bank_users_and_officers_see_only_their_own(tokens, client_for, name, own):
    response = client_for(name).get(URL)

    assert listed(response) == {own}
    assert "我的接口令牌" in response.content.decode()


def test_the_list_filters_by_status(tokens, users, client_for):
    issue(users["filer_b"])  # filer_b's first token is now revoked

    client = client_for("pboc_admin")
    assert listed(client.get(URL, {"status": "revoked"})) == {"filer_b"}
    assert "filer_b" in listed(client.get(URL, {"status": "active"}))


def test_the_list_costs_the_same_few_queries_for_many_tokens(
    tokens, users, client_for, django_assert_max_num_queries
):
    for _ in range(20):
        issue(users["filer_b"])
    client = client_for("pboc_admin")
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert response.content.decode().count('<tr data-token="') == 5 + 20


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- revoking -----------------------------------------------------------------------------------------------


def test_an_admin_revokes_a_banks_token_and_the_revocation_is_audited(tokens, users, client_for):
    key = tokens["filer_a"]
    record = ApiToken.objects.get(token_id=key)
    assert api(key).get("/api/v1/me/").status_code == 200

    client = client_for("pboc_admin")
    response = client.post(URL + "?status=active", {"token": record.pk}, REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 302 and response["Location"] == URL + "?status=active"
    assert api(key).get("/api/v1/me/").status_code == 401
    record.refresh_from_db()
    assert not record.is_active and record.revoked_by == users["pboc_admin"] and record.revoked_at
    assert not Token.objects.filter(key=key).exists()
    entry = AuditEntry.objects.get(action="api_token.revoke")
    assert entry.actor == users["pboc_admin"]
    assert entry.institution == users["filer_a"].institution
    assert (entry.object_type, entry.object_id) == ("institutions.ApiToken", str(record.pk))
    assert "filer_a" in entry.summary and f"{key[:4]}…" in entry.summary
    assert entry.changes["status"] == ["有效", "已撤销"] and entry.ip == "10.1.2.3"
    page = client.get(URL).content.decode()
    assert "已撤销 filer_a 的接口令牌" in page
    # other tokens are untouched
    assert api(tokens["signer_a"]).get("/api/v1/me/").status_code == 200


def test_revoking_twice_changes_nothing_more(tokens, client_for):
    record = ApiToken.objects.get(token_id=tokens["filer_a"])
    client = client_for("pboc_admin")
    client.post(URL, {"token": record.pk})
    client.post(URL, {"token": record.pk})

    assert AuditEntry.objects.filter(action="api_token.revoke").count() == 1


@pytest.mark.parametrize(
    ("who", "whose"),
    [
        ("admin_in", "filer_b"),  # outside the admin's jurisdiction
        ("filer_a", "signer_a"),  # a colleague's, same bank
        ("filer_a", "filer_b"),  # another bank's
        ("officer_branch", "filer_a"),  # officers manage their own token only
    ],
)
def test_a_token_outside_ones_reach_is_not_found_and_keeps_working(
    tokens, users, admin_in, client, who, whose
):
    client.force_login(admin_in if who == "admin_in" else users[who])
    record = ApiToken.objects.get(token_id=tokens[whose])

    assert client.post(URL, {"token": record.pk}).status_code == 404
    assert api(tokens[whose]).get("/api/v1/me/").status_code == 200
    assert not AuditEntry.objects.filter(action="api_token.revoke").exists()
    # the service checks again, whoever calls it
    with pytest.raises(PermissionDenied):
        services.revoke_api_token(actor=admin_in if who == "admin_in" else users[who], token=record)


def test_a_user_revokes_their_own_token_from_the_list(tokens, users, client_for):
    record = ApiToken.objects.get(token_id=tokens["officer_in"])

    client_for("officer_in").post(URL, {"token": record.pk})

    assert api(tokens["officer_in"]).get("/api/v1/me/").status_code == 401
    entry = AuditEntry.objects.get(action="api_token.revoke")
    assert entry.actor == users["officer_in"] and entry.institution is None


@pytest.mark.parametrize("junk", ["", "abc", "999999"])
def test_a_revocation_of_nothing_is_not_found(tokens, client_for, junk):
    assert client_for("pboc_admin").post(URL, {"token": junk}).status_code == 404


def test_the_page_is_translated(tokens, client_for):
    client = client_for("pboc_admin")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    page = client.get(URL).content.decode()

    assert "API tokens in your jurisdiction" in page and "Revoke" in page
    assert "辖内接口令牌" not in page
