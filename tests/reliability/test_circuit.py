"""The circuit breaker on its own (a fake clock) and inside the Centra client."""

from __future__ import annotations

import socket
import threading

import pytest
from django.test import Client

from storefront.centra import (
    CentraClient,
    CentraRejected,
    CentraUnavailable,
    UnsafePathParameter,
    get_client,
)
from storefront.circuit import CircuitBreaker, CircuitOpen
from tests.conftest import SandboxProcess


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(
    clock: FakeClock, failures: int = 3, reset: float = 10, window: float = 30
) -> CircuitBreaker:
    return CircuitBreaker("test", failures=failures, reset=reset, window=window, clock=clock)


def fail(b: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        b.before_call()
        b.failure()


def test_opens_after_n_consecutive_failures_and_refuses_calls() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 2)
    assert b.status().state == "closed"
    fail(b, 1)
    assert b.status().state == "open"
    with pytest.raises(CircuitOpen) as info:
        b.before_call()
    assert info.value.retry_in == pytest.approx(10)


def test_a_success_clears_the_count() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 2)
    b.before_call()
    b.success()
    fail(b, 2)
    assert b.status().state == "closed"


def test_failures_spread_beyond_the_window_do_not_open_it() -> None:
    clock = FakeClock()
    b = breaker(clock, window=30)
    fail(b, 2)
    clock.now += 31
    fail(b, 2)
    assert b.status().state == "closed"
    fail(b, 1)
    assert b.status().state == "open"


def test_half_open_lets_exactly_one_probe_through_and_its_success_closes() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 3)
    clock.now += 10
    assert b.status().state == "half-open"
    b.before_call()  # the probe
    with pytest.raises(CircuitOpen):
        b.before_call()  # everyone else still fails fast
    b.success()
    assert b.status().state == "closed"
    b.before_call()
    b.success()


def test_a_failed_probe_opens_it_for_another_cool_down() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 3)
    clock.now += 10
    b.before_call()
    b.failure()
    assert b.status().state == "open"
    clock.now += 9
    with pytest.raises(CircuitOpen):
        b.before_call()
    clock.now += 1
    b.before_call()
    b.success()
    assert b.status().state == "closed"


def test_a_released_probe_lets_the_next_caller_probe() -> None:
    clock = FakeClock()
    b = breaker(clock)
    fail(b, 3)
    clock.now += 10
    b.before_call()
    b.release()
    b.before_call()
    b.success()
    assert b.status().state == "closed"


def test_threads_share_the_state_and_only_one_probes() -> None:
    clock = FakeClock()
    b = breaker(clock, failures=50)
    threads = [threading.Thread(target=fail, args=(b, 5)) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.status().state == "open"
    clock.now += 10
    admitted: list[int] = []
    barrier = threading.Barrier(16)

    def try_call(i: int) -> None:
        barrier.wait()
        try:
            b.before_call()
        except CircuitOpen:
            return
        admitted.append(i)

    callers = [threading.Thread(target=try_call, args=(i,)) for i in range(16)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert len(admitted) == 1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="failures must be at least 1"):
        CircuitBreaker("x", failures=0)


# -- inside the client ---------------------------------------------------------------------------


@pytest.fixture
def refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/checkout/"


def test_network_failures_open_the_clients_breaker(refused_url: str) -> None:
    client = CentraClient(refused_url, "s", breaker=CircuitBreaker("t", failures=3, reset=60))
    for _ in range(3):
        with pytest.raises(CentraUnavailable) as info:
            client.catalog("GET", "countries")
        assert info.value.reason != "circuit open"
    with pytest.raises(CentraUnavailable) as info:
        client.catalog("GET", "countries")
    assert info.value.reason == "circuit open"
    assert str(info.value) == "circuit open"


def test_4xx_answers_are_not_failures(sandbox: SandboxProcess) -> None:
    client = CentraClient(
        sandbox.api, "wrong-secret", breaker=CircuitBreaker("t", failures=2, reset=60)
    )
    for _ in range(5):
        with pytest.raises(CentraRejected):
            client.catalog("GET", "countries")
    assert client.breaker.status().state == "closed"


def test_refused_parameters_are_not_failures(sandbox: SandboxProcess) -> None:
    client = CentraClient(sandbox.api, sandbox.secret, breaker=CircuitBreaker("t", failures=1))
    with pytest.raises(UnsafePathParameter):
        client.catalog("GET", "products/..")
    assert client.breaker.status().state == "closed"
    assert "countries" in client.catalog("GET", "countries")


def test_the_process_client_takes_its_breaker_from_settings(settings, refused_url: str) -> None:  # type: ignore[no-untyped-def]
    settings.CENTRA_API_URL = refused_url
    settings.CENTRA_BREAKER_FAILURES = 2
    settings.CENTRA_BREAKER_RESET_SECONDS = 120
    b = get_client().breaker
    assert (b.threshold, b.reset) == (2, 120)
    for _ in range(2):
        with pytest.raises(CentraUnavailable):
            get_client().catalog("GET", "countries")
    # the state changes are in the metrics
    metrics = Client().get("/metrics").content.decode()
    assert 'storefront_centra_breaker_transitions_total{breaker="centra",state="open"}' in metrics
    assert "storefront_centra_breaker_state" in metrics
