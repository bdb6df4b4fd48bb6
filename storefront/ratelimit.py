"""Fixed-window rate limits kept in Redis, shared by every web process.

One Lua script per check: ``INCR`` and the first ``EXPIRE`` happen atomically, so a counter
can never be left without an expiry (a crash between the two would otherwise lock a client
out for good), and the answer carries the seconds left for ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import redis
from django.core.exceptions import ImproperlyConfigured
from redis.commands.core import Script

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)

_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""
_script: Script | None = None


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds


def parse_rate(text: str) -> Rate | None:
    """``"10/minute"``, ``"100/5minutes"``, ``"3/second"``; empty or ``off`` is no limit."""
    if text.strip().lower() in {"", "off", "none"}:
        return None
    m = _RATE.match(text)
    if not m:
        raise ImproperlyConfigured(f"rate {text!r}: expected e.g. 10/minute")
    limit, multiple, unit = int(m.group(1)), int(m.group(2) or 1), m.group(3).lower()
    if limit < 1 or multiple < 1:
        raise ImproperlyConfigured(f"rate {text!r}: count and window must be positive")
    return Rate(limit=limit, window=multiple * _UNITS[unit])


def _key(scope: str, subject: str) -> str:
    # Hashed: emails and addresses are personal data and have no business in key listings.
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"rl:{scope}:{digest}"


def rate_limit_hit(
    *, redis_client: redis.Redis, scope: str, subject: str, rate: Rate
) -> int | None:
    """Count one attempt. Returns None when allowed, else the seconds until the window ends."""
    global _script
    if _script is None:
        _script = redis_client.register_script(_SCRIPT)
    # EVALSHA, falling back to EVAL once per server (the script cache is per Redis server).
    count, ttl = _script(keys=[_key(scope, subject)], args=[rate.window], client=redis_client)
    if int(count) > rate.limit:
        return max(1, int(ttl))
    return None


def rate_limit_reset(*, redis_client: redis.Redis, scope: str, subject: str) -> None:
    redis_client.delete(_key(scope, subject))


def rate_limit_peek(
    *, redis_client: redis.Redis, scope: str, subject: str, rate: Rate
) -> int | None:
    """Like :func:`rate_limit_hit`, without counting: None while the subject is under its limit,
    else the seconds until its window ends."""
    key = _key(scope, subject)
    pipe = redis_client.pipeline(transaction=False)
    pipe.get(key)
    pipe.ttl(key)
    count, ttl = pipe.execute()
    if count is not None and int(count) >= rate.limit:
        return max(1, int(ttl))
    return None
