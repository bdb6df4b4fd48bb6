"""In-process caches: one eviction policy, one lock rule, one registry, one reset.

Every process keeps a few small copies of what it reads often (category trees, built pages,
rendered layouts, the shop's countries). Each is a :class:`LocalCache`: bounded (least
recently used out, and optionally a time to live), safe to share between a gunicorn worker's
threads, and named in one registry, so :func:`clear_all` empties every one of them (tests,
or an operator after a manual Redis change). ``cachetools`` holds the entries; it is not
thread-safe by itself, hence the lock (an LRU read reorders entries).

A cache here only ever saves work: a key must name everything its value depends on (a
generation, an answer's text), so an entry cannot go stale, only unused. Where that is not
possible the cache has a short ``ttl``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import Cache, LRUCache, TTLCache

V = TypeVar("V")

# Every in-process cache by name, as the function that empties it: the LocalCaches, and the
# few whose policy a LocalCache cannot express (e.g. bounded in bytes, see ``register``).
_clears: dict[str, Callable[[], None]] = {}
_registry_lock = threading.Lock()
_missing = object()


class LocalCache(Generic[V]):
    def __init__(self, name: str, maxsize: int, ttl: float | None = None) -> None:
        self.name = name
        self._items: Cache[Hashable, V] = (
            TTLCache(maxsize, ttl) if ttl is not None else LRUCache(maxsize)
        )
        self._lock = threading.Lock()
        register(name, self.clear)

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._items[key] = value
        return value

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        """The cached value, or ``build()``'s (built outside the lock: two threads may both
        build a missing entry; the last one is kept, and both are equal by the key rule)."""
        with self._lock:
            found = self._items.get(key, _missing)
        if found is not _missing:
            return found  # type: ignore[return-value]
        return self.put(key, build())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def register(name: str, clear: Callable[[], None]) -> None:
    """Name a cache that is not a :class:`LocalCache` (say why where it is made), so that
    :func:`clear_all` empties it too."""
    with _registry_lock:
        _clears[name] = clear


def clear_all() -> None:
    """Empty every in-process cache of this process."""
    with _registry_lock:
        clears = list(_clears.values())
    for clear in clears:
        clear()
