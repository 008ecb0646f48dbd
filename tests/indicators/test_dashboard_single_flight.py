"""The dashboard's body computed once right after a refresh, not by every client at once
(indicators/dashcache.py): while one computes, the others get the previous body marked stale, or wait for
the new one; a computation that fails releases its lock."""

import pytest
from django.core.cache import cache

from indicators import dashcache


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


def computed(log: list, value: str):
    def compute():
        log.append(value)
        return value

    return compute


def key(parts) -> str:
    return "indicators:dashboard:" + dashcache._generation() + ":" + ":".join(parts)


def test_while_one_computes_the_others_get_the_previous_body_marked_stale():
    calls: list = []
    parts = ("body", "WH", "2022-12")
    assert dashcache.remember(parts, computed(calls, "v1"), stale=lambda b: "STALE " + b) == "v1"
    dashcache.renew()  # a refresh: the next request misses
    cache.add(key(parts) + ":lock", 1, 30)  # …and another process is computing the new body
    assert dashcache.remember(parts, computed(calls, "v2"), stale=lambda b: "STALE " + b) == "STALE v1"
    assert calls == ["v1"]  # it did not compute the body a second time


def test_without_a_previous_body_a_client_waits_for_the_one_being_computed(monkeypatch):
    calls: list = []
    parts = ("body", "WH", "2022-11")
    cache.add(key(parts) + ":lock", 1, 30)

    def arrives(_seconds):  # the computing process stores its value while this one waits
        cache.set(key(parts), "fresh", 60)

    monkeypatch.setattr(dashcache.time, "sleep", arrives)
    assert dashcache.remember(parts, computed(calls, "mine"), stale=lambda b: "STALE " + b) == "fresh"
    assert calls == []


def test_a_client_computes_itself_when_the_other_takes_too_long(monkeypatch):
    calls: list = []
    parts = ("body", "WH", "2022-10")
    cache.add(key(parts) + ":lock", 1, 30)
    monkeypatch.setattr(dashcache, "WAIT", 0.1)
    assert dashcache.remember(parts, computed(calls, "mine")) == "mine"
    assert calls == ["mine"]


def test_a_failed_computation_releases_its_lock():
    parts = ("body", "WH", "2022-09")

    def fails():
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        dashcache.remember(parts, fails)
    assert cache.get(key(parts) + ":lock") is None
    assert dashcache.remember(parts, lambda: "v") == "v"
