"""The catalog in Redis: generations of keys per market, a pointer to the live one; the key
layout, the encodings, and reading. Writing is :mod:`catalog.store_writes`; the shop set-up
and Centra's up/down flag are :mod:`catalog.centra_state`.

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
``cat:{M}:g{N}:index``       the built index of one version (:mod:`catalog.index_blob`):
                             what a process loads instead of indexing the records itself
``cat:shop``                 zlib JSON: countries (with market and pricelist), languages,
                             markets, pricelists
``cat:upstream``             present while Centra is known to be unreachable (expires)

The records are the indexes: readers load them once per generation (and only the changed
ones per version) and derive the inverted forms in process (:mod:`catalog.snapshot`), so a
warm read costs one round trip: the freshness check and the documents in one MULTI. The
derived forms of a version are stored too (``index``, :mod:`catalog.index_blob`), built once
by the rebuild, so that a process loads them in one read instead of deriving them itself.

A generation being built carries a TTL on every key until it is published, so a crashed
build leaves nothing behind for long; publishing removes the TTL, moves the pointer and
gives the previous generation ``CATALOG_GRACE_SECONDS`` to live, all in one transaction.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from catalog.records import IndexRecord
from storefront.jsonio import JsonDict

GENERATION_PARTS = ("meta", "docs", "recs", "info", "ver", "changes", "index")


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


def encode_rec(rec: IndexRecord) -> bytes:
    """A record in its compact stored form (:meth:`IndexRecord.to_stored`)."""
    return zlib.compress(_dumps(rec.to_stored()), 6)


def decode_rec(raw: bytes) -> IndexRecord:
    return IndexRecord.from_stored(json.loads(zlib.decompress(raw)))


def read_int(raw: bytes | str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def redis_identity(r: redis.Redis) -> str:
    """Which Redis database a client talks to: what this process remembers from Redis is
    remembered per database (tests use several; production one)."""
    kwargs = r.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    return f"{where}/{kwargs.get('db', 0)}"


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


# -- reading -----------------------------------------------------------------------------------


def live_generation(*, r: redis.Redis, market: str) -> int | None:
    return read_int(r.get(market_key(market, "current")))  # type: ignore[arg-type]


def building_generation(*, r: redis.Redis, market: str) -> int | None:
    return read_int(r.get(market_key(market, "building")))  # type: ignore[arg-type]


def load_meta(*, r: redis.Redis, market: str, generation: int) -> GenerationMeta | None:
    raw = r.get(gen_key(market, generation, "meta"))
    return None if raw is None else GenerationMeta.from_json(unpack(raw))  # type: ignore[arg-type]


@dataclass
class LoadedGeneration:
    market: str
    generation: int
    version: int
    meta: GenerationMeta
    # product id -> record, stored (zlib JSON as in Redis: :func:`decode_rec`) or decoded
    recs: Mapping[str, IndexRecord | bytes]


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
        version=read_int(ver) or 0,
        meta=GenerationMeta.from_json(unpack(meta_raw)),
        # Kept as stored: the snapshot decodes each once while indexing it and keeps the
        # stored form (catalog.index_build).
        recs={k.decode(): v for k, v in recs_raw.items()},
    )


@dataclass
class GenerationChanges:
    version: int
    meta: GenerationMeta
    recs: dict[str, IndexRecord | None]  # None: removed


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
    recs: dict[str, IndexRecord | None] = {}
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
        return [] if read_int(current) == generation and read_int(ver) == version else None
    pipe = r.pipeline(transaction=True)
    pipe.mget(check)
    pipe.hmget(gen_key(market, generation, "docs"), list(doc_ids))
    (current, ver), raws = pipe.execute()
    if read_int(current) != generation or read_int(ver) != version:
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
) -> dict[str, IndexRecord]:
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
    generation = read_int(current)
    out: JsonDict = {
        "market": market,
        "generation": generation,
        "building": read_int(building),
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
    out["products"] = read_int(info.get("products"))
    out["categories"] = read_int(info.get("categories"))
    out["built_at"] = info.get("built_at")
    seconds = info.get("build_seconds")
    out["build_seconds"] = float(seconds) if seconds else None
    out["version"] = read_int(ver) or 0
    return out
