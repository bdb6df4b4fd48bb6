"""Centra slow or down, with the sandbox's fault injection on a sandbox of these tests' own.

The circuit breaker opens after repeated failures and then fails calls without a request
(shown by the sandbox's request log, not by timing), and closes again once Centra answers.
Through the whole outage the catalog answers every cached read from the live generation
(``X-Cache: STALE``), checkout calls fail closed with 503 and an ``errors`` object, and
``/readyz`` says why it is not ready.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from storefront import health
from storefront.centra import CentraClient, CentraUnavailable
from storefront.circuit import CircuitBreaker
from tests.catalog.cache_fixtures import trusted
from tests.checkout.fixtures import call, sandbox_log, sandbox_log_clear, shopper
from tests.conftest import SandboxProcess
from tests.reliability.centra_outage import CONTEXT, THRESHOLD, post
from tests.shop_client import ShopClient
from tests.support import NO_FAULTS, wait_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fault", [{"errorRate": 1}, {"stall": True}], ids=["5xx", "stall"])
def test_breaker_opens_fails_without_a_request_and_closes_when_centra_recovers(
    faulty: SandboxProcess, faults: Callable[..., None], fault: dict[str, Any]
) -> None:
    breaker = CircuitBreaker("faults-test", failures=THRESHOLD, reset=60)
    client = CentraClient(faulty.api, faulty.secret, connect_timeout=1, read_timeout=0.3)
    client.breaker = breaker
    assert "countries" in client.catalog("GET", "countries")
    sandbox_log_clear(faulty)
    # When Centra fails THRESHOLD times in a row
    faults(**fault)
    for _ in range(THRESHOLD):
        with pytest.raises(CentraUnavailable) as info:
            client.catalog("GET", "countries")
        assert info.value.reason != "circuit open"
    assert breaker.status().state == "open"
    # Then every further call fails at once, and none of them reaches the sandbox
    for _ in range(50):
        with pytest.raises(CentraUnavailable, match="circuit open"):
            client.catalog("GET", "countries")
    if fault.get("stall"):
        faults(**NO_FAULTS)  # a stalled request is logged when it ends
    logged = wait_for(lambda: len(sandbox_log(faulty)) >= THRESHOLD or None, what="the log")
    assert logged
    assert len(sandbox_log(faulty)) == THRESHOLD
    # When Centra answers again and the cool-down is over, one probe closes the breaker
    faults(**NO_FAULTS)
    breaker.reset = 0.1
    wait_for(lambda: breaker.status().state == "half-open", what="the cool-down")
    assert "countries" in client.catalog("GET", "countries")
    assert breaker.status().state == "closed"
    assert len(sandbox_log(faulty)) == THRESHOLD + 1


def cached_reads(client: Client) -> list[tuple[Callable[[], Any], dict[str, Any]]]:
    """A mix of catalog reads, each with its answer while Centra is up."""
    listing = post(client, "products", {**CONTEXT, "limit": 5}).json()["products"]
    reads: list[Callable[[], Any]] = [
        lambda: post(client, "products", {**CONTEXT, "limit": 20}),
        lambda: post(client, "products", {**CONTEXT, "search": "jeans", "limit": 10}),
        lambda: post(client, "products", {**CONTEXT, "limit": 3, "skipFirst": 6}),
        lambda: post(client, "categories", CONTEXT),
        lambda: post(client, "uri", {**CONTEXT, "uri": listing[0]["uri"], "for": ["product"]}),
        lambda: client.get("/api/checkout/countries"),
        lambda: client.get("/api/checkout/languages"),
    ]
    for p in listing[:3]:
        pid = p["product"]
        reads.append(
            lambda pid=pid: client.get(f"/api/checkout/products/{pid}", CONTEXT, **trusted())
        )
    answers = []
    for read in reads:
        resp = read()
        assert resp.status_code == 200, resp.content
        assert resp["X-Cache"] == "HIT"
        answers.append((read, resp.json()))
    return answers


def test_an_outage_serves_the_catalog_stale_fails_checkout_closed_and_is_reported(
    outage_bff: CircuitBreaker, faulty: SandboxProcess, faults: Callable[..., None]
) -> None:
    breaker = outage_bff
    client = ShopClient()
    reads = cached_reads(client)
    browser = shopper()
    assert call(browser, "GET", "selection").status_code == 200
    # When Centra stalls (every call to it times out)
    faults(stall=True)
    # Then a read of a market with no cache, and checkout calls, fail closed: a call that was
    # sent and timed out is 504 "timeout" (its outcome is unknown), with errors
    cold = post(client, "products", {"market": "3", "limit": 2})
    assert cold.status_code == 504
    assert cold.json() == {"errors": {"centra": "timeout"}}
    for _ in range(THRESHOLD - 1):  # the cold read was the first failure
        resp = call(browser, "GET", "selection")
        assert resp.status_code == 504
        assert resp.json() == {"errors": {"centra": "timeout"}}
    # and the breaker is open: what follows fails without a request
    assert breaker.status().state == "open"
    added = call(browser, "POST", "items/1-1")
    assert added.status_code == 503
    assert set(added.json()) == {"errors"}
    # The catalog answers every cached read from the live generation, and says STALE
    answered = 0
    for i in range(350):
        read, expected = reads[i % len(reads)]
        resp = read()
        assert resp.status_code == 200
        assert resp["X-Cache"] == "STALE"
        assert resp.json() == expected
        answered += 1
    assert answered == 350
    # Readiness says why it is not ready
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["errors"]["centra"].startswith("unreachable: circuit open")
    metrics = client.get("/metrics").content.decode()
    assert 'storefront_centra_breaker_state{breaker="centra"} 2.0' in metrics
    assert 'storefront_centra_breaker_rejected_total{breaker="centra"}' in metrics
    # Nothing but the calls that opened the breaker reached Centra (stalled calls are logged
    # when they end, so release the stall first)
    sandbox_log_clear(faulty)
    faults(stall=False)
    wait_for(lambda: len(sandbox_log(faulty)) >= THRESHOLD, what="the stalled calls")
    assert len(sandbox_log(faulty)) == THRESHOLD  # the cold read and the first checkouts
    # When Centra is back and the cool-down is over, the next call probes and closes it
    breaker.reset = 0.1
    wait_for(
        lambda: call(browser, "GET", "selection").status_code == 200, what="checkout to recover"
    )
    assert breaker.status().state == "closed"
    assert post(client, "products", {"market": "3", "limit": 2}).status_code == 200
    read, expected = reads[0]
    assert read()["X-Cache"] == "HIT"
    health._centra_state.update(at=0.0, error=None)
    assert client.get("/readyz").status_code == 200
