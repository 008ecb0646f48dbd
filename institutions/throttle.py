"""Login throttling, counted in the cache (Redis in production) over LOGIN_FAILURE_WINDOW_SECONDS.

What locks is the account being guessed, never the address alone: behind the TLS proxy SECURITY.md
recommends, a whole office (or, without TRUSTED_PROXIES, every user) shares one address, and an address-wide
lock would let one anonymous client keep them all out.

- username + address: LOGIN_FAILURE_LIMIT failures lock that username from that address;
- username: LOGIN_FAILURE_LIMIT × 4 failures from anywhere lock the username (guessing spread over many
  addresses);
- address: past LOGIN_FAILURE_LIMIT × 4 failures an address is *busy*. A busy address only stops costing us
  password hashes for usernames that are no account, and every failed attempt from it gets the same
  "too many attempts" answer (so that the answer does not tell which usernames exist). The correct password
  of an account that is not itself locked still signs in.
"""

from django.conf import settings
from django.core.cache import cache


def _name(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _keys(username: str, ip: str | None) -> dict[str, str]:
    name = _name(username)
    keys = {"user": f"login-fail:user:{name}"}
    if ip:
        keys["user_ip"] = f"login-fail:user-ip:{name}:{ip}"
        keys["ip"] = f"login-fail:ip:{ip}"
    return keys


def keys(username: str, ip: str | None) -> list[str]:
    """Every counter an attempt for `username` from `ip` touches (tests clear them)."""
    return list(_keys(username, ip).values())


def _limits() -> dict[str, int]:
    limit = settings.LOGIN_FAILURE_LIMIT
    return {"user_ip": limit, "user": limit * 4, "ip": limit * 4}


def _count(key: str) -> int:
    return cache.get(key) or 0


def is_locked(username: str, ip: str | None) -> bool:
    """The username is locked (from this address, or from everywhere): refuse even a correct password."""
    keys, limits = _keys(username, ip), _limits()
    return any(_count(keys[kind]) >= limits[kind] for kind in ("user", "user_ip") if kind in keys)


def address_is_busy(ip: str | None) -> bool:
    return bool(ip) and _count(_keys("", ip)["ip"]) >= _limits()["ip"]


def is_blocked(username: str, ip: str | None) -> bool:
    """For one-step checks (second-factor codes keyed by user): locked, as above."""
    return is_locked(username, ip)


def record_failure(username: str, ip: str | None) -> dict[str, bool]:
    """Count a failure; says which limits this very failure reached ({"locked": …, "busy": …}), so that the
    caller audits a lock-out once, when it begins."""
    keys, limits, reached = _keys(username, ip), _limits(), {}
    for kind, key in keys.items():
        if cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS)
                count = 1
        reached[kind] = count == limits[kind]
    return {
        "locked": reached.get("user", False) or reached.get("user_ip", False),
        "busy": reached.get("ip", False),
    }


def reset(username: str, ip: str | None = None) -> None:
    """A successful sign-in clears the username's counters (not the address's: others may be guessing)."""
    keys = _keys(username, ip)
    cache.delete_many([keys[kind] for kind in ("user", "user_ip") if kind in keys])
