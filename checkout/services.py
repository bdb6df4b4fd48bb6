"""The session rules of the proxied checkout and account calls.

- A call without a token starts a session server-side first, with the visitor's country from
  the geo header (Centra's own Geo-IP would only ever see our server's address).
- Mutations of one session run one at a time (a Redis lock per token), as Centra's own
  storefront makes one call at a time; reads do not wait.
- While a ``payment-result`` of a session is in flight, calls that change its selection are
  refused (Centra's advice: the order is being placed from that selection).
- Centra's 4xx answers are normal flow for a proxy: their status and body go back unchanged.
- A trusted server-side caller (our API key) is Centra's server mode: its calls go with the
  shared secret, and a call without a token is passed on as it is (Centra makes the session,
  e.g. from ``PUT selection``'s market, pricelist, country and language), with no country of
  ours first. Its session's calls are serialized like anyone's.
- Every answer's location is recorded for its token (:mod:`storefront.locations`), so the
  catalog can answer in the session's market, pricelist and language.
"""

from __future__ import annotations

import hashlib
import logging

import redis
from django.conf import settings
from redis.exceptions import LockError

from checkout.shapes import cart_count
from storefront.api import ApiError, ProxyError
from storefront.centra import (
    CentraClient,
    CentraRejected,
    CentraTimeout,
    CentraUnavailable,
    build_path,
    get_client,
)
from storefront.jsonio import JsonDict
from storefront.locations import remember_location
from storefront.proxy import ProxyCall, ProxyResult
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

# The lock is polled this often while another mutation of the session runs.
_LOCK_POLL_SECONDS = 0.005


def _token_key(kind: str, token: str) -> str:
    # Hashed: a key listing must not hand out shoppers' session tokens.
    return f"checkout:{kind}:{hashlib.sha256(token.encode()).hexdigest()[:32]}"


def payment_flag_key(token: str) -> str:
    return _token_key("paying", token)


def session_lock_key(token: str) -> str:
    return _token_key("lock", token)


def session_start(*, country: str, client: CentraClient) -> str | None:
    """A new Centra session for ``country``, made server-side; returns its token.

    Centra answers with a token even when it refuses the country; we keep whatever session
    it made, and the shopper's real call goes on with it."""
    path = build_path("countries/{country}", country=country)
    try:
        answer = client.request("PUT", path, server_side=True)
    except CentraRejected as e:
        log.info("session start: Centra refused country %s (%s)", country, e.status)
        return e.token
    except CentraTimeout as e:
        # Only the session was asked for, never the shopper's own call: that call did not
        # happen, and repeating it is safe (503, not the 504 of an unknown outcome). A session
        # Centra may still make is an empty one that nobody holds.
        raise CentraUnavailable(f"session start: {e.reason}") from None
    _remember(answer.token, answer.data)
    return answer.token


# How long a first visit's nonce names its session: well past the slowest double submission
# (a session start and a call, each within Centra's timeouts), and no longer.
FIRST_SESSION_SECONDS = 300


def session_for_nonce(
    *,
    nonce: str,
    country: str,
    client: CentraClient | None = None,
    redis_client: redis.Redis | None = None,
) -> str | None:
    """The one Centra session of a browser's first visit, named by the nonce cookie that
    browser was given (``shop.frame.cart_add``): the first request with the nonce starts
    the session, every other one with the same nonce waits for it and gets the same token.

    Without this, two requests of one browser that both arrive without a session (a double
    click on "Add to bag" on a first visit) start two sessions; the browser keeps the cookie
    of one, and whatever went into the other is lost to the shopper."""
    client = client or get_client()
    redis_client = redis_client or get_redis()
    key = _token_key("first", nonce)
    known = redis_client.get(key)
    if isinstance(known, bytes):
        return known.decode()
    lock = redis_client.lock(
        key + ":lock",
        timeout=settings.CHECKOUT_LOCK_SECONDS,
        sleep=_LOCK_POLL_SECONDS,
        blocking_timeout=settings.CHECKOUT_LOCK_WAIT_SECONDS,
    )
    if not lock.acquire():
        raise ProxyError(409, {"session": "busy, try again"}, {"Retry-After": "1"})
    try:
        known = redis_client.get(key)  # made while we waited
        if isinstance(known, bytes):
            return known.decode()
        token = session_start(country=country, client=client)
        if token:
            redis_client.set(key, token, ex=FIRST_SESSION_SECONDS)
        return token
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("first-visit session lock expired before release")


def _remember(token: str | None, body: JsonDict) -> None:
    # Never raises (storefront.locations): a lost record is looked up again by the catalog.
    if token:
        remember_location(token, body)


def _call(call: ProxyCall, token: str | None, client: CentraClient) -> ProxyResult:
    route = call.match.route
    try:
        answer = client.request(
            route.method,
            call.match.path,
            json=call.body,
            token=token,
            server_side=call.trusted,
            headers=call.headers,
        )
    except CentraRejected as e:
        return ProxyResult(
            status=e.status,
            body=e.body,
            token=e.token,
            content=e.content,
            cart_count=cart_count(e.body, e.status),
        )
    _remember(answer.token or token, answer.data)
    return ProxyResult(
        status=answer.status,
        body=answer.data,
        token=answer.token,
        content=answer.content,
        cart_count=cart_count(answer.data, answer.status),
    )


def _refuse_while_paying(token: str, redis_client: redis.Redis) -> None:
    if redis_client.exists(payment_flag_key(token)):
        raise ApiError(409, {"selection": "a payment result is being processed"})


def session_forward(
    *,
    call: ProxyCall,
    client: CentraClient | None = None,
    redis_client: redis.Redis | None = None,
) -> ProxyResult:
    """Make one allowlisted call for a shopper's session, under the session rules above."""
    client = client or get_client()
    route = call.match.route
    token = call.token.value
    if token is None and not call.trusted and not route.template.startswith("countries/"):
        token = session_start(country=call.country or settings.DEFAULT_COUNTRY, client=client)
    if token is None or not route.mutates:
        return _call(call, token, client)

    redis_client = redis_client or get_redis()
    if route.changes_selection:
        _refuse_while_paying(token, redis_client)
    flag = payment_flag_key(token)
    lock_seconds = settings.CHECKOUT_LOCK_SECONDS
    if route.payment_result and not redis_client.set(flag, "1", nx=True, ex=int(lock_seconds)):
        raise ApiError(409, {"payment": "a payment result is already being processed"})
    try:
        lock = redis_client.lock(
            session_lock_key(token),
            timeout=lock_seconds,
            sleep=_LOCK_POLL_SECONDS,
            blocking_timeout=settings.CHECKOUT_LOCK_WAIT_SECONDS,
        )
        if not lock.acquire():
            raise ProxyError(409, {"session": "busy, try again"}, {"Retry-After": "1"})
        try:
            # Checked again under the lock: a payment result may have begun while we waited.
            if route.changes_selection:
                _refuse_while_paying(token, redis_client)
            return _call(call, token, client)
        finally:
            try:
                lock.release()
            except LockError:
                # Held past its timeout; the next mutation may already have it. Nothing to undo.
                log.warning("session lock expired before release (%s)", route.template)
    finally:
        if route.payment_result:
            redis_client.delete(flag)
