"""A generation's built index as one blob in Redis (``cat:{M}:g{N}:index``), so that a process
loads a market's index in one read instead of a pass over every record (issue 16: about 40 µs
a product in Python, 4 s at 100,000 products, paid by every process after every flip).

Who writes it: the rebuild, once its records are written and before it publishes
(:func:`write_for`), so every process finds it at the flip; and a process that had to index
the records itself (a generation written before this module, or one changed by single-product
writes since its blob was made) writes what it built, so the others need not.

The blob is ``MAGIC`` + one zlib stream of parts, each ``marshal`` behind its length: the
version, the parts of :meth:`catalog.snapshot.Snapshot.index_parts`, None. Plain values only
(marshal runs no code, unlike pickle); a blob that does not read is ignored and the records
are indexed instead. The blob holds the index, not the records: those stay in ``recs`` (read
in the same transaction), so Redis does not hold them twice. It states the version it was
built at; a blob of another version than the live one is ignored (the records are indexed,
and a fresh blob written).
A generation without a blob (written before this module) reads as before.
"""

from __future__ import annotations

import logging
import marshal
import struct
import sys
import zlib
from array import array
from collections.abc import Iterator, Mapping
from typing import Any

import redis

from catalog.snapshot import Snapshot, default_order_key
from catalog.store import GenerationMeta, LoadedGeneration, gen_key, read_int, unpack

log = logging.getLogger(__name__)

# The format, the byte order and the sizes of the arrays' items: a blob written by another
# machine kind or format is not read.
MAGIC = b"IDX3" + sys.byteorder[:1].encode() + bytes([array("i").itemsize, array("I").itemsize])
# Fast, and the blob is mostly bitsets and sorted ordinals.
LEVEL = 1
_LENGTH = struct.Struct("<I")
# Records read at a time while the rebuild indexes them.
CHUNK = 2000

# Set the blob only if the generation still exists (its meta) and is at ``version``, with the
# meta's expiry (none once published), so a blob never outlives its generation.
_WRITE_SCRIPT = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
local ver = tonumber(redis.call('GET', KEYS[2]) or '0')
if ver ~= tonumber(ARGV[1]) then return 0 end
if ttl > 0 then
  redis.call('SET', KEYS[3], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[3], ARGV[2])
end
return 1
"""


def dump(snap: Snapshot) -> bytes:
    """The blob: the version, then the index a part at a time, then None; each marshalled on
    its own behind its length (so no copy of the whole index is made, and reading each part
    is one ``marshal.loads`` of a slice), all in one zlib stream."""
    packer = zlib.compressobj(LEVEL)
    out = [MAGIC]

    def put(value: Any) -> None:
        data = marshal.dumps(value)
        out.append(packer.compress(_LENGTH.pack(len(data))))
        out.append(packer.compress(data))

    put(snap.version)
    for part in snap.index_parts():
        put(part)
    put(None)
    out.append(packer.flush())
    return b"".join(out)


def _parts(data: bytes) -> Iterator[Any]:
    view = memoryview(data)
    at = 0
    while at < len(view):
        (length,) = _LENGTH.unpack_from(view, at)
        at += _LENGTH.size
        if at + length > len(view):
            raise ValueError("a part runs past the blob's end")
        # Only we write this key, next to the records the answers come from anyway; marshal
        # builds plain values and runs nothing (code objects it could build are never called).
        yield marshal.loads(view[at : at + length])  # noqa: S302
        at += length


def _state_of(blob: bytes | None, version: int) -> dict[str, Any] | None:
    if not blob or not blob.startswith(MAGIC):
        return None
    state: dict[str, Any] = {"postings": {}, "named_postings": {}}
    try:
        parts = _parts(zlib.decompress(blob[len(MAGIC) :]))
        if next(parts) != version:
            return None
        for part in parts:
            if part is None:
                return state
            name, value = part
            if name in ("postings", "named_postings"):
                lang, per = value
                state[name][lang] = per
            else:
                state[name] = value
    except (ValueError, EOFError, TypeError, StopIteration, zlib.error, struct.error):
        pass
    log.warning("catalog: an index blob does not read; indexing the records")
    return None


def save(r: redis.Redis, snap: Snapshot) -> bool:
    """Store ``snap``'s index for its generation, if that is still at its version."""
    keys = [gen_key(snap.market, snap.generation, part) for part in ("meta", "ver", "index")]
    done = r.eval(_WRITE_SCRIPT, len(keys), *keys, snap.version, dump(snap))  # type: ignore[arg-type]
    return bool(done)


def load(*, r: redis.Redis, market: str, generation: int) -> tuple[Snapshot | None, bool]:
    """The generation's index, in one transaction: from its blob when there is one of the
    live version, else indexed from the records. Returns (snapshot, whether from the blob);
    None when the generation is gone."""
    pipe = r.pipeline(transaction=True)
    pipe.get(gen_key(market, generation, "ver"))
    pipe.get(gen_key(market, generation, "meta"))
    pipe.hgetall(gen_key(market, generation, "recs"))
    pipe.get(gen_key(market, generation, "index"))
    ver, meta_raw, recs_raw, blob = pipe.execute()
    if meta_raw is None:
        return None, False
    version = read_int(ver) or 0
    loaded = LoadedGeneration(
        market=market,
        generation=generation,
        version=version,
        meta=GenerationMeta.from_json(unpack(meta_raw)),
        recs={k.decode(): v for k, v in recs_raw.items()},
    )
    del recs_raw
    state = _state_of(blob, version)
    del blob
    if state is not None:
        ids = state.get("ids")
        if isinstance(ids, list) and len(ids) == len(loaded.recs):
            try:
                return Snapshot(loaded, state), True
            except (KeyError, TypeError, ValueError, IndexError):
                log.warning("catalog: the index blob of %s g%s does not fit", market, generation)
    return Snapshot(loaded), False


class _RecordsInChunks(Mapping[str, bytes]):
    """A generation's stored records, read from Redis a chunk at a time in the default order
    (the order a snapshot indexes them in), so the rebuild's memory holds one chunk of them,
    not the market's."""

    def __init__(self, r: redis.Redis, market: str, generation: int, ids: list[str]) -> None:
        self._r = r
        self._key = gen_key(market, generation, "recs")
        self._ids = sorted(ids, key=default_order_key)
        self._at = {pid: i for i, pid in enumerate(self._ids)}
        self._chunk: dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __getitem__(self, pid: str) -> bytes:
        found = self._chunk.get(pid)
        if found is None:
            start = self._at[pid]
            ids = self._ids[start : start + CHUNK]
            raws = self._r.hmget(self._key, ids)
            self._chunk = {i: raw for i, raw in zip(ids, raws, strict=True) if raw is not None}  # type: ignore[arg-type]
            found = self._chunk.get(pid)
            if found is None:
                raise KeyError(pid)  # removed meanwhile: the version moved, the blob is moot
        return found


def write_for(*, r: redis.Redis, market: str, generation: int) -> bool:
    """Index a generation from its records and store the blob (the rebuild, before it
    publishes), reading the records a chunk at a time. False when the generation is gone or
    changed meanwhile."""
    pipe = r.pipeline(transaction=True)
    pipe.get(gen_key(market, generation, "ver"))
    pipe.get(gen_key(market, generation, "meta"))
    pipe.hkeys(gen_key(market, generation, "recs"))
    ver, meta_raw, ids_raw = pipe.execute()
    if meta_raw is None:
        return False
    ids = [raw.decode() for raw in ids_raw]
    loaded = LoadedGeneration(
        market=market,
        generation=generation,
        version=read_int(ver) or 0,
        meta=GenerationMeta.from_json(unpack(meta_raw)),
        recs=_RecordsInChunks(r, market, generation, ids),
    )
    try:
        snap = Snapshot(loaded, keep_records=False)
    except KeyError:
        return False
    return save(r, snap)
