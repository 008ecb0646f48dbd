"""The refusals services raise, for every app, and the one way each reaches the user.

A service refuses with `ServiceError` (or `Forbidden`, `Conflict`): a Chinese message that says what to do,
a machine-readable `code`, and `details` (the findings of a refused sheet, the problems of a draft that
cannot be computed). The API answers it in its one error shape (`portal.api.exception_handler`); an HTML
view usually catches it and shows it on the page it shows next (`show_refusal`), and one it does not catch
becomes a page of its own (`ServiceErrorMiddleware`) — never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render


class ServiceError(Exception):
    """A refusal the user can act on; `message` is Chinese and says what to do."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: list | None = None):
        super().__init__(message)
        self.message = message
        self.details = list(details or [])
        if code:
            self.code = code

    def api_details(self) -> list | None:
        """`details` as the API shows them: findings as dicts, texts as they are; none is None."""
        shown = [d.as_dict() if hasattr(d, "as_dict") else d for d in self.details]
        return shown or None


class Forbidden(ServiceError):
    status = 403
    code = "permission_denied"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


def require(condition: bool, message: str) -> None:
    """Refuse with `Forbidden(message)` unless `condition` holds."""
    if not condition:
        raise Forbidden(message)


def show_refusal(request, exc: ServiceError) -> None:
    """A refusal on the page the view shows next: its message, then the findings it names (ten at most; text
    details are already in the message). A refusal of the role is the 403 page with the service's reason, as
    the API answers it."""
    if isinstance(exc, Forbidden):
        raise PermissionDenied(exc.message) from exc
    messages.error(request, exc.message)
    for detail in exc.details[:10]:
        if hasattr(detail, "location"):
            messages.error(request, f"{detail.location}：{detail.message}")


def body(exc: ServiceError) -> dict:
    """The API's error shape for a refusal."""
    return {"error": {"code": exc.code, "message": exc.message, "details": exc.api_details()}}


class ServiceErrorMiddleware:
    """A refusal no view caught: the API's error shape under /api/, else a page with the message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ServiceError):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                body(exception), status=exception.status, json_dumps_params={"ensure_ascii": False}
            )
        return render(request, "errors/refused.html", {"message": exception.message}, status=exception.status)
