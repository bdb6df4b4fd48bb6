"""Each sink's documented required fields, checked on what a receiver got: the tests' own
reading of the protocols, independent of the code that builds the requests."""

from __future__ import annotations

import re
from typing import Any

from tests.tracking.receivers import Received
from tracking.sinks import webhook

SHA256 = re.compile(r"[0-9a-f]{64}")


def check_ga4(got: Received, *, measurement_id: str, api_secret: str) -> dict[str, Any]:
    """GA4 Measurement Protocol: POST /mp/collect?measurement_id=&api_secret=, JSON with
    client_id and events[] of {name, params}; a purchase needs transaction_id, currency with
    value, and items with item_id or item_name."""
    assert got.path.endswith("/mp/collect")
    assert got.query == {"measurement_id": measurement_id, "api_secret": api_secret}
    assert got.headers["Content-Type"] == "application/json"
    body = got.json
    assert isinstance(body["client_id"], str)
    assert body["client_id"]
    (event,) = body["events"]
    assert event["name"] == "purchase"
    params = event["params"]
    assert params["transaction_id"]
    assert re.fullmatch(r"[A-Z]{3}", params["currency"])
    assert isinstance(params["value"], int | float)
    assert params["items"]
    for item in params["items"]:
        assert item.get("item_id") or item.get("item_name")
        assert isinstance(item["price"], int | float)
        assert isinstance(item["quantity"], int)
    return dict(params)


def check_meta(got: Received, *, pixel_id: str, token: str, version: str) -> dict[str, Any]:
    """Meta Conversions API: POST /{version}/{pixel}/events?access_token=, {data: [event]};
    a website event needs event_name, event_time, action_source "website", event_source_url,
    user_data.client_user_agent; a Purchase needs custom_data currency and value; contact
    details only as SHA-256 hex."""
    assert got.path == f"/{version}/{pixel_id}/events"
    assert got.query == {"access_token": token}
    (event,) = got.json["data"]
    assert event["event_name"] == "Purchase"
    assert isinstance(event["event_time"], int)
    assert event["action_source"] == "website"
    assert event["event_source_url"].startswith("http")
    user = event["user_data"]
    assert user["client_user_agent"]
    for key in ("em", "ph", "country"):
        for value in user.get(key, []):
            assert SHA256.fullmatch(value), (key, value)
    custom = event["custom_data"]
    assert re.fullmatch(r"[A-Z]{3}", custom["currency"])
    assert isinstance(custom["value"], int | float)
    return dict(event)


def check_webhook(got: Received, *, secret: str) -> dict[str, Any]:
    """Our webhook: JSON, signed (X-Storefront-Signature over "<t>.<body>"), with an event id."""
    assert got.headers["Content-Type"] == "application/json"
    assert webhook.verify(secret, got.headers[webhook.SIGNATURE_HEADER], got.body)
    body = got.json
    assert got.headers[webhook.EVENT_ID_HEADER] == body["id"] == f"purchase-{body['order']}"
    assert body["type"] == "purchase"
    customer = body["customer"]
    for key in ("email_sha256", "phone_sha256"):
        assert customer[key] == "" or SHA256.fullmatch(customer[key])
    return dict(body)
