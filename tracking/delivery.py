"""Sending one purchase event to one sink: de-duplicated, over one HTTP session, with failures
sorted into "try again later" and "give up".

Nothing here logs a URL (GA4's and Meta's carry their secret in the query), a body or an
exception's text (``requests`` puts the URL in it): only the sink, the order and a status or
an exception's class.
"""

from __future__ import annotations

import logging
import re

import redis
import requests
from django.conf import settings

from storefront.redis_client import get_redis
from tracking import dedupe
from tracking.events import Purchase
from tracking.metrics import EVENTS
from tracking.sinks import SinkRequest, all_sinks

log = logging.getLogger(__name__)


class _RedactSecrets(logging.Filter):
    """urllib3 logs each request's URL at DEBUG, query and all: GA4's ``api_secret`` (which its
    protocol takes only in the query) and Meta's ``access_token`` are blanked out of it."""

    SECRET = re.compile(r"((?:api_secret|access_token)=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "api_secret=" in message or "access_token=" in message:
            record.msg = self.SECRET.sub(r"\1[redacted]", message)
            record.args = ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSecrets())

_session: requests.Session | None = None


class SinkError(Exception):
    """A send that did not succeed; ``str()`` is safe to log and store (no URL, no body)."""


class SinkUnavailable(SinkError):
    """The network failed, or the sink answered 429 or 5xx: tried again later."""


class SinkRejected(SinkError):
    """The sink refused the event (another 4xx, a redirect): sending it again will not help."""


def _http() -> requests.Session:
    global _session
    if _session is None:
        _session = requests.Session()
    return _session


def post(request: SinkRequest, *, session: requests.Session | None = None) -> int:
    """POST ``request``; its status when 2xx, else :class:`SinkError`."""
    try:
        response = (session or _http()).post(
            request.url,
            data=request.body,
            headers=request.headers,
            timeout=(settings.TRACKING_CONNECT_TIMEOUT, settings.TRACKING_READ_TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as e:
        raise SinkUnavailable(f"network: {type(e).__name__}") from None
    status = response.status_code
    response.close()
    if 200 <= status < 300:
        return status
    if status == 429 or status >= 500:
        raise SinkUnavailable(f"HTTP {status}")
    raise SinkRejected(f"HTTP {status}")


def deliver(
    *,
    sink: str,
    event: Purchase,
    holder: str,
    r: redis.Redis | None = None,
    session: requests.Session | None = None,
) -> str:
    """Send ``event`` to ``sink`` once; the outcome: ``sent``, ``duplicate`` or ``off`` (the
    sink is not configured here). Raises :class:`SinkError` when the send failed."""
    module = all_sinks().get(sink)
    if module is None or not module.configured():
        log.warning(
            "tracking: sink %s is not configured here; order %s not sent", sink, event["order"]
        )
        return "off"
    r = r or get_redis()
    order = event["order"]
    if not dedupe.claim_send(r, sink, order, holder):
        EVENTS.labels(sink, "duplicate").inc()
        log.info("tracking: order %s already sent to %s", order, sink)
        return "duplicate"
    status = post(module.request(event), session=session)
    dedupe.mark_sent(r, sink, order)
    EVENTS.labels(sink, "sent").inc()
    log.info("tracking: order %s sent to %s (HTTP %s)", order, sink, status)
    return "sent"
