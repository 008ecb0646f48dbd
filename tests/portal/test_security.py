"""Hardening: deploy checks, password policy, session expiry, and the append-only audit log."""

import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit import services as audit
from audit.models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_checks_pass_with_the_production_environment():
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "-Zq9!x7#pL2@vR4$tB6%nM8^cD0&fH3*jK5(",
        "ALLOWED_HOSTS": "portal.example.cn",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal"),
        "SESSION_COOKIE_SECURE": "1",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_allowed_hosts_and_debug_off_alone_pass_the_deploy_checks():
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "-Zq9!x7#pL2@vR4$tB6%nM8^cD0&fH3*jK5(",
        "ALLOWED_HOSTS": "portal.example.cn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_with_debug_off_cookies_are_secure_and_http_is_redirected_unless_plain_http_is_said():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0]))"
    )

    def secure(**extra):
        env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "portal.settings", "SECRET_KEY": "x"}
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**env, **extra}, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert secure(DEBUG="0") == "[true, true, true, true]"
    assert secure(DEBUG="0", PLAIN_HTTP="1") == "[false, false, false, false]"
    assert secure(DEBUG="1") == "[false, false, false, false]"


def test_deploy_checks_fail_when_the_site_says_it_is_served_over_plain_http():
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "-Zq9!x7#pL2@vR4$tB6%nM8^cD0&fH3*jK5(",
        "ALLOWED_HOSTS": "portal.example.cn",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal"),
        "PLAIN_HTTP": "1",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECURE_HSTS_SECONDS" in result.stderr + result.stdout


@pytest.mark.parametrize("password", ["short-1", "1234567890123", "password1234"])
def test_password_policy_refuses_weak_passwords(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_reasonable_password_passes():
    validate_password("Hubei-PSBC-2022-report")


def test_signed_in_pages_carry_the_session_expiry_warning_and_keepalive_renews(client_for, settings):
    client = client_for("filer_a")
    page = client.get("/").content.decode()
    assert f'data-session-seconds="{settings.SESSION_COOKIE_AGE}"' in page and 'id="session-warning"' in page
    assert client.get(reverse("keepalive")).status_code == 204


def test_keepalive_does_not_revive_an_expired_session(client):
    assert client.get(reverse("keepalive")).status_code == 302


def test_audit_rows_cannot_be_changed_through_the_model(db):
    entry = audit.record(actor=None, action="test", summary="试验")
    entry.summary = "篡改"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


def test_the_database_refuses_update_and_delete_of_audit_rows(db):
    assert connection.vendor == "postgresql"  # make test runs on PostgreSQL, where the trigger lives
    audit.record(actor=None, action="test", summary="试验")
    for statement in ("UPDATE audit_auditentry SET summary = 'x'", "DELETE FROM audit_auditentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEntry.objects.get().summary == "试验"


def test_admins_browse_and_filter_the_audit_log(client_for, users, master):
    audit.record(
        actor=users["filer_a"], action="filing.save", institution=master["A"], summary="工商银行保存"
    )
    audit.record(
        actor=users["filer_b"], action="filing.save", institution=master["B"], summary="湖北银行保存"
    )
    audit.record(actor=users["officer_in"], action="filing.approve", institution=master["A"], summary="通过")
    client = client_for("pboc_admin")
    page = client.get(reverse("audit:log"), {"action": "filing.save"}).content.decode()
    assert "工商银行保存" in page and "湖北银行保存" in page and "通过</td>" not in page
    page = client.get(reverse("audit:log"), {"institution": master["B"].pk}).content.decode()
    assert "湖北银行保存" in page and "工商银行保存" not in page


@pytest.mark.parametrize("who", ["filer_a", "officer_in"])
def test_only_admins_see_the_audit_log(client_for, master, who):
    assert client_for(who).get(reverse("audit:log")).status_code == 403
    assert client_for(who).get(reverse("audit:export")).status_code == 403


def test_audit_export_neutralises_formulas(client_for, users, master):
    audit.record(
        actor=users["filer_a"], action="filing.save", institution=master["A"], summary="=cmd|' /C calc'!A0"
    )
    response = client_for("pboc_admin").get(reverse("audit:export"))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    summaries = [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert summaries and all(not str(s).startswith("=") for s in summaries)
    assert any("cmd|" in str(s) for s in summaries)
