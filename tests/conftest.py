"""Base fixtures: the real master data and one user per role across two institutions and two PBoC offices.

filer_a / signer_a   — 工商银行 (ICBC), followed by 营业管理部
filer_b / signer_b   — 湖北银行 (HBB), followed by 武汉分行 directly
officer_in           — 营业管理部 经办: sees ICBC, not HBB
officer_out          — 宜昌市中心支行 经办: sees neither
officer_branch       — 武汉分行 经办: sees every institution
pboc_admin           — 武汉分行 管理员
"""

import os
import secrets
from urllib.parse import urlsplit

import pytest

from institutions.models import Institution, PbocOffice
from institutions.services import load_master_data
from tests.factories import AdminFactory, FilerFactory, OfficerFactory, SignerFactory, periods
from tests.worlds import CSV, build_world, campaign_periods

# The database pytest-django creates is this run's own: two runs on one machine (two `make test`, or a run
# beside someone's shell) never drop each other's test database. TEST_RUN_ID names it when a caller wants to.
RUN_ID = os.environ.get("TEST_RUN_ID") or f"{os.getpid()}_{secrets.token_hex(3)}"


# Servers and probes the suite starts as child processes (gunicorn, the hostile-upload probe, workers) serve
# plain HTTP too: they inherit this.
os.environ.setdefault("PLAIN_HTTP", "1")


def pytest_configure(config):
    """The suite talks plain HTTP (the test client, the live server of the browser tests), as a site with
    PLAIN_HTTP=1 does; production's secure defaults are checked in fresh processes (tests/portal/test_security.py)."""
    from django.conf import settings

    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_HSTS_SECONDS = 0


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_append_only_triggers():
    """Transactional tests end with `flush` (TRUNCATE of every table), which the audit log's triggers refuse;
    the test database is a throwaway and the runner a superuser, so its flush may (audit.privileges)."""
    from django.db.backends.base.operations import BaseDatabaseOperations

    from audit.privileges import wiping_allowed

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with wiping_allowed(self.connection):
            original(self, sql_list)

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    from pytest_django.fixtures import _set_suffix_to_test_databases

    _set_suffix_to_test_databases(suffix=f"run{RUN_ID}")


@pytest.fixture(autouse=True)
def clear_login_throttle():
    """Login failures are counted in the cache (Redis under make test) across runs; start each test with none."""
    from django.core.cache import cache

    from institutions import throttle

    for username in ("filer_a", "signer_a", "filer_b", "signer_b", "officer_in", "officer_out", "pboc_admin"):
        cache.delete_many(throttle.keys(username, "127.0.0.1"))


@pytest.fixture(autouse=True)
def fresh_dashboard_cache():
    """Database rows are rolled back between tests, the cache (Redis) is not: no test sees a dashboard body
    another test rendered."""
    from indicators import dashcache

    dashcache.renew()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at full strength costs ~0.3 s per user; tests create many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def app_role(transactional_db):
    """A role of this test's own, granted as `migrate` grants the portal's application role (it owns no table:
    rows only, and TEMP tables), as the URL's parts (hostname, port, path, username, password); dropped after.
    Transactional: what the test writes is committed, so that role's connections see it."""
    from django.db import connection

    from audit.privileges import grant_app_role

    name, password = f"portal_app_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    db = connection.settings_dict
    url = f"postgres://{name}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    assert grant_app_role(connection, url, log=lambda *_: None) == name
    try:
        yield urlsplit(url)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{name}"')
            cursor.execute(f'DROP ROLE "{name}"')


@pytest.fixture
def master(db):
    load_master_data()
    return {
        "A": Institution.objects.get(code="ICBC"),
        "B": Institution.objects.get(code="HBB"),
        "office_in": PbocOffice.objects.get(code="WH-YY"),
        "office_out": PbocOffice.objects.get(code="YC"),
        "branch": PbocOffice.objects.get(code="WH"),
    }


@pytest.fixture
def users(master):
    return {
        "filer_a": FilerFactory(username="filer_a", institution=master["A"]),
        "signer_a": SignerFactory(username="signer_a", institution=master["A"]),
        "filer_b": FilerFactory(username="filer_b", institution=master["B"]),
        "signer_b": SignerFactory(username="signer_b", institution=master["B"]),
        "officer_in": OfficerFactory(username="officer_in", office=master["office_in"]),
        "officer_out": OfficerFactory(username="officer_out", office=master["office_out"]),
        "officer_branch": OfficerFactory(username="officer_branch", office=master["branch"]),
        "pboc_admin": AdminFactory(username="pboc_admin", office=master["branch"]),
    }


@pytest.fixture
def client_for(client, users):
    """client_for("filer_a") → a test client logged in as that user."""

    def login(name: str):
        client.force_login(users[name])
        return client

    return login


@pytest.fixture
def march(users, master):
    """The 2022年3月 附件4 period, with every monitoring period from 2021年12月 to 2022年12月 beside it."""
    return periods()[(2022, 3)]


@pytest.fixture
def world(master, users):
    """Two banks' monitoring sheets 2021–2022, their plans, the LPR and 2022 targets, refreshed (tests/worlds.py)."""
    return build_world(master, users)


@pytest.fixture
def campaign(users, master):
    """The 2022 campaign's yearly periods by form (tests/worlds.py)."""
    return campaign_periods()


@pytest.fixture
def published(master, users):
    """附件1 (2021) loaded as a published evaluation of the 24 institutions."""
    from evaluation import services as evaluation_services

    return evaluation_services.load_reference(path=CSV)
