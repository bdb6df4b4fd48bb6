"""This process's own copies of what it read from Redis: each market's index
(:class:`SnapshotCache`) and the documents it read last (:class:`LocalDocuments`). What lets a
warm read cost one round trip, and a read answer (``STALE``) while Redis is unreachable.

Both are reset by :func:`storefront.localcache.clear_all`. The snapshots are kept in a
:class:`~storefront.localcache.LocalCache`; the refresh around it (one thread per market
loads, the others wait and take its result; a caller that finds a loader busy answers from
the snapshot it has) is this module's. Every read checks the snapshot against the live
generation and version in Redis, so an entry may be outdated but is never used as current.
The documents are bounded in bytes, which ``LocalCache`` (bounded in entries) cannot express:
they stay an ordered dict of their own, registered for ``clear_all``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

import redis
from django.conf import settings

from catalog import index_blob, index_patch, store
from catalog.metrics import INDEX_UPDATES
from catalog.snapshot import Snapshot
from catalog.store import LoadedGeneration
from storefront import localcache
from storefront.localcache import LocalCache

log = logging.getLogger(__name__)

# Markets times Redis databases a process reads: a handful in production, more in tests.
MAX_SNAPSHOTS = 64


def _share(r: redis.Redis, snap: Snapshot) -> None:
    """Store the index this process had to build from the records (no blob of the live
    version), so the other processes load it instead of building it too."""
    try:
        index_blob.save(r, snap)
    except redis.RedisError:
        log.warning("catalog: could not store the index of %s", snap.market, exc_info=True)


def at_version(snap: Snapshot, changes: store.GenerationChanges) -> Snapshot:
    """``snap`` with a newer version's changes: patched when they are a few changed products
    (:mod:`catalog.index_patch`, milliseconds), else indexed again from the records, the
    changed ones replaced (seconds at 100,000 products)."""
    started = time.perf_counter()
    try:
        patched = index_patch.patched(snap, changes)
    except (LookupError, TypeError, ValueError, AttributeError, ArithmeticError):
        # What a fault in the patch's own logic raises (it only reads and builds dicts,
        # arrays and ints): it costs the slow path, not the reads.
        log.exception("catalog: patching the index of %s failed; indexing it again", snap.market)
        patched = None
    if patched is not None:
        INDEX_UPDATES.labels("patched").observe(time.perf_counter() - started)
        return patched
    recs = snap.stored_records()
    for pid, rec in changes.recs.items():
        if rec is None:
            recs.pop(pid, None)
        else:
            recs[pid] = rec
    indexed = Snapshot(
        LoadedGeneration(snap.market, snap.generation, changes.version, changes.meta, recs)
    )
    INDEX_UPDATES.labels("indexed").observe(time.perf_counter() - started)
    return indexed


class SnapshotCache:
    def __init__(self) -> None:
        # None: the market has no live generation (as good as no entry).
        self._snaps: LocalCache[Snapshot | None] = LocalCache("catalog.snapshots", MAX_SNAPSHOTS)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def cached(self, r: redis.Redis, market: str) -> Snapshot | None:
        return self._snaps.get(f"{store.redis_identity(r)}|{market}")

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def busy(self, r: redis.Redis, market: str) -> bool:
        """Whether a thread of this process is rebuilding the market's index right now."""
        return self._lock(f"{store.redis_identity(r)}|{market}").locked()

    def refresh(self, r: redis.Redis, market: str, seen: Snapshot | None) -> Snapshot | None:
        """The live generation's index, rebuilt if ``seen`` (what the caller had) is stale.
        One thread per market rebuilds; the others wait and take its result."""
        key = f"{store.redis_identity(r)}|{market}"
        with self._lock(key):
            mine = self._snaps.get(key)
            if mine is not None and mine is not seen:
                return mine  # another thread refreshed while we waited
            current = store.live_generation(r=r, market=market)
            if current is None:
                self._snaps.put(key, None)
                return None
            snap: Snapshot | None = None
            if mine is not None and mine.generation == current:
                changes = store.load_changes(
                    r=r, market=market, generation=current, since_version=mine.version
                )
                if changes is not None:
                    if changes.version == mine.version:
                        return mine
                    snap = at_version(mine, changes)
            if snap is None:
                snap, from_blob = index_blob.load(r=r, market=market, generation=current)
                if snap is None:
                    self._snaps.put(key, None)
                    return None
                if not from_blob:
                    _share(r, snap)
            self._snaps.put(key, snap)
            return snap

    def clear(self) -> None:
        self._snaps.clear()


snapshots = SnapshotCache()


class LocalDocuments:
    """The documents this process read last, by Redis, market, generation and product, least
    recently used out beyond ``CATALOG_LOCAL_DOCS_BYTES``: what lets the process answer from
    its own index while Redis is unreachable. A document carries no price (prices are in the
    index records), so an older copy shows at worst older texts."""

    def __init__(self) -> None:
        self._docs: OrderedDict[tuple[str, str, int, str], str] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(
        self,
        r: redis.Redis,
        market: str,
        generation: int,
        ids: Sequence[str],
        docs: Sequence[str | None],
    ) -> None:
        budget = int(settings.CATALOG_LOCAL_DOCS_BYTES)
        where = store.redis_identity(r)
        with self._lock:
            for pid, doc in zip(ids, docs, strict=True):
                if doc is None:
                    continue
                key = (where, market, generation, pid)
                old = self._docs.pop(key, None)
                if old is not None:
                    self._bytes -= len(old)
                self._docs[key] = doc
                self._bytes += len(doc)
            while self._bytes > budget and self._docs:
                _, dropped = self._docs.popitem(last=False)
                self._bytes -= len(dropped)

    def get(
        self, r: redis.Redis, market: str, generation: int, ids: Sequence[str]
    ) -> list[str | None]:
        where = store.redis_identity(r)
        out: list[str | None] = []
        with self._lock:
            for pid in ids:
                key = (where, market, generation, pid)
                doc = self._docs.get(key)
                if doc is not None:
                    self._docs.move_to_end(key)
                out.append(doc)
        return out

    def size(self) -> int:
        with self._lock:
            return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()
            self._bytes = 0


local_docs = LocalDocuments()
localcache.register("catalog.local_docs", local_docs.clear)
