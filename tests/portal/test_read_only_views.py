"""Pages that only read answer GET and HEAD alone (require_safe): every page route of the URL resolver that is
not in WRITES is called with POST, PUT, PATCH and DELETE by a signed-in user and must answer 405 before its
body runs (dummy ids: a view that got past the method check would 404 or fail instead)."""

import pytest
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from institutions.models import Role, User

# Page routes that take a POST: forms, actions, and Django's own views.
WRITES = {
    "login",
    "logout",
    "login_2fa",
    "api_token",
    "api_tokens",
    "two_factor",
    "user_passwords",
    "password_change",
    "password_change_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "reporting:sheet",
    "reporting:upload",
    "reporting:submit",
    "reporting:approve",
    "reporting:return",
    "reporting:reopen",
    "reporting:bulk_approve",
    "reporting:bulk_import",
    "reporting:job_confirm",
    "reporting:job_preview_again",
    "reporting:urge",
    "indicators:campaign",
    "reporting:document",
    "indicators:refresh",
    "indicators:supervision",
    "indicators:follow_up",
    "indicators:bulletin_generate",
    "indicators:bulletin_save",
    "indicators:bulletin_publish",
    "indicators:bulletin_supervise",
    "evaluation:create",
    "evaluation:scheme",
    "evaluation:fetch",
    "evaluation:publish",
    "evaluation:copy",
    "evaluation:discard",
    "evaluation:evidence",
    "evaluation:cards",
    "evaluation:score",
    "evaluation:override",
}
OUTSIDE = ("admin:", "schema", "api-docs")  # Django's admin and drf-spectacular's views


def page_routes(patterns=None, namespace=None):
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern).startswith("api/") or p.namespace == "admin":
                continue
            inner = ":".join(x for x in (namespace, p.namespace) if x) or None
            yield from page_routes(p.url_patterns, inner)
        elif isinstance(p, URLPattern) and p.name:
            name = f"{namespace}:{p.name}" if namespace else p.name
            if not name.startswith(OUTSIDE):
                yield name, p


def dummy_kwargs(pattern: URLPattern) -> dict:
    converters = getattr(pattern.pattern, "converters", {})
    return {key: 999_999 if type(c).__name__ == "IntConverter" else "x" for key, c in converters.items()}


READ_ONLY = sorted((name, p) for name, p in page_routes() if name not in WRITES)


def test_the_read_only_pages_are_found():
    names = {name for name, _ in READ_ONLY}
    assert (
        len(names) >= 25 and {"home", "audit:export", "reporting:contacts_export", "evaluation:card"} <= names
    )


@pytest.mark.parametrize(("name", "pattern"), READ_ONLY, ids=[name for name, _ in READ_ONLY])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_read_only_page_refuses_other_methods(db, name, pattern, method):
    request = getattr(RequestFactory(), method)("/")
    request.user = User(username="reader", role=Role.PBOC_ADMIN)
    request.session = {}
    try:
        status = pattern.callback(request, **dummy_kwargs(pattern)).status_code
    except Exception as exc:  # the view's body ran: the method was not refused
        status = type(exc).__name__
    assert status == 405, f"{name} answered {method.upper()} with {status}"


@pytest.mark.parametrize(("name", "pattern"), READ_ONLY[:3], ids=[name for name, _ in READ_ONLY[:3]])
def test_head_is_still_answered(name, pattern):
    request = RequestFactory().head("/")
    request.user = User(username="reader", role=Role.PBOC_ADMIN)
    try:
        status = pattern.callback(request, **dummy_kwargs(pattern)).status_code
    except Exception as exc:
        status = type(exc).__name__
    assert status != 405
