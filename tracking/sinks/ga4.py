"""Google Analytics 4, Measurement Protocol: ``POST {TRACKING_GA4_URL}?measurement_id=&
api_secret=`` with a JSON body ``{client_id, timestamp_micros, consent, events: [{name:
"purchase", params: {...}}]}``.

``client_id`` is the visitor's own from the ``_ga`` cookie, so the purchase joins the visit the
browser tag saw. A visitor without one (the tag blocked) gets a client id made from the order
number, the same on every retry. GA4 de-duplicates purchases by ``transaction_id``. The visitor
consented (nothing is sent otherwise), which ``consent`` states for Google's ads features.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlencode

from django.conf import settings

from tracking.events import Purchase
from tracking.sinks import SinkRequest

NAME = "ga4"


def configured() -> bool:
    return bool(settings.TRACKING_GA4_MEASUREMENT_ID and settings.TRACKING_GA4_API_SECRET)


def client_id(event: Purchase) -> str:
    known = event["visitor"]["ga_client_id"]
    if known:
        return known
    digest = int(hashlib.sha256(event["order"].encode()).hexdigest()[:8], 16)
    return f"{digest}.{event['time']}"


def payload(event: Purchase) -> dict[str, object]:
    params: dict[str, object] = {
        "transaction_id": event["order"],
        "value": event["value"],
        "currency": event["currency"],
        "tax": event["tax"],
        "shipping": event["shipping"],
        "items": [
            {
                "item_id": item["item_id"],
                "item_name": item["item_name"],
                "item_variant": item["item_variant"],
                "item_brand": item["item_brand"],
                "price": item["price"],
                "quantity": item["quantity"],
            }
            for item in event["items"]
        ],
    }
    if event["coupon"]:
        params["coupon"] = event["coupon"]
    return {
        "client_id": client_id(event),
        "timestamp_micros": event["time"] * 1_000_000,
        "consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"},
        "events": [{"name": "purchase", "params": params}],
    }


def request(event: Purchase) -> SinkRequest:
    query = urlencode(
        {
            "measurement_id": settings.TRACKING_GA4_MEASUREMENT_ID,
            "api_secret": settings.TRACKING_GA4_API_SECRET,
        }
    )
    return SinkRequest(
        url=f"{settings.TRACKING_GA4_URL}?{query}",
        body=json.dumps(payload(event), separators=(",", ":")).encode(),
        headers={"Content-Type": "application/json"},
    )
