"""The webhook log, settings and flush under /sandbox/webhooks (shared secret required); the
webhooks themselves are queued by the edits (:mod:`sandbox.edit_api`) and sent by
:mod:`sandbox.webhooks`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sandbox.edit_api import FLUSH_TIMEOUT_SECONDS, bad, flush_webhooks, number_field
from sandbox.http import Request, field_int, field_str, route
from sandbox.state import Shop
from sandbox.webhooks import sender_for


@route("GET", "/sandbox/webhooks")
def webhooks_get(req: Request, shop: Shop) -> dict[str, Any]:
    sender = sender_for(shop)
    return {
        "config": sender.settings(),
        "pending": sender.pending(),
        "deliveries": sender.records(),
    }


@route("DELETE", "/sandbox/webhooks")
def webhooks_clear(req: Request, shop: Shop) -> dict[str, Any]:
    """Forget the delivery records (events still queued are delivered as usual)."""
    sender_for(shop).clear_records()
    return {}


def _rate(body: dict[str, Any], key: str) -> float:
    value = number_field(body, key)
    if not 0 <= value <= 1:
        raise bad(key, "a number from 0 to 1")
    return value


@route("PUT", "/sandbox/webhooks/config")
def webhooks_config(req: Request, shop: Shop) -> dict[str, Any]:
    """``{url?, secret?, retries?, dropRate?, duplicateRate?, windowMs?, maxIds?, seed?}``;
    ``url: null`` (or ``""``) stops sending (calls are recorded as ``no-url``)."""
    body = req.body
    changes: dict[str, Any] = {}
    for key in body:
        if key == "url":
            url = body["url"]
            if url is None or url == "":
                changes["url"] = None
                continue
            if not isinstance(url, str):
                raise bad("url", "must be a string or null")
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise bad("url", "must be an http:// or https:// URL")
            changes["url"] = url
        elif key == "secret":
            secret = field_str(body, "secret")
            if not secret:
                raise bad("secret", "must not be empty")
            changes["secret"] = secret
        elif key == "retries":
            retries = field_int(body, "retries")
            if retries > 10:
                raise bad("retries", "at most 10")
            changes["retries"] = retries
        elif key in ("dropRate", "duplicateRate"):
            changes[key] = _rate(body, key)
        elif key == "windowMs":
            window = number_field(body, "windowMs")
            if not 0 <= window <= 600_000:
                raise bad("windowMs", "from 0 to 600000")
            changes["windowMs"] = window
        elif key == "maxIds":
            changes["maxIds"] = field_int(body, "maxIds", minimum=1)
        elif key == "seed":
            changes["seed"] = field_int(body, "seed", minimum=-(2**63))
        else:
            raise bad(key, "unknown setting")
    sender = sender_for(shop)
    sender.configure(changes)
    return {"config": sender.settings()}


@route("POST", "/sandbox/webhooks/flush")
def webhooks_flush(req: Request, shop: Shop) -> dict[str, Any]:
    """Deliver everything queued now and answer when it is done (retries and duplicates
    included); ``{timeout?}`` seconds, default 60: a 504 when that was not enough."""
    timeout = FLUSH_TIMEOUT_SECONDS
    if req.body.get("timeout") is not None:
        timeout = number_field(req.body, "timeout")
        if not 0 < timeout <= 600:
            raise bad("timeout", "above 0 and at most 600 seconds")
    flush_webhooks(shop, timeout)
    return {"flushed": True, "pending": sender_for(shop).pending()}
