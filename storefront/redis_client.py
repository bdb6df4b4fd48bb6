"""The Redis connection for the current settings, one pool per process."""

from __future__ import annotations

import threading

import redis
from django.conf import settings

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def get_redis() -> redis.Redis:
    """A client with short timeouts: a Redis outage must turn into a quick error, not a hang."""
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                client = redis.Redis.from_url(
                    url,
                    socket_connect_timeout=1.0,
                    socket_timeout=2.0,
                    health_check_interval=15,
                    max_connections=64,
                )
                _clients[url] = client
    return client
