"""Liveness, readiness and the benchmark floor; what this process knows about Centra."""

from __future__ import annotations

import threading
import time

import redis
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from storefront.centra import CentraError, get_client
from storefront.redis_client import get_redis

# Readiness probes come every few seconds from every load balancer; Centra is asked at most
# once per interval per process, by one thread at a time (while a probe waits on a stalled
# Centra, the others answer with what the last one found).
_CENTRA_CHECK_SECONDS = 5.0
_centra_state: dict[str, object] = {"at": 0.0, "error": None}
_centra_lock = threading.Lock()
_probe_lock = threading.Lock()


@csrf_exempt  # read-only: any other method is a 405 with Allow, not a CSRF 403
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@csrf_exempt  # read-only: any other method is a 405 with Allow, not a CSRF 403
@require_safe
def hello(request: HttpRequest) -> HttpResponse:
    """The benchmarks' floor: the cheapest JSON answer this server can give."""
    return HttpResponse(b'{"hello":"world"}', content_type="application/json")


def centra_unreachable() -> bool:
    """Whether Centra is known to be unreachable from this process: its circuit breaker is
    open or probing, or the last call to it failed (a readiness probe included, which goes
    through the same breaker) and none has succeeded since. Catalog answers say
    ``X-Cache: STALE`` while it is."""
    return get_client().breaker.known_failing()


def _centra_error() -> str | None:
    breaker = get_client().breaker.status()
    if breaker.state == "open":
        # No probe of our own: the breaker knows, and asking would only fail fast anyway.
        return f"circuit open (next probe in {breaker.retry_in:.0f} s)"
    now = time.monotonic()
    with _centra_lock:
        if now - float(_centra_state["at"]) < _CENTRA_CHECK_SECONDS:  # type: ignore[arg-type]
            return _centra_state["error"]  # type: ignore[return-value]
    if not _probe_lock.acquire(blocking=False):
        with _centra_lock:  # another thread is probing right now
            return _centra_state["error"]  # type: ignore[return-value]
    try:
        try:
            get_client().catalog("GET", "countries")
            error = None
        except CentraError as e:
            error = str(e)
        with _centra_lock:
            _centra_state.update(at=time.monotonic(), error=error)
    finally:
        _probe_lock.release()
    return error


@csrf_exempt  # read-only: any other method is a 405 with Allow, not a CSRF 403
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    errors: dict[str, str] = {}
    try:
        get_redis().ping()
    except redis.RedisError as e:
        errors["redis"] = f"unreachable: {type(e).__name__}"
    centra = _centra_error()
    if centra:
        errors["centra"] = f"unreachable: {centra}"
    if errors:
        return JsonResponse({"status": "unavailable", "errors": errors}, status=503)
    return JsonResponse({"status": "ready"})
