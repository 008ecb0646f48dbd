"""Start-up refuses bad configuration with a message naming the variable (portal/settings.py).

Each case starts a fresh interpreter with a controlled environment, as a real deployment would.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = "import django; django.setup(); from django.conf import settings; "
POSTGRES = "postgres://portal:secret@db.internal:5432/portal"


def start(env: dict[str, str], code: str = "") -> subprocess.CompletedProcess:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-c", SETUP + (code or "pass")],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def refusal(result: subprocess.CompletedProcess) -> str:
    """The exception line that ended start-up (not the traceback, whose source lines name every variable)."""
    assert result.returncode != 0, result.stdout
    last = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    return last


@pytest.mark.parametrize(
    ("variable", "env"),
    [
        pytest.param("DEBUG", {"DEBUG": "maybe"}, id="DEBUG"),
        pytest.param("DATABASE_URL", {"DATABASE_URL": "mysql://root@db/portal"}, id="DATABASE_URL-scheme"),
        pytest.param("DATABASE_URL", {"DATABASE_URL": "127.0.0.1:5432/portal"}, id="DATABASE_URL-no-scheme"),
        pytest.param("REDIS_URL", {"REDIS_URL": "http://127.0.0.1:6379/0"}, id="REDIS_URL"),
        pytest.param("CELERY_BROKER_URL", {"CELERY_BROKER_URL": "sqs://queue"}, id="CELERY_BROKER_URL"),
        pytest.param("EMAIL_PORT", {"EMAIL_PORT": "twenty-five"}, id="EMAIL_PORT"),
        pytest.param("UPLOAD_MAX_BYTES", {"UPLOAD_MAX_BYTES": "10MB"}, id="UPLOAD_MAX_BYTES"),
        pytest.param(
            "SESSION_COOKIE_SECURE", {"SESSION_COOKIE_SECURE": "sometimes"}, id="SESSION_COOKIE_SECURE"
        ),
        pytest.param("TRUSTED_PROXIES", {"TRUSTED_PROXIES": "proxy.internal"}, id="TRUSTED_PROXIES"),
        pytest.param("DEMO_TODAY", {"DEMO_TODAY": "10/01/2023"}, id="DEMO_TODAY"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(variable, env):
    message = refusal(start({"SECRET_KEY": "x", **env}))
    assert variable in message
    assert repr(next(iter(env.values()))) in message  # the offending value is quoted back


def test_production_without_secret_key_stops_start_up():
    message = refusal(start({"DEBUG": "0", "DATABASE_URL": POSTGRES}))
    assert "SECRET_KEY" in message


def test_production_refuses_a_demo_clock():
    message = refusal(
        start({"DEBUG": "0", "DATABASE_URL": POSTGRES, "SECRET_KEY": "x", "DEMO_TODAY": "2023-01-10"})
    )
    assert "DEMO_TODAY" in message


def test_the_embedded_demo_takes_its_clock_from_demo_today():
    result = start({"DEBUG": "1", "DEMO_TODAY": "2023-01-10"}, "print(settings.DEMO_TODAY.isoformat())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2023-01-10"


def test_debug_with_database_url_may_use_the_development_secret_key():
    result = start({"DEBUG": "1", "DATABASE_URL": POSTGRES}, "print(settings.SECRET_KEY)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "embedded-default-not-for-production"


def test_production_configuration_starts_with_postgres_redis_and_a_queued_celery():
    code = (
        "d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['HOST'], d['NAME'], settings.DEBUG, settings.CELERY_TASK_ALWAYS_EAGER, "
        "settings.CELERY_BROKER_URL, settings.CACHES['default']['BACKEND'], settings.EMAIL_PORT)"
    )
    env = {
        "DEBUG": "0",
        "DATABASE_URL": POSTGRES,
        "REDIS_URL": "redis://cache.internal:6379/2",
        "SECRET_KEY": "a-real-secret",
        "EMAIL_PORT": "587",
    }
    result = start(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "db.internal",
        "portal",
        "False",
        "False",
        "redis://cache.internal:6379/2",
        "django.core.cache.backends.redis.RedisCache",
        "587",
    ]


def test_embedded_default_starts_on_sqlite_with_in_process_tasks():
    code = "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    result = start({}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]
