"""Writing the catalog in Redis (the key layout is :mod:`catalog.store`'s).

A generation being built carries a TTL on every key until it is published, so a crashed
build leaves nothing behind for long; publishing removes the TTL, moves the pointer and
gives the previous generation ``CATALOG_GRACE_SECONDS`` to live, all in one transaction.
Single-product writes (webhook refreshes) change documents, records, the change log and the
version together, in one script.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import redis

from catalog.documents import ProductDoc
from catalog.store import (
    GenerationMeta,
    encode_rec,
    gen_key,
    generation_keys,
    live_generation,
    market_key,
    pack,
    pack_doc,
    read_int,
)
from storefront.jsonio import JsonDict

WRITE_BATCH = 500


def begin_generation(*, r: redis.Redis, market: str, meta: GenerationMeta, ttl: int) -> int:
    """A new generation number with its meta, registered as the one being built. Every key
    of it expires after ``ttl`` seconds unless published."""
    generation = int(r.incr(market_key(market, "seq")))  # type: ignore[arg-type]
    pipe = r.pipeline(transaction=True)
    pipe.set(gen_key(market, generation, "meta"), pack(meta.as_json()), ex=ttl)
    pipe.set(gen_key(market, generation, "ver"), 0, ex=ttl)
    pipe.set(market_key(market, "building"), generation, ex=ttl)
    pipe.execute()
    return generation


def write_products(
    *,
    r: redis.Redis,
    market: str,
    generation: int,
    products: Iterable[ProductDoc],
    ttl: int,
) -> int:
    """Write a generation's products in bulk, aside (the keys keep their TTL until published).
    Products a single-product write already touched in this generation are left as that write
    made them: it carries newer data than a rebuild that started before it. Returns how many
    were written."""
    keys = [gen_key(market, generation, part) for part in ("docs", "recs", "changes")]
    written = 0
    batch: list[bytes | str] = []

    def flush() -> None:
        nonlocal written
        if batch:
            written += int(r.eval(_BULK_WRITE_SCRIPT, len(keys), *keys, ttl, *batch))  # type: ignore[arg-type]
            batch.clear()

    for product in products:
        batch += [product.id, pack_doc(product.doc), encode_rec(product.rec)]
        if len(batch) >= 3 * WRITE_BATCH:
            flush()
    flush()
    return written


# The bulk write skips touched products in the same step as it writes: read in advance, the
# list would miss a refresh landing while the batch is being packed, and the rebuild's older
# copy would overwrite it.
_BULK_WRITE_SCRIPT = """
local touched = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do touched[id] = true end
local written = 0
for i = 2, #ARGV, 3 do
  if not touched[ARGV[i]] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
    written = written + 1
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return written
"""


def finish_generation(
    *,
    r: redis.Redis,
    market: str,
    generation: int,
    meta: GenerationMeta,
    info: JsonDict,
    ttl: int,
) -> None:
    """Write a built generation's final meta and info (still aside, TTL kept)."""
    pipe = r.pipeline(transaction=True)
    pipe.set(gen_key(market, generation, "meta"), pack(meta.as_json()), ex=ttl)
    info_key = gen_key(market, generation, "info")
    pipe.delete(info_key)
    pipe.hset(info_key, mapping={k: str(v) for k, v in info.items()})
    pipe.expire(info_key, ttl)
    pipe.set(gen_key(market, generation, "ver"), 0, ex=ttl, nx=True)
    pipe.execute()


def write_generation(
    *,
    r: redis.Redis,
    market: str,
    generation: int,
    meta: GenerationMeta,
    products: Iterable[ProductDoc],
    info: JsonDict,
    ttl: int,
) -> int:
    """Products, meta and info of a generation in one call (tests, tools)."""
    written = write_products(r=r, market=market, generation=generation, products=products, ttl=ttl)
    finish_generation(r=r, market=market, generation=generation, meta=meta, info=info, ttl=ttl)
    return written


def publish_generation(
    *, r: redis.Redis, market: str, generation: int, grace_seconds: int
) -> int | None:
    """Make ``generation`` live in one transaction: its keys lose their TTL, the pointer moves,
    the previous generation expires after the grace period. Returns the previous one."""
    current_key = market_key(market, "current")
    building_key = market_key(market, "building")
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(current_key, building_key)
                old = read_int(pipe.get(current_key))  # type: ignore[arg-type]
                building = read_int(pipe.get(building_key))  # type: ignore[arg-type]
                pipe.multi()
                for key in generation_keys(market, generation):
                    pipe.persist(key)
                pipe.set(current_key, generation)
                if building == generation:
                    pipe.delete(building_key)
                if old is not None and old != generation:
                    for key in generation_keys(market, old):
                        pipe.expire(key, max(1, grace_seconds))
                pipe.execute()
                return old
            except redis.WatchError:
                continue


def discard_generation(*, r: redis.Redis, market: str, generation: int) -> None:
    """Drop a generation that will never be published (a failed build). Never the live one."""
    if live_generation(r=r, market=market) == generation:
        return
    building_key = market_key(market, "building")
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(building_key)
                building = read_int(pipe.get(building_key))  # type: ignore[arg-type]
                pipe.multi()
                pipe.delete(*generation_keys(market, generation))
                if building == generation:
                    pipe.delete(building_key)
                pipe.execute()
                return
            except redis.WatchError:
                continue


# Single-product writes: documents, records, the change log and the version move together.
# The meta key stands for the generation: no meta, no generation (expired or never built),
# and nothing is written, so no key is created without the generation's TTL.
_WRITE_SCRIPT = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return -1 end
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local id = ARGV[2 + i * 3]
  local doc = ARGV[3 + i * 3]
  local rec = ARGV[4 + i * 3]
  if doc == '' then
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
  else
    redis.call('HSET', KEYS[2], id, doc)
    redis.call('HSET', KEYS[3], id, rec)
  end
  redis.call('RPUSH', KEYS[5], id)
end
local v = redis.call('INCRBY', KEYS[4], n)
if ttl > 0 then
  for k = 2, 5 do
    if redis.call('EXISTS', KEYS[k]) == 1 then redis.call('PEXPIRE', KEYS[k], ttl) end
  end
end
return v
"""


def _write_products(
    r: redis.Redis, market: str, generation: int, entries: Sequence[tuple[str, bytes, bytes]]
) -> int | None:
    keys = [gen_key(market, generation, part) for part in ("meta", "docs", "recs", "ver")]
    keys.append(gen_key(market, generation, "changes"))
    args: list[Any] = [len(entries)]
    for pid, doc, rec in entries:
        args += [pid, doc, rec]
    version = int(r.eval(_WRITE_SCRIPT, len(keys), *keys, *args))  # type: ignore[arg-type]
    return None if version < 0 else version


def upsert_products(
    *, r: redis.Redis, market: str, generation: int, docs: Sequence[ProductDoc]
) -> int | None:
    """Write products (document and record: every index follows from the record) into a
    generation, live or being built. Returns the new version, None if the generation is gone.
    The documents must be built with the generation's pricelist order (its meta)."""
    if not docs:
        return None
    entries = [(d.id, pack_doc(d.doc), encode_rec(d.rec)) for d in docs]
    return _write_products(r, market, generation, entries)


def remove_products(
    *, r: redis.Redis, market: str, generation: int, product_ids: Sequence[str]
) -> int | None:
    """Remove products (document and record) from a generation. Returns the new version."""
    if not product_ids:
        return None
    return _write_products(r, market, generation, [(str(p), b"", b"") for p in product_ids])
