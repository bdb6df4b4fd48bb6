"""``X-Cache`` through a long Centra stall (issue 13, item 12, the catalog's part).

While Centra is known to be unreachable, every catalog answer from the cache says ``STALE``,
not ``HIT``: from the first failed call (a readiness probe included, which is what
``/readyz`` reports), through the open breaker, its half-open probes and their failures, for
as long as the stall lasts; and ``HIT`` again once a call gets through. The other processes
learn it from Redis. The sandbox's stall switch holds every call until it is released.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis
from django.test import Client

from catalog import centra_state
from storefront import localcache
from storefront.circuit import CircuitBreaker
from tests.catalog.cache_fixtures import trusted
from tests.checkout.fixtures import call, shopper
from tests.conftest import SandboxProcess
from tests.reliability.centra_outage import CONTEXT, post
from tests.shop_client import ShopClient
from tests.support import wait_for

STALL_SECONDS = 6.0  # several breaker periods (reset 1 s, read timeout 0.5 s)


def catalog_reads(client: Client) -> list[Callable[[], Any]]:
    pid = post(client, "products", {**CONTEXT, "limit": 1}).json()["products"][0]["product"]
    return [
        lambda: post(client, "products", {**CONTEXT, "limit": 5}),
        lambda: client.get(f"/api/checkout/products/{pid}", CONTEXT, **trusted()),
        lambda: post(client, "categories", CONTEXT),
        lambda: client.get("/api/checkout/countries"),
    ]


def test_catalog_answers_say_stale_for_as_long_as_centra_is_known_unreachable(
    outage_bff: CircuitBreaker,
    faulty: SandboxProcess,
    faults: Callable[..., None],
    scratch_redis: redis.Redis,
) -> None:
    breaker = outage_bff
    breaker.reset = 1.0
    client = ShopClient()
    reads = catalog_reads(client)
    assert {read()["X-Cache"] for read in reads} == {"HIT"}
    browser = shopper()
    # When Centra stalls and the readiness probe finds out (the breaker is still closed)
    faults(stall=True)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert breaker.status().state == "closed"
    # Then the catalog's answers say STALE at once
    assert {read()["X-Cache"] for read in reads} == {"STALE"}
    # and through the whole stall: the breaker opening, its probes failing, open again
    states: set[str] = set()
    seen: set[str] = set()
    started = time.monotonic()
    n = 0
    # at least STALL_SECONDS, and until a half-open probe was seen too (it lasts one read
    # timeout, so a sample can miss it on a busy machine; 30 s is plenty of probes)
    while time.monotonic() - started < STALL_SECONDS or (
        not {"open", "half-open"} <= states and time.monotonic() - started < 30
    ):
        if n % 5 == 0:
            call(browser, "GET", "selection")  # checkout keeps trying Centra
        states.add(breaker.status().state)
        resp = reads[n % len(reads)]()
        assert resp.status_code == 200
        seen.add(resp["X-Cache"])
        n += 1
    assert seen == {"STALE"}
    assert {"open", "half-open"} <= states
    # and the other processes know it: the breaker's opening is recorded in Redis
    localcache.clear_all()
    assert centra_state.upstream_down(r=scratch_redis)
    # When Centra answers again, the next call gets through and the answers say HIT
    faults(stall=False)
    wait_for(
        lambda: call(browser, "GET", "selection").status_code == 200, what="checkout to recover"
    )
    assert breaker.status().state == "closed"
    localcache.clear_all()
    assert not centra_state.upstream_down(r=scratch_redis)
    assert {read()["X-Cache"] for read in reads} == {"HIT"}
