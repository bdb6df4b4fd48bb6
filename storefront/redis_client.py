"""The Redis connection for the current settings: one pool per process, URL and role.

Two roles, because a stalled Redis (a paused server, a full network buffer) costs them
different things:

- **web** (the default: gunicorn, management commands, tests): short socket timeouts
  (``REDIS_SOCKET_TIMEOUT``) and a circuit breaker per URL. Redis answers in well under a
  millisecond, so a call that has not answered in half a second will not answer soon; after
  ``REDIS_BREAKER_FAILURES`` such failures within 10 s every call fails at once with
  :class:`RedisUnavailable` (a ``redis.ConnectionError``, so every existing ``except
  redis.RedisError`` handles it) for ``REDIS_BREAKER_RESET_SECONDS``, then one call probes.
  A page that makes several Redis calls then pays a short timeout or two at most while the
  stall is found out, not one per call (it used to wait out a 2 s timeout per call: 4-10 s
  per page); after that, nothing: while the breaker is open its own thread pings Redis every
  ``REDIS_BREAKER_RESET_SECONDS`` and the first answer closes it.
- **worker** (Celery worker processes, switched on when the worker starts): long timeouts
  (``REDIS_WORKER_SOCKET_TIMEOUT``) and no breaker. A worker writes big pipelines and
  scripts, nobody waits on it, and riding out a short stall is better than failing a task.

Connection errors and timeouts count as failures; any answer, an error answer included, is a
success. No call is retried here (redis-py retries nothing by default either): a caller that
can, retries or falls back itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import redis
from celery.signals import worker_init, worker_process_init
from django.conf import settings
from prometheus_client import Counter, Gauge
from redis.client import Pipeline

from storefront.circuit import BreakerMetrics, CircuitBreaker, CircuitOpen

Role = Literal["web", "worker"]
T = TypeVar("T")

BREAKER_METRICS = BreakerMetrics(
    state=Gauge(
        "storefront_redis_breaker_state",
        "Circuit breaker state of calls to Redis: 0 closed, 1 half-open, 2 open",
        ["breaker"],
        multiprocess_mode="max",
    ),
    transitions=Counter(
        "storefront_redis_breaker_transitions_total",
        "Redis circuit breaker state changes",
        ["breaker", "state"],
    ),
    rejected=Counter(
        "storefront_redis_breaker_rejected_total",
        "Calls to Redis failed fast by an open circuit breaker, without a request",
        ["breaker"],
    ),
)
BREAKER_WINDOW_SECONDS = 10.0


class RedisUnavailable(redis.ConnectionError):
    """Redis is known to be unreachable right now: the call was not sent."""


def _guarded(breaker: CircuitBreaker, call: Callable[[], T]) -> T:
    try:
        breaker.before_call()
    except CircuitOpen as exc:
        raise RedisUnavailable(f"redis circuit open (next probe in {exc.retry_in:.1f} s)") from None
    try:
        result = call()
    except (redis.ConnectionError, redis.TimeoutError):
        breaker.failure()
        raise
    except redis.DataError:
        breaker.release()  # refused before anything was sent: says nothing about Redis
        raise
    except redis.RedisError:
        breaker.success()  # Redis answered (an error answer, a script error): it is there
        raise
    except BaseException:
        breaker.release()
        raise
    breaker.success()
    return result


class GuardedPipeline(Pipeline):
    """A pipeline whose round trips go through the client's breaker."""

    breaker: CircuitBreaker

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        if not self.command_stack and not self.watching:
            return []
        return _guarded(self.breaker, lambda: super(GuardedPipeline, self).execute(raise_on_error))

    def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        # WATCH and the commands after it, outside MULTI, go out at once
        return _guarded(
            self.breaker,
            lambda: super(GuardedPipeline, self).immediate_execute_command(*args, **options),
        )


class GuardedRedis(redis.Redis):
    """A client whose every round trip goes through a circuit breaker."""

    breaker: CircuitBreaker

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return _guarded(
            self.breaker, lambda: super(GuardedRedis, self).execute_command(*args, **options)
        )

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> GuardedPipeline:
        pipe = GuardedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )
        pipe.breaker = self.breaker
        return pipe


_clients: dict[tuple[str, Role], redis.Redis] = {}
_lock = threading.Lock()
_role: Role = "web"


def use_worker_timeouts(**_: Any) -> None:
    """This process is a Celery worker: its clients from now on wait out stalls."""
    global _role
    _role = "worker"


# The worker's main process imports the task modules (and so this one) before it sends
# worker_init; pool processes are forked from it, or send worker_process_init themselves.
worker_init.connect(use_worker_timeouts, weak=False)
worker_process_init.connect(use_worker_timeouts, weak=False)


def _new_client(url: str, role: Role) -> redis.Redis:
    if role == "worker":
        timeout = float(settings.REDIS_WORKER_SOCKET_TIMEOUT)
        return redis.Redis.from_url(
            url,
            socket_connect_timeout=min(timeout, 5.0),
            socket_timeout=timeout,
            health_check_interval=15,
            max_connections=64,
        )
    timeout = float(settings.REDIS_SOCKET_TIMEOUT)
    pool = redis.ConnectionPool.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        health_check_interval=15,
        max_connections=64,
    )
    client = GuardedRedis(connection_pool=pool)
    # The breaker's own thread pings (same pool, same timeouts, not guarded) while it is
    # open: no request ever waits to find out whether a stalled Redis is back.
    unguarded = redis.Redis(connection_pool=pool)
    client.breaker = CircuitBreaker(
        "redis",
        failures=int(settings.REDIS_BREAKER_FAILURES),
        reset=float(settings.REDIS_BREAKER_RESET_SECONDS),
        window=BREAKER_WINDOW_SECONDS,
        metrics=BREAKER_METRICS,
        probe=lambda: bool(unguarded.ping()),
    )
    return client


def get_redis() -> redis.Redis:
    """The client for ``REDIS_URL`` in this process's role (see the module's docstring)."""
    key = (settings.REDIS_URL, _role)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _new_client(*key)
                _clients[key] = client
    return client


def breaker_of(r: redis.Redis) -> CircuitBreaker | None:
    """The breaker guarding ``r`` (None for a worker's client or one made elsewhere)."""
    return r.breaker if isinstance(r, GuardedRedis) else None


def reset_breakers() -> None:
    """Close every Redis breaker of this process (tests; an operator's shell)."""
    with _lock:
        clients = list(_clients.values())
    for client in clients:
        breaker = breaker_of(client)
        if breaker is not None:
            breaker.force_close()
