"""A signed JSON webhook for anything else (a CRM, a data warehouse, a tag server).

``POST {TRACKING_WEBHOOK_URL}`` with the purchase as JSON (no raw contact details: the email
and phone as SHA-256 hex of their normalised form, like Meta's), and two headers:

- ``X-Storefront-Event-Id: purchase-<order>``: the same on every retry; a receiver that has
  seen it answers 2xx and does nothing;
- ``X-Storefront-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``,
  the scheme of Centra's own webhooks: the receiver recomputes it over the raw bytes, compares
  in constant time and refuses a ``t`` older than its tolerance (a replay). Each attempt is
  signed anew, so a retry is never stale. :func:`verify` is the receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.conf import settings

from tracking.events import Purchase
from tracking.sinks import SinkRequest

NAME = "webhook"
SIGNATURE_HEADER = "X-Storefront-Signature"
EVENT_ID_HEADER = "X-Storefront-Event-Id"


def configured() -> bool:
    return bool(settings.TRACKING_WEBHOOK_URL and settings.TRACKING_WEBHOOK_SECRET)


def event_id(event: Purchase) -> str:
    return f"purchase-{event['order']}"


def payload(event: Purchase) -> dict[str, object]:
    return {
        "type": "purchase",
        "id": event_id(event),
        "time": event["time"],
        "order": event["order"],
        "currency": event["currency"],
        "value": event["value"],
        "tax": event["tax"],
        "shipping": event["shipping"],
        "coupon": event["coupon"],
        "items": event["items"],
        "customer": {
            "email_sha256": event["email_sha256"],
            "phone_sha256": event["phone_sha256"],
            "country": event["country"],
        },
    }


def signature(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def request(event: Purchase, *, now: float | None = None) -> SinkRequest:
    body = json.dumps(payload(event), separators=(",", ":")).encode()
    timestamp = int(time.time() if now is None else now)
    return SinkRequest(
        url=str(settings.TRACKING_WEBHOOK_URL),
        body=body,
        headers={
            "Content-Type": "application/json",
            EVENT_ID_HEADER: event_id(event),
            SIGNATURE_HEADER: signature(str(settings.TRACKING_WEBHOOK_SECRET), body, timestamp),
        },
    )
