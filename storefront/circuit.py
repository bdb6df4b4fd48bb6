"""A circuit breaker for calls to one upstream (Centra), shared by every thread of the process.

Closed: calls go through; each failure is counted, each success clears the count. After
``failures`` consecutive failures within ``window`` seconds the breaker opens: calls then
fail at once, without touching the network, for ``reset`` seconds. After that it is half-open:
exactly one call (the probe) goes through while the others keep failing fast; the probe's
success closes the breaker, its failure opens it for another ``reset`` seconds.

Why: with Centra stalled every call would otherwise hold a gunicorn thread for the whole read
timeout, and a few seconds of that exhausts every worker, including the ones that could answer
catalog reads from the cache. Failing fast keeps those threads free.

Only the caller decides what a failure is (Centra's client counts network errors, timeouts
and 5xx, never a 4xx answer, which is Centra working as it should).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half-open"]
STATE_VALUES: dict[State, int] = {"closed": 0, "half-open": 1, "open": 2}

BREAKER_STATE = Gauge(
    "storefront_centra_breaker_state",
    "Circuit breaker state of calls to Centra: 0 closed, 1 half-open, 2 open",
    ["breaker"],
    multiprocess_mode="max",
)
BREAKER_TRANSITIONS = Counter(
    "storefront_centra_breaker_transitions_total",
    "Circuit breaker state changes",
    ["breaker", "state"],
)
BREAKER_REJECTED = Counter(
    "storefront_centra_breaker_rejected_total",
    "Calls to Centra failed fast by an open circuit breaker, without a request",
    ["breaker"],
)


class CircuitOpen(Exception):
    """The breaker refused the call; ``retry_in`` is the time until the next probe."""

    def __init__(self, retry_in: float) -> None:
        super().__init__("circuit open")
        self.retry_in = retry_in


@dataclass(frozen=True)
class BreakerStatus:
    state: State
    failures: int
    opened_at: float | None  # the clock's time it last opened
    retry_in: float  # seconds until a probe may go through (0 unless open)


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failures: int = 5,
        reset: float = 15.0,
        window: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or reset <= 0 or window <= 0:
            raise ValueError("failures must be at least 1, reset and window positive")
        self.name = name
        self.threshold = failures
        self.reset = reset
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._failures = 0
        self._first_failure = 0.0
        self._opened_at: float | None = None
        self._probing = False
        BREAKER_STATE.labels(breaker=name).set(0)

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, {self._state})"

    # -- the three steps of a call: before, then success or failure -----------------------------

    def before_call(self) -> None:
        """Raise :class:`CircuitOpen` when the call must not be made. In half-open state the
        first caller becomes the probe; it must report :meth:`success` or :meth:`failure`."""
        with self._lock:
            if self._state == "closed":
                return
            now = self._clock()
            assert self._opened_at is not None
            retry_in = self._opened_at + self.reset - now
            if self._state == "open" and retry_in <= 0:
                self._transition("half-open")
            if self._state == "half-open" and not self._probing:
                self._probing = True
                return
        BREAKER_REJECTED.labels(breaker=self.name).inc()
        raise CircuitOpen(max(0.0, retry_in))

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._probing = False
            if self._state != "closed":
                self._opened_at = None
                self._transition("closed")

    def failure(self) -> None:
        with self._lock:
            now = self._clock()
            if self._state == "half-open":
                self._probing = False
                self._open(now)
                return
            if self._state == "open":
                return  # a call let through before it opened, finishing late
            if self._failures == 0 or now - self._first_failure > self.window:
                self._failures = 0
                self._first_failure = now
            self._failures += 1
            if self._failures >= self.threshold:
                self._open(now)

    def release(self) -> None:
        """The call ended without telling anything about the upstream (e.g. a refused
        parameter): let another caller probe."""
        with self._lock:
            self._probing = False

    # -- reading and resetting -------------------------------------------------------------------

    def status(self) -> BreakerStatus:
        with self._lock:
            state = self._state
            retry_in = 0.0
            if state == "open" and self._opened_at is not None:
                retry_in = max(0.0, self._opened_at + self.reset - self._clock())
                if retry_in == 0.0:
                    state = "half-open"  # the next call will be the probe
            return BreakerStatus(state, self._failures, self._opened_at, retry_in)

    def force_close(self) -> None:
        """Back to closed, count cleared (tests; an operator's shell)."""
        self.success()

    def _open(self, now: float) -> None:
        self._opened_at = now
        self._failures = max(self._failures, self.threshold)
        self._transition("open")

    def _transition(self, state: State) -> None:
        previous, self._state = self._state, state
        BREAKER_STATE.labels(breaker=self.name).set(STATE_VALUES[state])
        BREAKER_TRANSITIONS.labels(breaker=self.name, state=state).inc()
        log_level = logging.WARNING if state == "open" else logging.INFO
        log.log(log_level, "circuit breaker %s: %s -> %s", self.name, previous, state)
