"""Login throttling: after LOGIN_FAILURE_LIMIT failures for one username or one address within the window,
further attempts are refused until the window passes. Counters live in the cache (Redis in production)."""

from django.conf import settings
from django.core.cache import cache


def keys(username: str, ip: str | None) -> list[str]:
    out = [f"login-fail:user:{username.strip().lower()}"]
    if ip:
        out.append(f"login-fail:ip:{ip}")
    return out


def is_blocked(username: str, ip: str | None) -> bool:
    # An address gets more room than a username: several people may share an office NAT.
    limits = [settings.LOGIN_FAILURE_LIMIT, settings.LOGIN_FAILURE_LIMIT * 4]
    return any((cache.get(key) or 0) >= limit for key, limit in zip(keys(username, ip), limits, strict=False))


def record_failure(username: str, ip: str | None) -> None:
    for key in keys(username, ip):
        if not cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def reset(username: str) -> None:
    cache.delete(keys(username, None)[0])
