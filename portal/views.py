"""Site-wide pages: the role-aware home page, /healthz, and the error pages."""

import sys

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from institutions.models import Role
from portal.celery import app
from reporting import selectors


@login_required
@require_safe
def home(request):
    user = request.user
    if user.role in {Role.BANK_FILER, Role.BANK_SIGNER}:
        context = {"obligations": selectors.obligations_for_institution(user.institution)}
        return render(request, "home/bank.html", context)
    if user.role == Role.PBOC_OFFICER:
        return render(request, "home/officer.html", {"overview": selectors.jurisdiction_overview(user)})
    return render(request, "home/admin.html", {"overview": selectors.jurisdiction_overview(user)})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_broker() -> tuple[str, str]:
    """(broker, worker) reachability. On the embedded default tasks run in-process."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process", "in-process"
    if settings.EMBEDDED_WORKER:  # the file broker of `make run` has no broadcast: no worker to ping
        return "files", "embedded"

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    replies = app.control.ping(timeout=1.0, limit=1)
    return "ok", ("ok" if replies else "unreachable")


@never_cache
@require_safe
def healthz(request):
    report, healthy = {}, True
    try:
        report["database"] = _check_database()
    except Exception as exc:  # the point of a health check is to report any failure
        report["database"], healthy = f"error: {exc.__class__.__name__}", False
    try:
        report["broker"], report["worker"] = _check_broker()
    except Exception as exc:
        report["broker"], report["worker"], healthy = f"error: {exc.__class__.__name__}", "unknown", False
    if report.get("worker") == "unreachable":
        healthy = False
    report["status"] = "ok" if healthy else "degraded"
    return JsonResponse(report, status=200 if healthy else 503)


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    body = {"error": {"code": code, "message": message, "details": None}}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):  # API clients get the API's error shape, not an HTML page
        return _api_error(404, "not_found", "未找到该对象，或您无权查看。")
    return render(request, "errors/404.html", status=404)


def _database_unavailable() -> bool:
    """The exception being handled (handler500 runs inside Django's except block) is the database being out
    of reach: the server is fine, the request can be retried — 503, not 500."""

    return isinstance(sys.exc_info()[1], OperationalError | InterfaceError)


def server_error(request):
    # Nothing says whether the step had committed before the failure; the page does not claim either way.
    status = 503 if _database_unavailable() else 500
    if request.path.startswith("/api/"):  # API clients get the API's error shape, not an HTML page
        if status == 503:
            return _api_error(503, "service_unavailable", "数据库暂时无法访问，请稍后重试。")
        return _api_error(500, "server_error", "系统暂时无法处理您的请求，请稍后重试。")
    return render(request, "errors/500.html", {"unavailable": status == 503}, status=status)


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", {"message": str(exception or "")}, status=403)


def bad_request(request, exception=None):
    if request.path.startswith("/api/"):  # e.g. too many form fields, refused before any view runs
        return _api_error(400, "bad_request", "请求无法处理：参数过多或格式有误，请检查后重试。")
    return render(request, "errors/400.html", status=400)
