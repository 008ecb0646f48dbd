"""Login throttling locks the account being guessed, never an address alone (institutions/throttle.py), and
the client's address comes from X-Forwarded-For only through a trusted proxy (portal.context.client_ip)."""

import ipaddress

import pytest
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEntry
from portal.context import client_ip
from tests.factories import PASSWORD

ATTACKER = "203.0.113.9"
PROXY = "10.0.0.5"
THROTTLED = "登录失败次数过多"


NAMES = [f"nobody{n}" for n in range(40)] + ["nobody-else", "filer_a", "filer_b", "signer_a"]
ADDRESSES = [ATTACKER, PROXY, "192.0.2.1", "198.51.100.7"] + [f"198.51.100.{n + 1}" for n in range(20)]


@pytest.fixture(autouse=True)
def _clean_counters(settings):
    """The counters live in Redis, which outlives the test's transaction."""
    from django.core.cache import cache

    from institutions import throttle

    settings.LOGIN_FAILURE_LIMIT = 5
    every = {key for name in NAMES for ip in ADDRESSES for key in throttle.keys(name, ip)}
    cache.delete_many(list(every))
    yield
    cache.delete_many(list(every))


def sign_in(client, username, password, **meta):
    return client.post(reverse("login"), {"username": username, "password": password}, **meta)


def test_failures_with_made_up_usernames_from_one_address_do_not_lock_out_anyone_else(client, users):
    for n in range(40):  # twice the old address-wide limit
        sign_in(client, f"nobody{n}", "guess", REMOTE_ADDR=ATTACKER)

    response = sign_in(client, "filer_a", PASSWORD, REMOTE_ADDR=ATTACKER)

    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_behind_a_trusted_proxy_one_client_cannot_keep_everyone_out(client, users, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network(PROXY)]
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": ATTACKER}
    for n in range(40):
        sign_in(client, f"nobody{n}", "guess", **attacker)
    for _ in range(5):
        sign_in(client, "filer_b", "guess", **attacker)

    # filer_b is locked from the attacker's address, not from its own
    assert THROTTLED in sign_in(client, "filer_b", PASSWORD, **attacker).content.decode()
    colleague = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert sign_in(client, "filer_b", PASSWORD, **colleague).status_code == 302
    client.logout()
    # everyone else behind the same proxy signs in
    assert sign_in(client, "filer_a", PASSWORD, **colleague).status_code == 302


def test_a_username_is_locked_after_its_failures_and_the_lock_is_audited_once(client, users):
    for _ in range(5):
        assert (
            "用户名或密码不正确" in sign_in(client, "filer_a", "wrong", REMOTE_ADDR=ATTACKER).content.decode()
        )
    for _ in range(3):
        assert THROTTLED in sign_in(client, "filer_a", PASSWORD, REMOTE_ADDR=ATTACKER).content.decode()
    assert AuditEntry.objects.filter(action="login.failed", object_id=str(users["filer_a"].pk)).count() == 5
    [lock] = AuditEntry.objects.filter(action="login.locked")
    assert lock.ip == ATTACKER and "filer_a" in lock.summary


def test_guessing_spread_over_many_addresses_locks_the_username(client, users):
    for n in range(20):
        sign_in(client, "filer_a", "wrong", REMOTE_ADDR=f"198.51.100.{n + 1}")
    assert THROTTLED in sign_in(client, "filer_a", PASSWORD, REMOTE_ADDR="192.0.2.1").content.decode()


def test_a_busy_address_answers_alike_for_unknown_names_and_wrong_passwords(client, users):
    for n in range(20):
        sign_in(client, f"nobody{n}", "guess", REMOTE_ADDR=ATTACKER)
    unknown = sign_in(client, "nobody-else", "guess", REMOTE_ADDR=ATTACKER).content.decode()
    known = sign_in(client, "signer_a", "guess", REMOTE_ADDR=ATTACKER).content.decode()
    assert THROTTLED in unknown and THROTTLED in known  # the answer does not tell which names exist
    assert AuditEntry.objects.filter(action="login.address_throttled", ip=ATTACKER).count() == 1


def request_from(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_x_forwarded_for_is_ignored_unless_the_request_comes_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    assert client_ip(request_from(ATTACKER, "192.0.2.1")) == ATTACKER  # a client writing its own header
    assert client_ip(request_from(PROXY, ATTACKER)) == ATTACKER
    # the left-most entries are the client's to write: read from the right, past our own proxies
    assert client_ip(request_from(PROXY, f"192.0.2.1, {ATTACKER}, 10.0.0.9")) == ATTACKER
    assert client_ip(request_from(PROXY, "not-an-address")) == PROXY
    settings.TRUSTED_PROXIES = []
    assert client_ip(request_from(PROXY, ATTACKER)) == PROXY


def test_sign_out_is_audited(client_for, users):
    client = client_for("filer_a")
    client.post(reverse("logout"))
    assert AuditEntry.objects.filter(action="logout", actor=users["filer_a"]).count() == 1
