"""One settings module, driven by environment variables (see .env.example).

Every variable is read and checked here; a bad value stops start-up with a message naming it.
Without DATABASE_URL the portal runs on a SQLite file under var/; without REDIS_URL Celery tasks
run in-process. Production and CI set both.
"""

import ipaddress
import os
from datetime import date
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"环境变量 {name}={raw!r} 无效：请填写 1/0、true/false、yes/no 或 on/off。")


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"环境变量 {name}={raw!r} 无效：请填写整数。") from None


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = _env(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _env_url(name: str, schemes: tuple[str, ...]) -> str | None:
    raw = _env(name)
    if raw is None:
        return None
    if "://" not in raw or raw.split("://", 1)[0] not in schemes:
        raise ImproperlyConfigured(
            f"环境变量 {name}={raw!r} 无效：应以 {' 或 '.join(s + '://' for s in schemes)} 开头。"
        )
    return raw


def _env_networks(name: str) -> list:
    networks = []
    for item in _env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"环境变量 {name} 中的 {item!r} 无效：请填写以逗号分隔的 IP 地址或网段（如 10.0.0.5,10.1.0.0/16）。"
            ) from None
    return networks


DEBUG = _env_bool("DEBUG", False)

SECRET_KEY = _env("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG and _env("DATABASE_URL"):
        raise ImproperlyConfigured(
            "环境变量 SECRET_KEY 未设置：生产环境（DEBUG=0 且设置了 DATABASE_URL）必须提供。"
        )
    SECRET_KEY = "embedded-default-not-for-production"

ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "audit",
    "outbox",
    "institutions",
    "reporting",
    "evaluation",
    "indicators",
    "portal",  # the project's own commands (loaddemo), above the apps it brings together
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything below: /healthz is answered without a session (portal/middleware.py), and the
    # policy sees the final response, X-Frame-Options included.
    "portal.middleware.HealthzBeforeSessionMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The client's address for the audit log (portal/context.py), and a refusal no view caught as a page.
    "portal.context.AuditContextMiddleware",
    "portal.errors.ServiceErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.session",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = _env_url("DATABASE_URL", ("postgres", "postgresql", "sqlite"))
EMBEDDED = DATABASE_URL is None
if EMBEDDED:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "var" / "portal.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
else:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------
REDIS_URL = _env_url("REDIS_URL", ("redis", "rediss"))
CELERY_BROKER_URL = _env_url("CELERY_BROKER_URL", ("redis", "rediss", "amqp")) or REDIS_URL
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers a message whose worker died (acks_late) only after the visibility timeout: long enough
# for the longest task (a 20,000-row import or a batch of report cards takes a few minutes), short enough
# that a job lost with its worker resumes within minutes rather than an hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _env_int("CELERY_VISIBILITY_TIMEOUT", 900)}
# Long jobs do not wait for that: their rows carry a heartbeat (portal/jobs.py) written every
# JOB_HEARTBEAT_SECONDS, and the beat sends again, within JOB_REQUEUE_SECONDS, a running job whose heartbeat
# is older than JOB_STALE_SECONDS — a killed job resumes within a minute.
JOB_HEARTBEAT_SECONDS = _env_int("JOB_HEARTBEAT_SECONDS", 5)
JOB_STALE_SECONDS = _env_int("JOB_STALE_SECONDS", 30)
JOB_REQUEUE_SECONDS = _env_int("JOB_REQUEUE_SECONDS", 15)
if JOB_STALE_SECONDS < 3 * JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        f"环境变量 JOB_STALE_SECONDS={JOB_STALE_SECONDS} 无效：应至少为 JOB_HEARTBEAT_SECONDS 的 3 倍，"
        "否则仍在运行的任务会被误判为中断。"
    )

# --- Auth, i18n -----------------------------------------------------------------------------
AUTH_USER_MODEL = "institutions.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "institutions.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# An admin-initiated password reset link (institutions.services.request_password_reset) is good once, for this long.
PASSWORD_RESET_TIMEOUT = _env_int("PASSWORD_RESET_HOURS", 24) * 3600
LOGIN_FAILURE_LIMIT = _env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = _env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
# The reverse proxies (addresses or networks) whose X-Forwarded-For names the client. From anyone else the
# header is ignored — a client could write any address there — and the client is REMOTE_ADDR.
TRUSTED_PROXIES = _env_networks("TRUSTED_PROXIES")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True


def _env_date(name: str):
    raw = _env(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"环境变量 {name}={raw!r} 无效：请填写日期，例如 2023-01-10。") from None


# The demo clock (portal/clock.py): the day the portal takes as today for deadlines, 逾期 and open periods.
# `make run` sets it to a day inside the demo world (README "Demo accounts"); never in production.
DEMO_TODAY = _env_date("DEMO_TODAY")
if DEMO_TODAY is not None and not DEBUG and _env("DATABASE_URL"):
    raise ImproperlyConfigured(
        "DEMO_TODAY 仅用于演示：生产环境（DEBUG=0 且设置了 DATABASE_URL）不能设置演示日期。"
    )

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(_env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# An upload is read into memory up to this size; the reporting app refuses larger workbooks itself.
UPLOAD_MAX_BYTES = _env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = _env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if EMBEDDED
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = _env("EMAIL_HOST", "localhost")
EMAIL_PORT = _env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = _env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = _env("DEFAULT_FROM_EMAIL", "小微企业专项行动门户 <noreply@portal.invalid>")

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "institutions.authentication.TokenAuthentication",  # DRF's, bound to its record
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "portal.api.Pagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "小微企业专项行动门户 API",
    "DESCRIPTION": "银行与人民银行分支机构的系统通过 /api/v1/ 完成与浏览器相同的全部操作。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its Swagger UI describe every endpoint: for signed-in users (session or token) only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI is served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security -------------------------------------------------------------------------------
# Secure by default: with DEBUG off, cookies are Secure, HTTP is redirected to HTTPS and HSTS is sent, so that
# SECRET_KEY, ALLOWED_HOSTS and DEBUG=0 alone pass `manage.py check --deploy --fail-level WARNING`
# (tests/portal/test_security.py). PLAIN_HTTP=1 says, explicitly, that the site is served over plain HTTP (a local
# `docker compose up` on http://localhost:8000); each setting can still be given on its own.
PLAIN_HTTP = _env_bool("PLAIN_HTTP", False)
_TLS = not DEBUG and not PLAIN_HTTP
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", _TLS)
CSRF_COOKIE_SECURE = _env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", _TLS)
# The load balancer's and the container's health checks ask over plain HTTP, from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = _env_int("SECURE_HSTS_SECONDS", 31536000 if _TLS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = _env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
if _env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # only a document's own preview may be framed (reporting.views.document_download)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy on every HTML page (portal/middleware.py). CSP_REPORT_ONLY=1 sends it as
# Content-Security-Policy-Report-Only: browsers then log violations without blocking anything.
CSP_REPORT_ONLY = _env_bool("CSP_REPORT_ONLY", False)
# Sessions end after SESSION_IDLE_MINUTES without a request; pages warn two minutes before.
SESSION_COOKIE_AGE = _env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _env("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False}},
}

CELERY_BEAT_SCHEDULE = {
    # Tasks the broker could not take when a state change queued them (Redis down) are sent when it is back.
    "outbox": {"task": "outbox.deliver_pending", "schedule": 30.0, "options": {"expires": 25}},
    # The audit log's hash chain grows over what was written since (audit/chain.py, manage.py verify_audit).
    "audit-seal": {"task": "audit.seal", "schedule": 60.0, "options": {"expires": 55}},
    # Jobs whose worker died (heartbeat stopped) are sent again (portal/jobs.py).
    "requeue-stalled-imports": {
        "task": "reporting.requeue_stalled",
        "schedule": float(JOB_REQUEUE_SECONDS),
        "options": {"expires": JOB_REQUEUE_SECONDS},
    },
    "requeue-stalled-report-jobs": {
        "task": "evaluation.requeue_stalled",
        "schedule": float(JOB_REQUEUE_SECONDS),
        "options": {"expires": JOB_REQUEUE_SECONDS},
    },
    # Stored indicators that miss an approval (a refresh that failed, values not computed yet) are refreshed:
    # the dashboard's GET only reads (indicators/tasks.py: check_fresh).
    "indicators-fresh": {"task": "indicators.check_fresh", "schedule": 60.0, "options": {"expires": 55}},
    "open-periods": {"task": "reporting.open_periods", "schedule": crontab(hour=0, minute=5)},
    # 附件4 is due on the 15th: a reminder 3 days before to those who have not submitted, a notice the day after.
    "monitoring-reminders": {
        "task": "reporting.send_reminders",
        "schedule": crontab(hour=8, minute=30),
        "options": {"expires": 3600},
    },
}

# python-docx (the bulletin's Word file) brings lxml, with which openpyxl would switch to another XML writer
# (a CR in a cell written as &#13;, where the standard library's writer keeps the character): the Excel
# exports stay byte-for-byte what tests/portal/test_export_injection.py checks. Read when openpyxl is first imported.
os.environ.setdefault("OPENPYXL_LXML", "False")

# Where the portal is reached, for the links in e-mails sent without a request (reminders, 催报).
PORTAL_URL = (_env("PORTAL_URL") or "http://127.0.0.1:8000").rstrip("/")


# --- The embedded default's background worker ---------------------------------------------------------------
# `make run` starts a Celery worker (with its beat) beside runserver, so that long jobs — a bulk import, the
# report cards' ZIP, bulk approval — run in the background there too and the daily reminders fire. With no
# Redis, the broker's messages are files under EMBEDDED_WORKER_DIR/celery and the cache, which both processes
# must share (the dashboard's renewal, login throttling), is a directory beside them.
EMBEDDED_WORKER = _env_bool("EMBEDDED_WORKER", False) and CELERY_BROKER_URL is None
if EMBEDDED_WORKER:
    _WORK_DIR = Path(_env("EMBEDDED_WORKER_DIR") or BASE_DIR / "var")
    for _sub in ("celery/queue", "celery/processed", "celery/control", "cache"):
        (_WORK_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_WORK_DIR / "celery/queue"),
        "data_folder_out": str(_WORK_DIR / "celery/queue"),
        "processed_folder": str(_WORK_DIR / "celery/processed"),
        "control_folder": str(_WORK_DIR / "celery/control"),  # exchange files, not in the current directory
        "store_processed": False,
    }
    CELERY_TASK_ALWAYS_EAGER = False
    CELERY_RESULT_BACKEND = None
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(_WORK_DIR / "cache"),
        }
    }
