"""Where each shopper's Centra session stands: country, market, pricelist and language.

Centra answers every call in the session's own context, so a frontend that holds a token gets
its catalog in the market, pricelist and language of its bag. The BFF answers the catalog from
its cache, so it must know that context without asking Centra each time:

- every selection answer that passes through the BFF (the proxy, the shop's pages) is recorded
  here per token (:func:`remember_location`), for as long as the token cookie lives;
- a token the BFF has not seen (a frontend that started its session at Centra itself, or a
  record that expired) is looked up once server-side with ``GET selection``
  (:func:`session_location`); what Centra answers is recorded, and a token Centra does not know
  (it answers with a new token) is remembered as unknown for a while, so a stream of made-up
  tokens costs one Centra call each at most, never one per request.

Both dialects are read: today's Centra puts ``market``, ``pricelist`` and the ``language``
object inside ``location``; the seeds' older answers have no market or pricelist there (the
caller derives them from the country) and the language object at the top level.

Tokens are credentials: Redis keys hold a hash of the token, never the token itself. Nothing
here raises: a Redis or Centra failure means "not known", and the caller falls back to the
visitor's cookies, the geo header and the default country, as it does for a caller without a
token.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

import redis
from django.conf import settings

from storefront.centra import CentraClient, CentraError, get_client
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

KEY_PREFIX = "sess:loc:"
UNKNOWN = b"-"  # the value stored for a token Centra does not know
UNKNOWN_SECONDS = 300  # how long "Centra does not know this token" is believed
UNREACHABLE_SECONDS = 5  # how long a failed look-up is not tried again for the same token
LOOKUP_READ_TIMEOUT = 3.0  # a catalog read must not wait a checkout call's full timeout


@dataclass(frozen=True)
class SessionLocation:
    country: str | None
    market: str | None  # None: derive it from the country (the seeds' answers carry none)
    pricelist: str | None
    language: str | None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str) and str(value).strip():
        return str(value).strip()
    return None


def read_location(body: Any) -> SessionLocation | None:
    """The session's location from a Centra answer in either dialect; None when the answer
    carries no location (an error, a catalog answer) or no country."""
    if not isinstance(body, dict):
        return None
    location = body.get("location")
    if not isinstance(location, dict):
        return None
    country = _text(location.get("country"))
    if country is None:
        return None
    language = location.get("language")  # today's Centra: {language, name}
    if not isinstance(language, dict):
        language = body.get("language")  # the seeds: at the top level
    code = _text(language.get("language")) if isinstance(language, dict) else None
    if code is None:  # a selection's own language id, when nothing else names one
        selection = body.get("selection")
        code = _text(selection.get("language")) if isinstance(selection, dict) else None
    return SessionLocation(
        country=country.upper(),
        market=_text(location.get("market")),
        pricelist=_text(location.get("pricelist")),
        language=code,
    )


def _key(token: str) -> str:
    return KEY_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:40]


def remember_location(token: str, body: Any, *, r: redis.Redis | None = None) -> None:
    """Record where the session of ``token`` stands after Centra answered ``body``."""
    location = read_location(body)
    if not token or location is None:
        return
    try:
        (r or get_redis()).set(
            _key(token), json.dumps(asdict(location)), ex=int(settings.CHECKOUT_COOKIE_MAX_AGE)
        )
    except redis.RedisError as e:  # the next catalog call looks it up again
        log.warning("session location not recorded: %s", type(e).__name__)


def forget_location(token: str, *, r: redis.Redis | None = None) -> None:
    """Drop what is known of a session (it moved and we could not see where to)."""
    try:
        (r or get_redis()).delete(_key(token))
    except redis.RedisError as e:
        log.warning("session location not forgotten: %s", type(e).__name__)


def _decode(raw: bytes) -> SessionLocation | None:
    try:
        data = json.loads(raw)
        return SessionLocation(**{k: _text(data.get(k)) for k in SessionLocation.__annotations__})
    except (ValueError, TypeError, AttributeError):
        return None


def session_location(
    token: str, *, r: redis.Redis | None = None, client: CentraClient | None = None
) -> SessionLocation | None:
    """Where the session of ``token`` stands, or None when that cannot be known now."""
    r = r or get_redis()
    key = _key(token)
    try:
        raw = r.get(key)
    except redis.RedisError:
        return None  # no Centra call either: a Redis outage must not fan out to Centra
    if isinstance(raw, bytes):
        return None if raw == UNKNOWN else _decode(raw)
    try:
        answer = (client or get_client()).request(
            "GET", "selection", token=token, read_timeout=LOOKUP_READ_TIMEOUT
        )
    except CentraError as e:
        log.info("session location look-up failed: %s", e)
        _mark(r, key, UNREACHABLE_SECONDS)
        return None
    if answer.token != token:  # Centra started a new session: it does not know this token
        _mark(r, key, UNKNOWN_SECONDS)
        return None
    location = read_location(answer.data)
    if location is None:
        _mark(r, key, UNKNOWN_SECONDS)
        return None
    remember_location(token, answer.data, r=r)
    return location


def _mark(r: redis.Redis, key: str, seconds: int) -> None:
    with contextlib.suppress(redis.RedisError):  # best effort: one more look-up at worst
        r.set(key, UNKNOWN, ex=seconds, nx=True)
