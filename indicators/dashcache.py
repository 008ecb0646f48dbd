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
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

GENERATION = "indicators:dashboard:generation"
FILINGS = "indicators:dashboard:filings"  # the filing rates' and the freshness check's own generation
TTL = 600
FILINGS_TTL = 120


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


def remember(parts: tuple, compute, *, filings: bool = False):
    """compute() once per generation and `parts` (every part of what it depends on besides the generations);
    with filings=True also per filings generation, for figures that move with each submission or approval.
    Computed directly when the cache is unreachable."""
    try:
        generations = [_generation()] + ([_generation(FILINGS)] if filings else [])
    except Exception as exc:
        log.warning("dashboard cache unreachable (%s)", exc)
        return compute()
    cache_key = "indicators:dashboard:" + ":".join(str(p) for p in (*generations, *parts))
    try:
        value = cache.get(cache_key)
    except Exception as exc:
        log.warning("dashboard cache unreachable (%s)", exc)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(cache_key, value, FILINGS_TTL if filings else TTL)
        except Exception as exc:
            log.warning("dashboard cache: value not stored (%s)", exc)
    return value
