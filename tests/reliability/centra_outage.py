"""A sandbox of these tests' own whose faults they switch, and the BFF pointed at it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.test import Client

from catalog.rebuild import rebuild_market
from storefront import embedded, health
from storefront.centra import CentraClient, get_client
from storefront.circuit import CircuitBreaker
from tests.catalog.cache_fixtures import trusted
from tests.checkout.fixtures import FRONTEND
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.support import NO_FAULTS


@pytest.fixture(scope="module")
def faulty(own_servers: None) -> Iterator[SandboxProcess]:
    info, proc = start_sandbox_process(["--products", "80", "--languages", "2"])
    yield info
    info.control("PUT", "faults", json=NO_FAULTS)
    embedded.stop(proc)  # type: ignore[arg-type]


@pytest.fixture
def faults(faulty: SandboxProcess) -> Iterator[Callable[..., None]]:
    def put(**body: Any) -> None:
        faulty.control("PUT", "faults", json=body).raise_for_status()

    yield put
    put(**NO_FAULTS)


@pytest.fixture
def outage_bff(
    scratch_redis: redis.Redis,
    faulty: SandboxProcess,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[CircuitBreaker]:
    """This process's BFF on the faulty sandbox, market 1 built, short timeouts, a breaker
    that stays open for the test unless told otherwise."""
    monkeypatch.setattr("catalog.jobs.request_rebuild", lambda *, market, reason: None)
    settings.CENTRA_API_URL = faulty.api
    settings.CENTRA_SHARED_SECRET = faulty.secret
    settings.CENTRA_CONNECT_TIMEOUT = 0.5
    settings.CENTRA_READ_TIMEOUT = 0.5
    settings.CENTRA_BREAKER_FAILURES = THRESHOLD
    settings.CENTRA_BREAKER_RESET_SECONDS = 600
    settings.FRONTEND_ORIGINS = [FRONTEND]
    settings.RATE_LIMIT_PROXY = ""
    settings.RATE_LIMIT_AUTH = ""
    rebuild_market(market="1", client=CentraClient(faulty.api, faulty.secret), r=scratch_redis)
    breaker = get_client().breaker
    breaker.force_close()
    health._centra_state.update(at=0.0, error=None)
    yield breaker
    breaker.force_close()
    health._centra_state.update(at=0.0, error=None)


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(
        f"/api/checkout/{path}", json.dumps(body), content_type="application/json", **trusted()
    )


CONTEXT = {"market": "1", "pricelist": "2", "language": "sv"}


THRESHOLD = 3
