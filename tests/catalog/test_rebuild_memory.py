"""What keeps the rebuild's memory bounded by a page, not the catalog (issue 16): the ids seen
kept as ints and checked at the end, and the index blob sent to Redis in pieces."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from catalog import index_blob, store
from catalog.rebuild import CatalogMismatch, SeenIds, rebuild_market
from catalog.snapshot import Snapshot
from catalog.store import gen_key, pack
from tests.catalog.altered_centra import AlteredCentra
from tests.catalog.test_index_blob import generation
from tests.conftest import SandboxProcess


def seen(*ids: str) -> SeenIds:
    out = SeenIds()
    for pid in ids:
        out.add(pid)
    return out


def test_seen_ids_count_every_id_and_find_none_repeated() -> None:
    ids = seen("10", "2", "0", "007", "abc-1", "99999999999999999999")
    assert len(ids) == 6
    assert ids.repeated() is None


@pytest.mark.parametrize(
    ("ids", "repeated"),
    [
        (("5", "12", "5"), "5"),
        (("x", "1", "x"), "x"),
        # Not numbers as Centra writes them: kept as text, so "07" is not "7".
        (("07", "7", "07"), "07"),
    ],
)
def test_seen_ids_find_an_id_that_came_twice(ids: tuple[str, ...], repeated: str) -> None:
    assert seen(*ids).repeated() == repeated
    assert seen("07", "7").repeated() is None


def blob_keys(r: redis.Redis, market: str) -> list[bytes]:
    return sorted(k for k in r.scan_iter(f"cat:{{{market}}}:g1:index*"))


def test_the_blob_is_sent_in_pieces_and_placed_whole(
    scratch_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a generation being built (its meta expiring) and pieces of 100 bytes
    loaded = generation()
    market = loaded.market
    scratch_redis.set(gen_key(market, 1, "meta"), pack(loaded.meta.as_json()), ex=300)
    scratch_redis.set(gen_key(market, 1, "ver"), loaded.version, ex=300)
    monkeypatch.setattr(index_blob, "PIECE_BYTES", 100)
    snap = Snapshot(loaded)
    # When its index is saved
    assert index_blob.save(scratch_redis, snap)
    # Then the blob is the whole of it, under its own key only, expiring with the generation
    assert blob_keys(scratch_redis, market) == [gen_key(market, 1, "index").encode()]
    assert scratch_redis.get(gen_key(market, 1, "index")) == index_blob.dump(snap)
    assert 0 < int(scratch_redis.ttl(gen_key(market, 1, "index"))) <= 300  # type: ignore[arg-type]
    # And once the generation moved to another version, a save places nothing, leaves nothing
    scratch_redis.set(gen_key(market, 1, "ver"), loaded.version + 1, ex=300)
    scratch_redis.delete(gen_key(market, 1, "index"))
    assert not index_blob.save(scratch_redis, snap)
    assert blob_keys(scratch_redis, market) == []


class RepeatingCentra(AlteredCentra):
    """Centra whose second page of the first language names a product of the first page
    again, in place of one of its own (a product moved between the page requests)."""

    first_page: list[dict[str, Any]] | None = None

    def alter(self, path: str, json: dict[str, Any], data: dict[str, Any]) -> None:
        if path == "products" and json and json.get("relatedProducts"):
            if not json.get("skipFirst"):
                self.first_page = list(data["products"])
            elif self.first_page and json["skipFirst"] == json["limit"]:
                data["products"][0] = self.first_page[0]


def test_a_product_named_twice_is_never_published(
    scratch_redis: redis.Redis, sandbox: SandboxProcess, settings: Any
) -> None:
    settings.CATALOG_PAGE_SIZE = 20
    client = RepeatingCentra(sandbox.api, sandbox.secret)
    with pytest.raises(CatalogMismatch, match="twice"):
        rebuild_market(market="3", client=client, r=scratch_redis)
    assert store.live_generation(r=scratch_redis, market="3") is None
    assert not list(scratch_redis.scan_iter("cat:{3}:g*"))
