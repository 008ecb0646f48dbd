"""Who asks from where: the client's address, read once per request and carried to the audit log.

`AuditContextMiddleware` sets the address of the request being served; `audit.services.row` reads it with
`current_ip()`, so services record it without every view passing it down. Outside a request (a Celery task,
a management command) there is none, and the audit entry's address stays empty — the actor says who.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

_client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def _trusted(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, unless that is a trusted proxy (settings.TRUSTED_PROXIES) — then the
    nearest address in X-Forwarded-For that is not one of ours (the left-most entries are the client's to
    write, so the chain is read from the right)."""
    remote = request.META.get("REMOTE_ADDR")
    if not _trusted(remote):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([part for part in forwarded if part]):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return remote  # a chain we cannot read names no client; the proxy is what we know
        if not _trusted(address):
            return address
    return remote


def current_ip() -> str | None:
    """The address of the request being served, or None outside one."""
    return _client_ip.get()


@contextmanager
def acting_from(ip: str | None) -> Iterator[None]:
    """Audit what runs inside as coming from `ip`."""
    token = _client_ip.set(ip)
    try:
        yield
    finally:
        _client_ip.reset(token)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting_from(client_ip(request)):
            return self.get_response(request)
