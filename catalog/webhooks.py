"""Centra's webhook receiver: verify, de-duplicate, queue, answer in milliseconds.

Centra's webhook plugin (Checkout API mode) POSTs ``payload=<urlencoded JSON>`` as a form,
signed with ``X-Centra-Signature: t=<unix seconds>,v1=<hex>`` where v1 is HMAC-SHA256 with the
endpoint secret over ``"<t>.<raw body>"``. It gives up after 5 s, does not retry and does not
order its calls, so the receiver does no Centra call at all: it queues the ids (see
:mod:`catalog.invalidation`) and a worker refreshes them. When Redis cannot queue them, the
receiver keeps them on disk (:mod:`catalog.spool`, queued as soon as Redis answers) and
answers 503, never 500.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

import redis
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError
from prometheus_client import Counter

from catalog import invalidation, spool
from storefront.api import ApiError
from storefront.bodies import request_body
from storefront.jsonio import JsonTooDeep, parse_json
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

WEBHOOKS = Counter(
    "storefront_webhooks_total", "Webhook calls by outcome", ["outcome"]
)  # outcome: accepted, repeat, duplicate, spooled (Redis down: kept on disk, 503), lost
# (Redis down and the disk refused too, 503), rejected-<reason>
WEBHOOK_KEYS = Counter(
    "storefront_webhook_keys_total", "Type keys seen in accepted webhooks", ["key", "known"]
)

# Keys of Centra's webhook plugin (Checkout API mode). Only some need work from us; the rest
# are acknowledged and counted. Brand/campaign/warehouse changes arrive with product ids too.
KNOWN_KEYS = frozenset(
    {
        "products", "categories", "pricelists", "markets", "brands", "campaigns",
        "campaignSites", "warehouses", "warehouseGroups", "affiliates", "giftCertificates",
        "statics", "cmsArticles", "mapsLocations", "mapsRegion",
    }
)  # fmt: skip
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_IDS_PER_KEY = 10_000


class WebhookError(Exception):
    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Signature:
    timestamp: int
    v1: tuple[str, ...]


def parse_signature(header: str | None) -> Signature:
    """``t=<unix>,v1=<hex>[,v1=<hex>...]``; unknown schemes (e.g. a future v2) are ignored."""
    if not header:
        raise WebhookError(401, "signature", "missing X-Centra-Signature")
    timestamp: int | None = None
    v1: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookError(401, "signature", "malformed")
        if name == "t":
            if timestamp is not None or not value.isdigit() or len(value) > 12:
                raise WebhookError(401, "signature", "malformed timestamp")
            timestamp = int(value)
        elif name == "v1":
            value = value.lower()
            if not _HEX64.match(value):
                raise WebhookError(401, "signature", "malformed v1")
            v1.append(value)
    if timestamp is None or not v1:
        raise WebhookError(401, "signature", "malformed")
    return Signature(timestamp, tuple(v1))


def expected_signature(secret: str, timestamp: int, raw_body: bytes) -> str:
    message = str(timestamp).encode() + b"." + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    header: str | None,
    raw_body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: int,
) -> Signature:
    """Check the header against every configured secret (rotation) in constant time."""
    sig = parse_signature(header)
    if abs(now - sig.timestamp) > tolerance:
        raise WebhookError(401, "signature", "timestamp outside tolerance")
    matched = False
    for secret in secrets:
        expected = expected_signature(secret, sig.timestamp, raw_body)
        for candidate in sig.v1:
            # no early exit: every comparison runs, whatever matched before
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookError(401, "signature", "invalid")
    return sig


def parse_payload(raw_body: bytes) -> dict[str, list[str]]:
    """``payload=<urlencoded JSON object of key -> [id, ...]>`` into a clean dict."""
    try:
        form = parse_qs(raw_body.decode("utf-8"), strict_parsing=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise WebhookError(400, "body", "not a form body") from None
    values = form.get("payload")
    if not values or len(values) != 1:
        raise WebhookError(400, "payload", "exactly one payload field is required")
    try:
        data = parse_json(values[0].encode())
    except JsonTooDeep as exc:
        raise WebhookError(400, "payload", str(exc)) from None
    except ValueError:
        raise WebhookError(400, "payload", "not JSON") from None
    if not isinstance(data, dict):
        raise WebhookError(400, "payload", "must be a JSON object")
    events: dict[str, list[str]] = {}
    for key, ids in data.items():
        if not isinstance(key, str) or len(key) > 64:
            raise WebhookError(400, "payload", "bad type key")
        if not isinstance(ids, list) or len(ids) > MAX_IDS_PER_KEY:
            raise WebhookError(400, "payload", f"{key[:64]} must be a list of ids")
        clean: list[str] = []
        for value in ids:
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not _ID.match(value):
                raise WebhookError(400, "payload", f"{key[:64]} has a malformed id")
            clean.append(value)
        events[key] = clean
    return events


def _error(e: WebhookError) -> JsonResponse:
    WEBHOOKS.labels(outcome=f"rejected-{e.field}").inc()
    log.info("webhook rejected: %s %s", e.field, e.reason)
    return JsonResponse({"errors": {e.field: e.reason}}, status=e.status)


@csrf_exempt  # Centra cannot send a CSRF token; the signature authenticates the call instead.
@require_POST
def centra_webhook(request: HttpRequest) -> JsonResponse:
    try:
        raw = request_body(request, limit=settings.WEBHOOK_MAX_BYTES)
    except ApiError as e:
        return _error(WebhookError(e.status_code, "body", str(e.errors.get("body", "refused"))))
    try:
        sig = verify_signature(
            request.headers.get("X-Centra-Signature"),
            raw,
            settings.CENTRA_WEBHOOK_SECRETS,
            now=time.time(),
            tolerance=settings.WEBHOOK_TOLERANCE_SECONDS,
        )
        events = parse_payload(raw)
    except WebhookError as e:
        return _error(e)

    delivery = hashlib.sha256(str(sig.timestamp).encode() + b"." + raw).hexdigest()
    try:
        return _queue(delivery, events)
    except (redis.RedisError, OperationalError) as exc:
        # Not recorded, or not sure it was: keep it on disk, queued as soon as Redis answers
        # (catalog.spool), and ask Centra to retry (a repeat is de-duplicated).
        kept = spool.keep(events)
        WEBHOOKS.labels(outcome="spooled" if kept else "lost").inc()
        log.warning("webhook not queued (%s): %s", type(exc).__name__, "kept" if kept else "LOST")
        response = JsonResponse({"errors": {"queue": "unavailable, retry later"}}, status=503)
        response["Retry-After"] = "5"
        return response


def _queue(delivery: str, events: dict[str, list[str]]) -> JsonResponse:
    r = get_redis()
    # Kept longer than the tolerance: a replay after that is refused by its timestamp anyway.
    seen = invalidation.record_delivery(r, delivery, ttl=2 * settings.WEBHOOK_TOLERANCE_SECONDS)
    if seen == invalidation.DUPLICATE:
        WEBHOOKS.labels(outcome="duplicate").inc()
        return JsonResponse({"status": "duplicate"})
    for key in events:
        WEBHOOK_KEYS.labels(
            key=key if key in KNOWN_KEYS else "other", known=key in KNOWN_KEYS
        ).inc()
    queued = invalidation.queue_events(r, events)
    # "repeat": the same bytes again, maybe a second change within Centra's one-second clock
    WEBHOOKS.labels(outcome="accepted" if seen == invalidation.FIRST else "repeat").inc()
    return JsonResponse({"status": "accepted", "queued": queued}, status=202)
