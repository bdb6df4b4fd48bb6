"""The catalog in Redis: generations of keys per market, a pointer to the live one.

Keys (``{M}`` is the market id as a Redis Cluster hash tag, so a market's keys share a slot
and can be changed together in one MULTI):

``cat:{M}:current``          the live generation number
``cat:{M}:seq``              the last generation number handed out
``cat:{M}:building``         the generation a rebuild is writing (expires with it)
``cat:{M}:g{N}:meta``        zlib JSON: languages, pricelists (order, price formats), product
                             key order, categories per language, Centra's facet order, data
                             and value shape, the shape of small related products
``cat:{M}:g{N}:docs``        hash: product id -> zlib JSON document (neutral fields + text per
                             language; no prices)
``cat:{M}:g{N}:recs``        hash: product id -> zlib JSON index record (uri, style, category
                             positions, facet values, stock per item, prices per pricelist,
                             dates, media, relations, normalised search words per language)
``cat:{M}:g{N}:info``        hash: products, categories, built_at, build_seconds
``cat:{M}:g{N}:ver``         version: bumped once per single-product write
``cat:{M}:g{N}:changes``     list: the product id of every single-product write, in order
                             (entry i is what version i+1 changed)
``cat:shop``                 zlib JSON: countries (with market and pricelist), languages,
                             markets, pricelists
``cat:upstream``             present while Centra is known to be unreachable (expires)

The records are the indexes: readers load them once per generation (and only the changed
ones per version) and derive the inverted forms in process (:mod:`catalog.query`), so a
warm read costs one round trip: the freshness check and the documents in one MULTI.

A generation being built carries a TTL on every key until it is published, so a crashed
build leaves nothing behind for long; publishing removes the TTL, moves the pointer and
gives the previous generation ``CATALOG_GRACE_SECONDS`` to live, all in one transaction.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from catalog.documents import ProductDoc, ShopMeta

JsonDict = dict[str, Any]
GENERATION_PARTS = ("meta", "docs", "recs", "info", "ver", "changes")
SHOP_KEY = "cat:shop"
UPSTREAM_KEY = "cat:upstream"
# While Centra is down every failing call refreshes this; with no calls for this long the
# flag lapses, so a forgotten failure cannot mark answers STALE forever.
UPSTREAM_DOWN_SECONDS = 300
# How long a process trusts its copy of the upstream flag and the shop meta.
LOCAL_TTL_SECONDS = 1.0
WRITE_BATCH = 500


def market_key(market: str, part: str) -> str:
    return f"cat:{{{market}}}:{part}"


def gen_key(market: str, generation: int, part: str) -> str:
    return f"cat:{{{market}}}:g{generation}:{part}"


def generation_keys(market: str, generation: int) -> list[str]:
    return [gen_key(market, generation, part) for part in GENERATION_PARTS]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def pack(value: Any) -> bytes:
    return zlib.compress(_dumps(value), 6)


def unpack(raw: bytes) -> Any:
    return json.loads(zlib.decompress(raw))


def pack_doc(doc: str) -> bytes:
    return zlib.compress(doc.encode(), 6)


def unpack_doc(raw: bytes) -> str:
    return zlib.decompress(raw).decode()


def encode_rec(rec: JsonDict) -> bytes:
    return zlib.compress(_dumps(rec), 6)


def decode_rec(raw: bytes) -> JsonDict:
    rec: JsonDict = json.loads(zlib.decompress(raw))
    return rec


def _int(raw: bytes | str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


# -- generation metadata -----------------------------------------------------------------------


@dataclass
class GenerationMeta:
    languages: list[str]
    pricelists: list[str]
    currency_formats: dict[str, dict[str, str]]
    keys: list[str] = field(default_factory=list)  # Centra's product key order
    categories: dict[str, list[JsonDict]] = field(default_factory=dict)  # language -> list
    # language -> field -> [[value, data(, fields we do not compute)], ...] in Centra's order
    # (unfiltered request)
    facets: dict[str, dict[str, list[list[Any]]]] = field(default_factory=dict)
    # field -> the keys of one of its values in Centra's order, e.g. value, count, filterCount,
    # totalCount, data (today's Centra) or without filterCount (the seeds); empty: not seen.
    facet_keys: dict[str, list[str]] = field(default_factory=dict)
    # The keys of a small related product (relatedProducts without relatedProducts: true) in
    # Centra's order: product, relation, media (seeds) or product, available, media, relation
    # (today's Centra); empty: not seen.
    related_keys: list[str] = field(default_factory=list)

    def as_json(self) -> JsonDict:
        return {
            "languages": self.languages,
            "pricelists": self.pricelists,
            "currencyFormats": self.currency_formats,
            "keys": self.keys,
            "categories": self.categories,
            "facets": self.facets,
            "facetKeys": self.facet_keys,
            "relatedKeys": self.related_keys,
        }

    @classmethod
    def from_json(cls, data: JsonDict) -> GenerationMeta:
        return cls(
            languages=list(data["languages"]),
            pricelists=list(data["pricelists"]),
            currency_formats=dict(data["currencyFormats"]),
            keys=list(data.get("keys") or []),
            categories=dict(data.get("categories") or {}),
            facets=dict(data.get("facets") or {}),
            facet_keys=dict(data.get("facetKeys") or {}),
            related_keys=list(data.get("relatedKeys") or []),
        )


# -- writing a generation ----------------------------------------------------------------------


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


def building_generation(*, r: redis.Redis, market: str) -> int | None:
    return _int(r.get(market_key(market, "building")))  # type: ignore[arg-type]


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
                old = _int(pipe.get(current_key))  # type: ignore[arg-type]
                building = _int(pipe.get(building_key))  # type: ignore[arg-type]
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
                building = _int(pipe.get(building_key))  # type: ignore[arg-type]
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


# -- reading -----------------------------------------------------------------------------------


def live_generation(*, r: redis.Redis, market: str) -> int | None:
    return _int(r.get(market_key(market, "current")))  # type: ignore[arg-type]


def load_meta(*, r: redis.Redis, market: str, generation: int) -> GenerationMeta | None:
    raw = r.get(gen_key(market, generation, "meta"))
    return None if raw is None else GenerationMeta.from_json(unpack(raw))  # type: ignore[arg-type]


@dataclass
class LoadedGeneration:
    market: str
    generation: int
    version: int
    meta: GenerationMeta
    recs: dict[str, JsonDict]


def load_generation(*, r: redis.Redis, market: str, generation: int) -> LoadedGeneration | None:
    """Everything the query engine needs of a generation, read in one transaction."""
    pipe = r.pipeline(transaction=True)
    pipe.get(gen_key(market, generation, "ver"))
    pipe.get(gen_key(market, generation, "meta"))
    pipe.hgetall(gen_key(market, generation, "recs"))
    ver, meta_raw, recs_raw = pipe.execute()
    if meta_raw is None:
        return None
    return LoadedGeneration(
        market=market,
        generation=generation,
        version=_int(ver) or 0,
        meta=GenerationMeta.from_json(unpack(meta_raw)),
        recs={k.decode(): decode_rec(v) for k, v in recs_raw.items()},
    )


@dataclass
class GenerationChanges:
    version: int
    meta: GenerationMeta
    recs: dict[str, JsonDict | None]  # None: removed


def load_changes(
    *, r: redis.Redis, market: str, generation: int, since_version: int
) -> GenerationChanges | None:
    """The records changed after ``since_version`` (two round trips: ids, then records)."""
    pipe = r.pipeline(transaction=True)
    pipe.get(gen_key(market, generation, "ver"))
    pipe.get(gen_key(market, generation, "meta"))
    pipe.lrange(gen_key(market, generation, "changes"), since_version, -1)
    ver, meta_raw, ids_raw = pipe.execute()
    if meta_raw is None or ver is None:
        return None
    version = int(ver)
    ids = list(dict.fromkeys(raw.decode() for raw in ids_raw[: max(0, version - since_version)]))
    recs: dict[str, JsonDict | None] = {}
    if ids:
        raws = r.hmget(gen_key(market, generation, "recs"), ids)
        for pid, raw in zip(ids, raws, strict=True):  # type: ignore[arg-type]
            recs[pid] = None if raw is None else decode_rec(raw)
    return GenerationChanges(
        version=version, meta=GenerationMeta.from_json(unpack(meta_raw)), recs=recs
    )


def read_fresh(
    *, r: redis.Redis, market: str, generation: int, version: int, doc_ids: Sequence[str]
) -> list[str | None] | None:
    """The documents of ``doc_ids`` if ``generation``/``version`` is still what is live: the
    freshness check and the read in one round trip. None when the caller's copy is stale."""
    check = [market_key(market, "current"), gen_key(market, generation, "ver")]
    if not doc_ids:
        current, ver = r.mget(check)  # type: ignore[misc]
        return [] if _int(current) == generation and _int(ver) == version else None
    pipe = r.pipeline(transaction=True)
    pipe.mget(check)
    pipe.hmget(gen_key(market, generation, "docs"), list(doc_ids))
    (current, ver), raws = pipe.execute()
    if _int(current) != generation or _int(ver) != version:
        return None
    return [None if raw is None else unpack_doc(raw) for raw in raws]


def read_docs(
    *, r: redis.Redis, market: str, generation: int, product_ids: Sequence[str]
) -> dict[str, str]:
    """Documents by id from any generation (tests, tools); absent ids are left out."""
    if not product_ids:
        return {}
    raws = r.hmget(gen_key(market, generation, "docs"), list(product_ids))
    return {
        pid: unpack_doc(raw)
        for pid, raw in zip(product_ids, raws, strict=True)  # type: ignore[arg-type]
        if raw is not None
    }


def read_recs(
    *, r: redis.Redis, market: str, generation: int, product_ids: Sequence[str]
) -> dict[str, JsonDict]:
    if not product_ids:
        return {}
    raws = r.hmget(gen_key(market, generation, "recs"), list(product_ids))
    return {
        pid: decode_rec(raw)
        for pid, raw in zip(product_ids, raws, strict=True)  # type: ignore[arg-type]
        if raw is not None
    }


def market_status(*, r: redis.Redis, market: str) -> JsonDict:
    """The live generation of a market and what it holds; ``generation`` None when cold."""
    pipe = r.pipeline(transaction=False)
    pipe.get(market_key(market, "current"))
    pipe.get(market_key(market, "building"))
    current, building = pipe.execute()
    generation = _int(current)
    out: JsonDict = {
        "market": market,
        "generation": generation,
        "building": _int(building),
        "products": None,
        "categories": None,
        "built_at": None,
        "build_seconds": None,
        "version": None,
    }
    if generation is None:
        return out
    pipe = r.pipeline(transaction=False)
    pipe.hgetall(gen_key(market, generation, "info"))
    pipe.get(gen_key(market, generation, "ver"))
    info_raw, ver = pipe.execute()
    info = {k.decode(): v.decode() for k, v in info_raw.items()}
    out["products"] = _int(info.get("products"))
    out["categories"] = _int(info.get("categories"))
    out["built_at"] = info.get("built_at")
    seconds = info.get("build_seconds")
    out["build_seconds"] = float(seconds) if seconds else None
    out["version"] = _int(ver) or 0
    return out


# -- shop meta and the upstream flag -----------------------------------------------------------


def redis_identity(r: redis.Redis) -> str:
    """Which Redis database a client talks to: what this process remembers from Redis is
    remembered per database (tests use several; production one)."""
    kwargs = r.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    return f"{where}/{kwargs.get('db', 0)}"


class _LocalValue:
    """A value this process read from Redis, trusted for ``LOCAL_TTL_SECONDS``."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, Any]] = {}

    def get(self, r: redis.Redis) -> tuple[bool, Any]:
        at, value = self._values.get(redis_identity(r), (-1e18, None))
        return (time.monotonic() - at < LOCAL_TTL_SECONDS, value)

    def set(self, r: redis.Redis, value: Any) -> None:
        self._values[redis_identity(r)] = (time.monotonic(), value)

    def forget(self) -> None:
        self._values.clear()


_upstream = _LocalValue()
_shop = _LocalValue()


def mark_upstream(*, r: redis.Redis, ok: bool) -> None:
    """Record whether Centra answered. Reads answer ``X-Cache: STALE`` while it is down."""
    if ok:
        r.delete(UPSTREAM_KEY)
    else:
        r.set(UPSTREAM_KEY, str(int(time.time())), ex=UPSTREAM_DOWN_SECONDS)
    _upstream.set(r, not ok)


def upstream_down(*, r: redis.Redis) -> bool:
    fresh, value = _upstream.get(r)
    if fresh:
        return bool(value)
    down = bool(r.exists(UPSTREAM_KEY))
    _upstream.set(r, down)
    return down


def save_shop_meta(*, r: redis.Redis, shop: ShopMeta) -> None:
    r.set(SHOP_KEY, pack(shop.as_json()))
    _shop.set(r, shop)


def load_shop_meta(*, r: redis.Redis) -> ShopMeta | None:
    fresh, value = _shop.get(r)
    if fresh and value is not None:
        return value
    raw = r.get(SHOP_KEY)
    shop = None if raw is None else ShopMeta.from_json(unpack(raw))  # type: ignore[arg-type]
    _shop.set(r, shop)
    return shop


def forget_local_state() -> None:
    """Drop this process's copies of the upstream flag and the shop meta (tests, tools)."""
    _upstream.forget()
    _shop.forget()
