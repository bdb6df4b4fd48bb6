"""Fixtures of the tests that read a built catalog cache (the catalog's and the shop's).

The cache tests use a Redis database of their own (allocated by ``redis_dbs``), so they neither
see nor disturb what other test modules (workers, tasks) write into the session's shared
database. ``built_cache`` builds every market of the default sandbox there once per session
with the real rebuild service; ``cache`` points this process at it for one test;
``scratch_redis`` is the test module's own database, emptied around each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import requests
from django.conf import settings as django_settings

from catalog.rebuild import RebuildResult, market_ids, rebuild_market
from storefront import localcache
from storefront.centra import get_client
from tests.conftest import RedisDatabases, SandboxProcess

API_KEY = "test-storefront-api-key"


@dataclass
class BuiltCache:
    url: str
    markets: list[str]
    results: list[RebuildResult]

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


@pytest.fixture(scope="session")
def built_cache(
    redis_dbs: RedisDatabases, sandbox: SandboxProcess, services: None
) -> Iterator[BuiltCache]:
    url = redis_dbs.allocate()
    r = redis.Redis.from_url(url)
    previous = django_settings.REDIS_URL
    django_settings.REDIS_URL = url
    try:
        client = get_client()
        markets = market_ids(client=client, r=r)
        results = [rebuild_market(market=m, client=client, r=r) for m in markets]
    finally:
        django_settings.REDIS_URL = previous
        localcache.clear_all()
    return BuiltCache(url=url, markets=markets, results=results)


@pytest.fixture
def cache(built_cache: BuiltCache, settings: Any) -> Iterator[BuiltCache]:
    """This process reads the built cache; trusted callers use ``API_KEY``."""
    settings.REDIS_URL = built_cache.url
    settings.STOREFRONT_API_KEYS = [API_KEY]
    localcache.clear_all()
    yield built_cache
    localcache.clear_all()


@pytest.fixture
def scratch_redis(redis_db_url: str, settings: Any, services: None) -> Iterator[redis.Redis]:
    """The test module's own Redis database, empty, made the BFF's for one test."""
    url = redis_db_url
    r = redis.Redis.from_url(url)
    r.flushdb()
    settings.REDIS_URL = url
    settings.STOREFRONT_API_KEYS = [API_KEY]
    localcache.clear_all()
    yield r
    r.flushdb()
    localcache.clear_all()


def trusted() -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {API_KEY}"}


def sandbox_call(
    sandbox: SandboxProcess, method: str, path: str, body: dict[str, Any] | None = None
) -> requests.Response:
    """The sandbox answering server-side (shared secret), as the BFF's trusted callers do."""
    s = sandbox.server_session()
    url = sandbox.api + path
    if method == "GET":
        return s.get(url, params=body, timeout=30)
    return s.request(method, url, json=body if body is not None else {}, timeout=30)


def memberships(product: dict[str, Any]) -> list[dict[str, Any]]:
    """A product's categories as Centra lists them: today's array, or the seeds' object keyed
    by id (read here on its own, not with the cache's reader under test)."""
    categories = product["categories"]
    return list(categories.values()) if isinstance(categories, dict) else list(categories)
