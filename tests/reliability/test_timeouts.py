"""A call to Centra that was sent and timed out has an unknown outcome (issue 13, item 4).

The sandbox stalls (its fault switch) while a shopper adds an item through the proxy. The BFF
answers 504 ``{"errors": {"centra": "timeout"}}``, not "unavailable": once the stall ends the
sandbox applies the call, so the item IS in the bag, and a client that took the answer for a
failure and added again would have doubled the line. Nothing in the BFF repeats the call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from storefront import embedded
from storefront.centra import CentraClient, CentraTimeout, CentraUnavailable
from tests.checkout.fixtures import (
    FRONTEND,
    call,
    in_stock_items,
    sandbox_log,
    sandbox_log_clear,
    shopper,
)
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.support import NO_FAULTS, wait_for


@pytest.fixture(scope="module")
def stalling(own_servers: None) -> Iterator[SandboxProcess]:
    info, proc = start_sandbox_process(["--products", "60", "--languages", "1"])
    yield info
    info.control("PUT", "faults", json=NO_FAULTS)
    embedded.stop(proc)  # type: ignore[arg-type]


@pytest.fixture
def bff_on_stalling(settings: Any, stalling: SandboxProcess) -> Iterator[SandboxProcess]:
    settings.CENTRA_API_URL = stalling.api
    settings.CENTRA_SHARED_SECRET = stalling.secret
    settings.CENTRA_READ_TIMEOUT = 0.5
    settings.CENTRA_BREAKER_FAILURES = 100
    settings.FRONTEND_ORIGINS = [FRONTEND]
    settings.RATE_LIMIT_PROXY = ""
    yield stalling
    stalling.control("PUT", "faults", json=NO_FAULTS)


def test_a_read_timeout_is_a_timeout_and_a_refused_connection_is_not() -> None:
    closed = CentraClient(f"http://127.0.0.1:{embedded.free_port()}/", "x", read_timeout=0.3)
    with pytest.raises(CentraUnavailable) as refused:
        closed.catalog("GET", "countries")
    assert not isinstance(refused.value, CentraTimeout)


def test_an_add_that_timed_out_is_504_and_happened_all_the_same(
    bff_on_stalling: SandboxProcess,
) -> None:
    sandbox = bff_on_stalling
    browser = shopper()
    item = in_stock_items(sandbox, 1)[0]
    assert call(browser, "GET", "selection").status_code == 200
    sandbox_log_clear(sandbox)

    sandbox.control("PUT", "faults", json={"stall": True}).raise_for_status()
    added = call(browser, "POST", f"items/{item}")
    assert added.status_code == 504
    assert added.json() == {"errors": {"centra": "timeout"}}

    sandbox.control("PUT", "faults", json=NO_FAULTS).raise_for_status()
    wait_for(lambda: len(sandbox_log(sandbox)) >= 1, what="the stalled call to end")
    bag = call(browser, "GET", "selection").json()
    assert [(i["item"], i["quantity"]) for i in bag["selection"]["items"]] == [(item, 1)]
    # the BFF sent the add once and never on its own again
    adds = [e for e in sandbox_log(sandbox) if e["method"] == "POST"]
    assert len(adds) == 1
