"""A generation's built index as one blob in Redis (``cat:{M}:g{N}:index``), so that a process
loads a market's index in one read instead of a pass over every record (issue 16: about 40 µs
a product in Python, 4 s at 100,000 products, paid by every process after every flip).

Who writes it: the rebuild, once its records are written and before it publishes
(:func:`write_for`), so every process finds it at the flip; and a process that had to index
the records itself (a generation written before this module, or one changed by single-product
writes since its blob was made) writes what it built, so the others need not.

The blob is ``MAGIC`` + one zstd frame of parts, each ``marshal`` behind its length: the
version, the parts of :meth:`catalog.snapshot.Snapshot.index_parts`, None. Plain values only
(marshal runs no code, unlike pickle); a blob that does not read is ignored and the records
are indexed instead. The blob holds the index, not the records: those stay in ``recs`` (read
in the same transaction), so Redis does not hold them twice. It states the version it was
built at; a blob of another version than the live one is ignored (the records are indexed,
and a fresh blob written).
A generation without a blob (written before this module) reads as before.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import struct
import sys
import uuid
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from typing import Any

import redis
import zstandard

from catalog.snapshot import Snapshot, default_order_key
from catalog.store import GenerationMeta, LoadedGeneration, gen_key, read_int, unpack

log = logging.getLogger(__name__)

# The format, the byte order and the sizes of the arrays' items: a blob written by another
# machine kind or format is not read.
MAGIC = b"IDX4" + sys.byteorder[:1].encode() + bytes([array("q").itemsize, array("I").itemsize])
# zstd, not zlib: at 100,000 products the blob (43 MB of parts) unpacks in 0.06 s instead of
# 0.40 s (most of a process's index load), packs in 0.17 s instead of 0.62, and is smaller
# (12 MB against 15).
LEVEL = 3
_LENGTH = struct.Struct("<I")
# Records read at a time while the rebuild indexes them.
CHUNK = 2000
# The blob is sent in pieces of about this size, appended to a key of its own and moved into
# place at the end (:func:`save`): the writer never holds the whole blob (14 MB at 100,000
# products), let alone twice (its pieces, then one string of them).
PIECE_BYTES = 1 << 20
# A blob half sent (its writer died) expires on its own.
PIECES_TTL_SECONDS = 600

# Move the sent blob (KEYS[4]) into place only if the generation still exists (its meta) and
# is at ``version``, with the meta's expiry (none once published), so a blob never outlives
# its generation; else drop it.
_PLACE_SCRIPT = """
local ttl = redis.call('PTTL', KEYS[1])
local ver = tonumber(redis.call('GET', KEYS[2]) or '0')
if ttl == -2 or ver ~= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[4])
  return 0
end
if redis.call('EXISTS', KEYS[4]) == 0 then return 0 end
redis.call('RENAME', KEYS[4], KEYS[3])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[3], ttl)
else
  redis.call('PERSIST', KEYS[3])
end
return 1
"""


def _values(snap: Snapshot) -> Iterator[Any]:
    yield snap.version
    yield from snap.index_parts()
    yield None


def blob_pieces(snap: Snapshot) -> Iterator[bytes]:
    """The blob in order, a piece at a time: the version, then the index a part at a time,
    then None; each marshalled on its own behind its length (so no copy of the whole index
    is made, and reading each part is one ``marshal.loads`` of a slice), all in one zstd
    frame."""
    packer = zstandard.ZstdCompressor(level=LEVEL).compressobj()
    yield MAGIC
    for value in _values(snap):
        data = marshal.dumps(value)
        yield packer.compress(_LENGTH.pack(len(data)))
        yield packer.compress(data)
        del data  # not kept while the caller sends the pieces
    yield packer.flush()


def dump(snap: Snapshot) -> bytes:
    """The whole blob as one string (tests; :func:`save` sends it in pieces)."""
    return b"".join(blob_pieces(snap))


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
        parts = _parts(zstandard.ZstdDecompressor().decompressobj().decompress(blob[len(MAGIC) :]))
        if next(parts) != version:
            return None
        for part in parts:
            if part is None:
                return state
            name, value = part
            if name in ("postings", "named_postings"):  # a language in several parts
                lang, per = value
                state[name].setdefault(lang, {}).update(per)
            else:
                state[name] = value
    except (ValueError, EOFError, TypeError, StopIteration, zstandard.ZstdError, struct.error):
        pass
    log.warning("catalog: an index blob does not read; indexing the records")
    return None


def save(r: redis.Redis, snap: Snapshot) -> bool:
    """Store ``snap``'s index for its generation, if that is still at its version: sent in
    pieces to a key of this writer's own (two writers of one generation do not mix), then
    moved into place in one step, so a reader sees the whole blob or none."""
    if len(snap.ordinal) != snap.size:
        # A patched version with a product removed keeps its ordinal (catalog.index_patch):
        # a blob of it would read back with that product. Only indexed snapshots are stored.
        return False
    keys = [gen_key(snap.market, snap.generation, part) for part in ("meta", "ver", "index")]
    sent = gen_key(snap.market, snap.generation, f"index-sending-{uuid.uuid4().hex}")
    try:
        _send(r, sent, blob_pieces(snap))
        done = r.eval(_PLACE_SCRIPT, 4, *keys, sent, snap.version)  # type: ignore[arg-type]
    except BaseException:
        _drop(r, sent)
        raise
    return bool(done)


def _send(r: redis.Redis, key: str, pieces: Iterator[bytes]) -> None:
    """Append ``pieces`` to ``key``, about ``PIECE_BYTES`` at a time, keeping it expiring."""
    waiting: list[bytes] = []
    size = 0

    def flush() -> None:
        nonlocal size
        pipe = r.pipeline(transaction=False)
        pipe.append(key, b"".join(waiting))
        pipe.expire(key, PIECES_TTL_SECONDS)
        pipe.execute()
        waiting.clear()
        size = 0

    for piece in pieces:
        waiting.append(piece)
        size += len(piece)
        if size >= PIECE_BYTES:
            flush()
    flush()


def _drop(r: redis.Redis, key: str) -> None:
    with contextlib.suppress(redis.RedisError):  # it expires on its own
        r.delete(key)


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
        self._chunk: dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __getitem__(self, pid: str) -> bytes:
        found = self._chunk.get(pid)
        if found is None:
            # Found by bisection, not a dict of every id (5 MB at 100,000 products).
            start = bisect_left(self._ids, default_order_key(pid), key=default_order_key)
            if start == len(self._ids) or self._ids[start] != pid:
                raise KeyError(pid)
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
    del ids_raw  # not kept while the index is built
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
