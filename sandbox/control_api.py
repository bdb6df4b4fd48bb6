"""Control endpoints under /sandbox/ (shared secret required): faults, request log, health."""

from __future__ import annotations

from typing import Any

from sandbox.config import parse_latency
from sandbox.http import HttpError, RawReply, Request, route
from sandbox.state import Shop


@route("GET", "/healthz")
def health(req: Request, shop: Shop) -> RawReply:
    return RawReply(b"ok\n", "text/plain")


def _faults_json(shop: Shop) -> dict[str, Any]:
    f = shop.config.faults
    return {"latencyMs": list(f.latency_ms), "errorRate": f.error_rate, "stall": f.stall}


@route("GET", "/sandbox/faults")
def faults_get(req: Request, shop: Shop) -> dict[str, Any]:
    return _faults_json(shop)


@route("PUT", "/sandbox/faults")
def faults_put(req: Request, shop: Shop) -> dict[str, Any]:
    """Change latency (a number or ``"50-150"``), error rate (0..1) and the stall switch."""
    f = shop.config.faults
    body = req.body
    if "latencyMs" in body:
        value = body["latencyMs"]
        try:
            if isinstance(value, list) and len(value) == 2:
                f.latency_ms = parse_latency(f"{float(value[0])}-{float(value[1])}")
            else:
                f.latency_ms = parse_latency(str(value))
        except (ValueError, TypeError):
            raise HttpError(400, {"latencyMs": "a number of milliseconds or a range"}) from None
    if "errorRate" in body:
        rate = body["errorRate"]
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise HttpError(400, {"errorRate": "a number from 0 to 1"})
        f.error_rate = float(rate)
    if "stall" in body:
        if not isinstance(body["stall"], bool):
            raise HttpError(400, {"stall": "must be a boolean"})
        f.stall = body["stall"]
    return _faults_json(shop)


@route("GET", "/sandbox/requests")
def requests_get(req: Request, shop: Shop) -> dict[str, Any]:
    return {"requests": shop.request_log.as_json()}


@route("DELETE", "/sandbox/requests")
def requests_clear(req: Request, shop: Shop) -> dict[str, Any]:
    shop.request_log.clear()
    return {}
