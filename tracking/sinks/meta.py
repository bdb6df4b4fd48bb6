"""Meta Conversions API: ``POST {TRACKING_META_URL}/{version}/{pixel id}/events?access_token=``
with ``{data: [server event]}``.

One ``Purchase`` per order, ``event_id`` the order number: the browser pixel's ``Purchase``
with ``eventID`` set to the same number is then counted once. A website event needs
``action_source: "website"``, ``event_source_url`` and ``client_user_agent``; the purchase
needs ``custom_data.currency`` and ``value``. Contact details go hashed (SHA-256 of Meta's
normalisation: :mod:`tracking.hashing`); the address, browser and Meta's own cookies go as
they are, as Meta asks.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from django.conf import settings

from tracking.events import Purchase
from tracking.hashing import sha256_hex
from tracking.sinks import SinkRequest

NAME = "meta"


def configured() -> bool:
    return bool(settings.TRACKING_META_PIXEL_ID and settings.TRACKING_META_ACCESS_TOKEN)


def user_data(event: Purchase) -> dict[str, object]:
    visitor = event["visitor"]
    data: dict[str, object] = {"client_user_agent": visitor["user_agent"]}
    if event["email_sha256"]:
        data["em"] = [event["email_sha256"]]
    if event["phone_sha256"]:
        data["ph"] = [event["phone_sha256"]]
    if event["country"]:
        data["country"] = [sha256_hex(event["country"].lower())]
    if visitor["ip"]:
        data["client_ip_address"] = visitor["ip"]
    if visitor["fbp"]:
        data["fbp"] = visitor["fbp"]
    if visitor["fbc"]:
        data["fbc"] = visitor["fbc"]
    return data


def server_event(event: Purchase) -> dict[str, object]:
    return {
        "event_name": "Purchase",
        "event_time": event["time"],
        "event_id": event["order"],
        "action_source": "website",
        "event_source_url": event["visitor"]["page_url"],
        "user_data": user_data(event),
        "custom_data": {
            "currency": event["currency"],
            "value": event["value"],
            "order_id": event["order"],
            "content_type": "product",
            "contents": [
                {"id": item["item_id"], "quantity": item["quantity"], "item_price": item["price"]}
                for item in event["items"]
            ],
            "num_items": sum(item["quantity"] for item in event["items"]),
        },
    }


def payload(event: Purchase) -> dict[str, object]:
    body: dict[str, object] = {"data": [server_event(event)]}
    if settings.TRACKING_META_TEST_EVENT_CODE:
        body["test_event_code"] = settings.TRACKING_META_TEST_EVENT_CODE
    return body


def request(event: Purchase) -> SinkRequest:
    base = str(settings.TRACKING_META_URL).rstrip("/")
    path = "/".join(
        quote(part, safe="")
        for part in (settings.TRACKING_META_API_VERSION, settings.TRACKING_META_PIXEL_ID)
    )
    query = urlencode({"access_token": settings.TRACKING_META_ACCESS_TOKEN})
    return SinkRequest(
        url=f"{base}/{path}/events?{query}",
        body=json.dumps(payload(event), separators=(",", ":")).encode(),
        headers={"Content-Type": "application/json"},
    )
