"""The officer dashboard's body, rendered once per jurisdiction and kept in the cache (Redis in production).

The body (templates/indicators/_dashboard_body.html) depends only on stored data and on the jurisdiction,
never on the user, so everyone of one office shares it. It is keyed by

- a generation token, replaced whenever something the body shows may have changed — a refresh run (the
  stored values), a target, a supervision record, an institution, a PBoC office (signals in apps.py) —
  after the change commits, so a request that read the old state stores under the old token;
- the jurisdiction (institutions.access.jurisdiction_key), month, ranked indicator, language and the day.

The filing rates and the freshness check (approved filings against the last refresh) are kept under a
second generation, FILINGS, which every filing and period change renews (signals; bulk writers call
renew_filings_on_commit themselves): they move with each submission, the body does not. The freshness
banner and the user's own buttons are rendered on every request.

Entries also expire after TTL, a bound on any staleness a missed path could cause. Live figures (含未审核)
are never cached. When the cache is unreachable the body is computed as if nothing were cached.

Single flight: just after a refresh every client misses at once. Only one computes (it holds a short lock
in the cache); the others get the previous body at once, passed through the caller's `stale` marking (the
dashboard says it is being updated), or — when there is none — wait up to WAIT seconds for the new one.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

GENERATION = "indicators:dashboard:generation"
FILINGS = "indicators:dashboard:filings"  # the filing rates' and the freshness check's own generation
TTL = 600
FILINGS_TTL = 120
LAST_TTL = 3600  # the previous body, served while the new one is computed
LOCK_TTL = 30  # a computation that died leaves its lock for this long at most
WAIT = 5.0


def _generation(name: str = GENERATION) -> str | None:
    token = cache.get(name)
    if token is None:
        cache.add(name, uuid.uuid4().hex, None)
        token = cache.get(name)
    return token


def renew(name: str = GENERATION) -> None:
    """Every cached body (or, with FILINGS, every cached filing figure) is out of date from now on."""
    try:
        cache.set(name, uuid.uuid4().hex, None)
    except Exception as exc:  # the cache being down leaves nothing cached to go stale
        log.warning("dashboard cache: %s not renewed (%s)", name, exc)


def renew_on_commit(*_args, **_kwargs) -> None:
    """For signals and writers: renew once the current transaction commits (at once outside one)."""
    transaction.on_commit(renew)


def renew_filings_on_commit(*_args, **_kwargs) -> None:
    transaction.on_commit(lambda: renew(FILINGS))


def remember(parts: tuple, compute, *, filings: bool = False, stale=None):
    """compute() once per generation and `parts` (every part of what it depends on besides the generations);
    with filings=True also per filings generation, for figures that move with each submission or approval.
    While another process computes it, `stale(previous)` is served when given and a previous value exists.
    Computed directly when the cache is unreachable."""
    try:
        generations = [_generation()] + ([_generation(FILINGS)] if filings else [])
    except Exception as exc:
        log.warning("dashboard cache unreachable (%s)", exc)
        return compute()
    parts_key = ":".join(str(p) for p in parts)
    cache_key = "indicators:dashboard:" + ":".join(str(p) for p in generations) + ":" + parts_key
    try:
        value = cache.get(cache_key)
        if value is not None:
            return value
        computing = not cache.add(cache_key + ":lock", 1, LOCK_TTL)
    except Exception as exc:
        log.warning("dashboard cache unreachable (%s)", exc)
        return compute()
    last_key = "indicators:dashboard:last:" + parts_key
    if computing:
        value = _while_computed(cache_key, last_key, stale)
        if value is not None:
            return value
    try:
        value = compute()
        try:
            cache.set(cache_key, value, FILINGS_TTL if filings else TTL)
            if stale is not None:
                cache.set(last_key, value, LAST_TTL)
        except Exception as exc:
            log.warning("dashboard cache: value not stored (%s)", exc)
        return value
    finally:
        if not computing:
            try:
                cache.delete(cache_key + ":lock")
            except Exception as exc:
                log.warning("dashboard cache: lock not released (%s)", exc)


def _while_computed(cache_key: str, last_key: str, stale):
    """What a client gets while another computes the value: the previous one marked stale, else the new one
    once it is there (None after WAIT seconds: the caller computes it itself)."""
    try:
        if stale is not None:
            previous = cache.get(last_key)
            if previous is not None:
                return stale(previous)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            time.sleep(0.05)
            value = cache.get(cache_key)
            if value is not None:
                return value
    except Exception as exc:
        log.warning("dashboard cache unreachable (%s)", exc)
    return None
