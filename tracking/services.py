"""The one function the rest of the BFF calls: :func:`purchase_completed`, right after Centra
answered a call that may have placed an order.

It decides at once, in the request, whether there is anything to track (a completed payment
with an order, a visitor who consented, an order not queued before), captures what only the
request knows (:mod:`tracking.visitor`), builds the event (hashing contact details) and queues
it. It never raises and never calls a sink: the shopper's answer does not wait for tracking and
does not fail because of it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from storefront.redis_client import get_redis
from tracking import dedupe
from tracking.consent import consent_given
from tracking.events import order_of, purchase_event
from tracking.metrics import PURCHASES
from tracking.tasks import purchase_task
from tracking.visitor import visitor_of

log = logging.getLogger(__name__)

# The Centra calls whose answer carries a newly placed order: a payment result, or a payment
# that succeeded at once (action "success"). ``GET receipt`` shows an order again: not here.
PURCHASE_CALLS = frozenset({("POST", "payment"), ("POST", "payment-result")})
# Queueing must not hold up the shopper's answer when the broker is slow: one quick retry.
_QUEUE_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}


def purchase_completed(
    request: HttpRequest, *, method: str, template: str, status: int, answer: Mapping[str, Any]
) -> None:
    """Queue the purchase event of ``answer``'s order, when there is one to send."""
    if (method, template) not in PURCHASE_CALLS or not 200 <= status < 300:
        return
    try:
        _track(request, answer)
    # Deliberately broad: this runs inside the shopper's payment answer, and nothing tracking
    # does (a broker down, an order shape we did not foresee) may fail or delay that answer.
    except Exception as e:
        PURCHASES.labels("error").inc()
        log.error("tracking: purchase not queued (%s)", type(e).__name__)


def _track(request: HttpRequest, answer: Mapping[str, Any]) -> None:
    if order_of(answer) is None:
        return
    if not consent_given(request):
        PURCHASES.labels("no_consent").inc()
        return
    event = purchase_event(answer, visitor=visitor_of(request))
    if event is None:
        return
    r = get_redis()
    if not dedupe.claim_order(r, event["order"]):
        PURCHASES.labels("duplicate").inc()
        return
    try:
        purchase_task.apply_async(
            kwargs={"event": event},
            queue=settings.TRACKING_QUEUE,
            retry=True,
            retry_policy=_QUEUE_RETRY,
        )
    except BaseException:
        # Whatever stopped the queueing, the order's claim goes with it (a later return of
        # the same payment can queue it), and the error goes on to the caller above.
        dedupe.release_order(r, event["order"])
        raise
    PURCHASES.labels("queued").inc()
    log.info("tracking: order %s queued", event["order"])
