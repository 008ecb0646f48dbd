"""The officer dashboard's body, rendered once per jurisdiction and kept in the cache (Redis in production).

The body (templates/indicators/_dashboard_body.html) depends only on stored data and on the jurisdiction,
never on the user, so everyone of one office shares it. It is keyed by

- a generation token, replaced whenever something the body shows may have changed — a refresh run (the
  stored values), a target, a supervision record, an institution, a PBoC office (signals in apps.py) —
  after the change commits, so a request that read the old state stores under the old token;
- the jurisdiction (institutions.access.jurisdiction_key), month, ranked indicator, language and the day.

The filing rates move with every submission and are not part of the body: the view computes them on each
request (one aggregate), like the freshness banner and the user's own buttons.

Entries also expire after TTL, a bound on any staleness a missed path could cause. Live figures (含未审核)
are never cached. When the cache is unreachable the body is computed as if nothing were cached.
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from institutions import access

log = logging.getLogger(__name__)

GENERATION = "indicators:dashboard:generation"
TTL = 600


def _generation() -> str | None:
    token = cache.get(GENERATION)
    if token is None:
        cache.add(GENERATION, uuid.uuid4().hex, None)
        token = cache.get(GENERATION)
    return token


def renew() -> None:
    """Every cached body is out of date from now on."""
    try:
        cache.set(GENERATION, uuid.uuid4().hex, None)
    except Exception as exc:  # the cache being down leaves nothing cached to go stale
        log.warning("dashboard cache: generation not renewed (%s)", exc)


def renew_on_commit(*_args, **_kwargs) -> None:
    """For signals and writers: renew once the current transaction commits (at once outside one)."""
    transaction.on_commit(renew)


def key(user, head: dict, language: str) -> str | None:
    """The cache key of the body `head` (selectors.dashboard_head) asks for, or None when it is not cached."""
    jurisdiction = access.jurisdiction_key(user)
    if head["empty"] or head["live"] or jurisdiction is None:
        return None
    try:
        generation = _generation()
    except Exception as exc:
        log.warning("dashboard cache unreachable (%s)", exc)
        return None
    day = timezone.localdate().isoformat()
    return (
        f"indicators:dashboard:{generation}:{jurisdiction}:{head['year']}-{head['month']:02d}:"
        f"{head['rank_code']}:{language}:{day}"
    )


def get(cache_key: str | None) -> str | None:
    if cache_key is None:
        return None
    try:
        return cache.get(cache_key)
    except Exception as exc:
        log.warning("dashboard cache unreachable (%s)", exc)
        return None


def put(cache_key: str | None, html: str) -> None:
    if cache_key is None:
        return
    try:
        cache.set(cache_key, html, TTL)
    except Exception as exc:
        log.warning("dashboard cache: body not stored (%s)", exc)
