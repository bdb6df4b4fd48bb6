"""A circuit breaker for calls to one upstream (Centra; Redis on the web's hot path), shared by
every thread of the process.

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

Others may want to know when a breaker opens or closes (the catalog tells its other processes
that Centra is down): :func:`on_transition` registers a listener, called after the change,
outside the breaker's lock; a listener that fails is logged and never fails the call.
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


@dataclass(frozen=True)
class BreakerMetrics:
    """The Prometheus series a breaker reports to (labelled ``breaker=<name>``)."""

    state: Gauge
    transitions: Counter
    rejected: Counter


CENTRA_METRICS = BreakerMetrics(
    state=Gauge(
        "storefront_centra_breaker_state",
        "Circuit breaker state of calls to Centra: 0 closed, 1 half-open, 2 open",
        ["breaker"],
        multiprocess_mode="max",
    ),
    transitions=Counter(
        "storefront_centra_breaker_transitions_total",
        "Circuit breaker state changes",
        ["breaker", "state"],
    ),
    rejected=Counter(
        "storefront_centra_breaker_rejected_total",
        "Calls to Centra failed fast by an open circuit breaker, without a request",
        ["breaker"],
    ),
)
Listener = Callable[[str, State], None]  # (breaker name, new state)
_listeners: list[Listener] = []


def on_transition(listener: Listener) -> None:
    """Call ``listener(name, state)`` after any breaker of this process changes state."""
    if listener not in _listeners:
        _listeners.append(listener)


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
    # The clock's time of the last failure, None once a call succeeded after it: whether the
    # last thing learnt about the upstream is that it failed.
    last_failure: float | None = None


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failures: int = 5,
        reset: float = 15.0,
        window: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        metrics: BreakerMetrics = CENTRA_METRICS,
        probe: Callable[[], bool] | None = None,
    ) -> None:
        """With ``probe``, no call is ever the probe: once open, a thread of the breaker's own
        runs ``probe()`` every ``reset`` seconds and its first True closes the breaker, so no
        caller waits on an upstream that is still stalled (Redis: a PING is cheap)."""
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
        self._last_failure: float | None = None
        self._probing = False
        self._metrics = metrics
        self._probe = probe
        self._prober: threading.Thread | None = None
        metrics.state.labels(breaker=name).set(0)

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
            if self._state == "open" and retry_in <= 0 and self._probe is None:
                self._transition("half-open")
            if self._state == "half-open" and not self._probing:
                self._probing = True
                return
        self._metrics.rejected.labels(breaker=self.name).inc()
        raise CircuitOpen(max(0.0, retry_in))

    def success(self) -> None:
        changed: State | None = None
        with self._lock:
            self._failures = 0
            self._last_failure = None
            self._probing = False
            if self._state != "closed":
                self._opened_at = None
                changed = self._transition("closed")
        _notify(self.name, changed)

    def failure(self) -> None:
        changed: State | None = None
        with self._lock:
            now = self._clock()
            self._last_failure = now
            if self._state == "half-open":
                self._probing = False
                changed = self._open(now)
            elif self._state == "open":
                pass  # a call let through before it opened, finishing late
            else:
                if self._failures == 0 or now - self._first_failure > self.window:
                    self._failures = 0
                    self._first_failure = now
                self._failures += 1
                if self._failures >= self.threshold:
                    changed = self._open(now)
        if changed == "open":
            self._start_prober()
        _notify(self.name, changed)

    def _start_prober(self) -> None:
        if self._probe is None:
            return
        with self._lock:
            if self._prober is not None:
                return
            self._prober = threading.Thread(
                target=self._probe_loop, name=f"breaker-{self.name}", daemon=True
            )
        self._prober.start()

    def _probe_loop(self) -> None:
        assert self._probe is not None
        while True:
            time.sleep(self.reset)
            with self._lock:
                if self._state == "closed":  # a late call's success closed it meanwhile
                    self._prober = None
                    return
            try:
                ok = self._probe()
            except Exception:  # whatever the probe raises means "not yet"; the thread goes on
                ok = False
            with self._lock:
                if ok:
                    self._prober = None
                else:  # still down: another full period before the next probe
                    self._opened_at = self._last_failure = self._clock()
            if ok:
                self.success()
                return

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
                if retry_in == 0.0 and self._probe is None:
                    state = "half-open"  # the next call will be the probe
            return BreakerStatus(
                state, self._failures, self._opened_at, retry_in, self._last_failure
            )

    def known_failing(self) -> bool:
        """Whether the last thing learnt about the upstream is that it fails: the breaker is
        open or probing, or the last call failed (within the window) and none succeeded
        since."""
        status = self.status()
        if status.state != "closed":
            return True
        return (
            status.last_failure is not None and self._clock() - status.last_failure <= self.window
        )

    def force_close(self) -> None:
        """Back to closed, count cleared (tests; an operator's shell)."""
        self.success()

    def _open(self, now: float) -> State:
        self._opened_at = now
        self._failures = max(self._failures, self.threshold)
        return self._transition("open")

    def _transition(self, state: State) -> State:
        previous, self._state = self._state, state
        self._metrics.state.labels(breaker=self.name).set(STATE_VALUES[state])
        self._metrics.transitions.labels(breaker=self.name, state=state).inc()
        log_level = logging.WARNING if state == "open" else logging.INFO
        log.log(log_level, "circuit breaker %s: %s -> %s", self.name, previous, state)
        return state


def _notify(name: str, state: State | None) -> None:
    if state is None:
        return
    for listener in list(_listeners):
        try:
            listener(name, state)
        except Exception:  # a listener's bug must not break the breaker that called it
            log.exception("circuit breaker %s: a listener of %s failed", name, state)
