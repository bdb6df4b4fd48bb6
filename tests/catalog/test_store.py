"""The store: generations aside and the atomic flip, TTLs of a build, single-product writes
updating every index, and memory that does not grow with pricelists."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import redis
from django.test import Client

from catalog import local_index, store, store_writes
from catalog.documents import merge_product
from catalog.rebuild import rebuild_market
from catalog.store import GenerationMeta
from storefront import embedded
from storefront.centra import CentraClient
from tests.catalog.cache_fixtures import trusted
from tests.catalog.payloads import fetch_payloads
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.support import without_token


def bff(client: Client, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    if body is None:
        resp = client.get(
            f"/api/checkout/{path}",
            {"market": "1", "pricelist": "1", "language": "en"},
            **trusted(),
        )
    else:
        body = {"market": "1", "pricelist": "1", "language": "en", **body}
        resp = client.post(
            f"/api/checkout/{path}", json.dumps(body), content_type="application/json", **trusted()
        )
    return resp.status_code, without_token(resp.json())


@pytest.mark.django_db
def test_a_reader_during_a_build_sees_the_old_generation_completely(
    scratch_redis: redis.Redis, settings: Any
) -> None:
    settings.CATALOG_PAGE_SIZE = 40
    settings.CATALOG_GRACE_SECONDS = 60
    old = rebuild_market(market="1", r=scratch_redis)
    client = Client()
    listing = {"limit": 500, "sortOrder": [{"field": "uri"}]}
    before = bff(client, "products", listing)
    checks: list[int] = []

    def during(done: int, total: int) -> None:
        # The new generation is being written beside the live one
        building = store.building_generation(r=scratch_redis, market="1")
        assert building is not None
        assert building != old.generation
        assert store.live_generation(r=scratch_redis, market="1") == old.generation
        for key in store.generation_keys("1", building):
            if scratch_redis.exists(key):
                assert 0 < int(scratch_redis.ttl(key)) <= settings.CATALOG_REBUILD_LOCK_SECONDS
        # and readers still get the old one, whole
        assert bff(client, "products", listing) == before
        checks.append(done)

    new = rebuild_market(market="1", r=scratch_redis, progress=during)
    assert len(checks) > 2
    assert store.live_generation(r=scratch_redis, market="1") == new.generation
    assert bff(client, "products", listing) == before  # same data, new generation
    assert all(
        0 < int(scratch_redis.ttl(k)) <= 60
        for k in store.generation_keys("1", old.generation)
        if scratch_redis.exists(k)
    )


@pytest.mark.django_db
def test_upsert_and_remove_of_one_product_update_every_index(
    scratch_redis: redis.Redis, sandbox: SandboxProcess
) -> None:
    built = rebuild_market(market="1", r=scratch_redis)
    client = Client()
    meta = GenerationMeta.from_json(
        store.unpack(scratch_redis.get(store.gen_key("1", built.generation, "meta")))
    )  # type: ignore[arg-type]
    _, first = bff(client, "products", {"limit": 1})
    pid = first["products"][0]["product"]
    payloads = fetch_payloads(sandbox, pid, meta.languages)

    # When one product changes uri, name, brand, swatch, stock and price in Centra
    for lang, p in payloads.items():
        p["uri"] = "renamed-product"
        p["name"] = f"Zebulon {lang}"
        p["brand"], p["brandName"] = "5", "Fjällström"
        p["swatch"] = {"desc": "Yellow", "hex": "f2c14e"}
        for item in p["items"]:
            item["stock"] = "no"
        p["available"] = False  # Centra's own rule: no item purchasable
        p["prices"]["1"]["priceAsNumber"] = 1
        p["prices"]["1"]["price"] = "1\u00a0SEK"
    doc = merge_product(
        payloads, pricelists=meta.pricelists, currency_formats=meta.currency_formats
    )
    version = store_writes.upsert_products(
        r=scratch_redis, market="1", generation=built.generation, docs=[doc]
    )
    assert version == 1

    # Then every read sees it: the product, its uri, filters, facets, search, sort, availability
    status, got = bff(client, f"products/{pid}")
    assert status == 200
    assert got["product"]["name"] == "Zebulon en"
    assert got["product"]["available"] is False
    assert bff(client, "uri", {"uri": "renamed-product"})[1]["product"]["product"] == pid
    assert bff(client, "uri", {"uri": first["products"][0]["uri"], "for": ["product"]})[0] == 404
    _, yellow = bff(client, "products", {"swatch.desc": ["Yellow"], "brands": ["5"]})
    assert pid in [p["product"] for p in yellow["products"]]
    assert bff(client, "products", {"search": "zebulon"})[1]["productCount"] >= 1
    assert (
        bff(client, "products", {"sortOrder": [{"field": "priceAsNumber"}], "limit": 1})[1][
            "products"
        ][0]["product"]
        == pid
    )
    assert pid not in [
        p["product"] for p in bff(client, "products", {"onlyAvailable": True})[1]["products"]
    ]

    # When it is removed
    _, total_before = bff(client, "products", {"limit": 1})
    assert (
        store_writes.remove_products(
            r=scratch_redis, market="1", generation=built.generation, product_ids=[pid]
        )
        == 2
    )
    # Then it is gone from every answer and every count
    assert bff(client, f"products/{pid}")[0] == 404
    assert bff(client, "uri", {"uri": "renamed-product"})[0] == 404
    _, after = bff(client, "products", {"limit": 1})
    assert after["productCount"] == total_before["productCount"] - 1
    yellow_facet = [
        v
        for f in after["filter"]
        if f["field"] == "swatch.desc"
        for v in f["values"]
        if v["value"] == "Yellow"
    ]
    assert (
        not yellow_facet
        or yellow_facet[0]["totalCount"]
        < next(
            v
            for f in total_before["filter"]
            if f["field"] == "swatch.desc"
            for v in f["values"]
            if v["value"] == "Yellow"
        )["totalCount"]
    )
    assert bff(client, "products", {"search": "zebulon"})[1]["productCount"] == 0


def test_single_product_writes_into_a_building_generation_keep_its_ttl_and_win(
    scratch_redis: redis.Redis, sandbox: SandboxProcess
) -> None:
    meta = GenerationMeta(languages=["en"], pricelists=["1"], currency_formats={"1": {}})
    generation = store_writes.begin_generation(r=scratch_redis, market="9", meta=meta, ttl=300)
    payload = fetch_payloads(sandbox, "1001", ["en"])
    newer = merge_product(payload, pricelists=["1"], currency_formats={"1": {}})
    older = merge_product(payload, pricelists=["1"], currency_formats={"1": {}})
    older.rec.uri = "stale-uri"
    assert (
        store_writes.upsert_products(
            r=scratch_redis, market="9", generation=generation, docs=[newer]
        )
        == 1
    )
    for part in ("docs", "recs", "ver", "changes"):
        assert 0 < int(scratch_redis.ttl(store.gen_key("9", generation, part))) <= 300
    # A rebuild that fetched the product before the webhook does not overwrite it
    store_writes.write_products(
        r=scratch_redis, market="9", generation=generation, products=[older], ttl=300
    )
    assert (
        store.read_recs(r=scratch_redis, market="9", generation=generation, product_ids=["1001"])[
            "1001"
        ].uri
        == newer.rec.uri
    )
    # A generation that no longer exists takes no writes (nothing is left without a TTL)
    assert (
        store_writes.upsert_products(
            r=scratch_redis, market="9", generation=generation + 5, docs=[newer]
        )
        is None
    )
    assert not scratch_redis.exists(store.gen_key("9", generation + 5, "docs"))


def generation_memory(r: redis.Redis, market: str) -> int:
    generation = store.live_generation(r=r, market=market)
    assert generation is not None
    return sum(
        int(r.memory_usage(key, samples=0) or 0)
        for key in store.generation_keys(market, generation)
        if r.exists(key)
    )


def test_memory_does_not_grow_with_pricelists(redis_db_url: str) -> None:
    # Given the same shop with 1 and with 10 pricelists
    per_product: dict[int, float] = {}
    for n in (1, 10):
        info, proc = start_sandbox_process(
            ["--products", "400", "--languages", "2", "--pricelists", str(n)]
        )
        try:
            r = redis.Redis.from_url(redis_db_url)
            r.flushdb()
            result = rebuild_market(market="1", client=CentraClient(info.api, info.secret), r=r)
            per_product[n] = generation_memory(r, "1") / result.products
            r.flushdb()
        finally:
            embedded.stop(proc)  # type: ignore[arg-type]
    # Then ten pricelists cost at most 20 % more memory per product than one
    ratio = per_product[10] / per_product[1]
    print(
        f"memory per product: 1 pricelist {per_product[1]:.0f} B, "
        f"10 pricelists {per_product[10]:.0f} B, ratio {ratio:.3f}"
    )
    assert ratio <= 1.2


@pytest.mark.django_db
def test_readers_do_not_queue_behind_an_index_load(
    scratch_redis: redis.Redis, sandbox: SandboxProcess
) -> None:
    built = rebuild_market(market="1", r=scratch_redis)
    client = Client()
    _, before = bff(client, "products/1001")
    meta = store.load_meta(r=scratch_redis, market="1", generation=built.generation)
    assert meta is not None
    payloads = fetch_payloads(sandbox, "1001", meta.languages)
    for p in payloads.values():
        p["name"] = "Renamed"
    doc = merge_product(
        payloads, pricelists=meta.pricelists, currency_formats=meta.currency_formats
    )
    store_writes.upsert_products(
        r=scratch_redis, market="1", generation=built.generation, docs=[doc]
    )
    # Given another thread of this process busy loading the market's newer index
    lock = local_index.snapshots._lock(f"{store.redis_identity(scratch_redis)}|1")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(timeout=30)
    try:
        # When a request comes in, it answers at once from the index it has
        status, during = bff(client, "products/1001")
        assert lock.locked()  # it did not wait for the load
        assert (status, during) == (200, before)
    finally:
        release.set()
        holder.join()
    # And once the load is done, the new version shows
    assert bff(client, "products/1001")[1]["product"]["name"] == "Renamed"
