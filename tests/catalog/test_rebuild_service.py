"""The synchronous rebuild service: fetch everything of a market, build aside, verify, flip."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client
from prometheus_client import REGISTRY

from catalog import centra_state, job_records, store
from catalog.rebuild import (
    CatalogMismatch,
    CatalogRefused,
    UnknownMarket,
    market_ids,
    rebuild_market,
    refresh_shop_meta,
)
from storefront import embedded, localcache
from storefront.centra import CentraClient, CentraUnavailable
from tests.catalog.altered_centra import AlteredCentra
from tests.catalog.cache_fixtures import API_KEY, sandbox_call
from tests.catalog.own_stack import own_stack, stop_worker
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.support import without_token


@pytest.fixture
def own_sandbox() -> Iterator[SandboxProcess]:
    """A sandbox of this test's own, so its faults can be switched."""
    info, proc = start_sandbox_process(["--products", "60", "--languages", "2"])
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


def client_for(sb: SandboxProcess) -> CentraClient:
    return CentraClient(sb.api, sb.secret)


def generation_keys_ttl(r: redis.Redis, market: str, generation: int) -> list[int]:
    return [int(r.ttl(k)) for k in store.generation_keys(market, generation) if r.exists(k)]


def test_rebuild_fetches_every_market_and_reports_progress(
    scratch_redis: redis.Redis, sandbox: SandboxProcess
) -> None:
    # Given Centra's markets
    markets = market_ids(r=scratch_redis)
    assert markets == ["1", "2", "3"]
    for market in markets:
        seen: list[tuple[int, int]] = []
        # When a market is rebuilt
        result = rebuild_market(
            market=market, r=scratch_redis, progress=lambda d, t, seen=seen: seen.append((d, t))
        )
        # Then it holds what Centra lists, and progress went page by page to the end
        expected = sandbox_call(sandbox, "POST", "products", {"market": market, "limit": 1}).json()
        assert result.products == expected["productCount"]
        assert result.categories == len(
            sandbox_call(sandbox, "GET", "categories").json()["categories"]
        )
        assert [d for d, _ in seen] == list(range(1, len(seen) + 1))
        assert seen[-1][0] == seen[-1][1]
        status = store.market_status(r=scratch_redis, market=market)
        assert (
            status["generation"]
            == result.generation
            == store.live_generation(r=scratch_redis, market=market)
        )
        assert status["products"] == result.products
        assert status["categories"] == result.categories
        assert status["built_at"]
        assert status["build_seconds"] is not None
        assert status["building"] is None
        # and every key of the live generation is permanent
        assert all(
            ttl == -1 for ttl in generation_keys_ttl(scratch_redis, market, result.generation)
        )


def test_rebuild_again_flips_and_lets_the_old_generation_expire(
    scratch_redis: redis.Redis, settings: Any
) -> None:
    settings.CATALOG_GRACE_SECONDS = 120
    first = rebuild_market(market="2", r=scratch_redis)
    second = rebuild_market(market="2", r=scratch_redis)
    assert second.generation > first.generation
    assert second.products == first.products
    assert store.live_generation(r=scratch_redis, market="2") == second.generation
    ttls = generation_keys_ttl(scratch_redis, "2", first.generation)
    assert ttls
    assert all(0 < ttl <= 120 for ttl in ttls)


def test_unknown_market_is_refused(scratch_redis: redis.Redis) -> None:
    with pytest.raises(UnknownMarket):
        rebuild_market(market="99", r=scratch_redis)
    assert store.live_generation(r=scratch_redis, market="99") is None


def test_shop_meta_is_fetched_and_stored(
    scratch_redis: redis.Redis, sandbox: SandboxProcess
) -> None:
    shop = refresh_shop_meta(r=scratch_redis)
    assert centra_state.load_shop_meta(r=scratch_redis) is not None
    countries = sandbox_call(sandbox, "GET", "countries").json()["countries"]
    assert shop.countries == countries
    assert shop.country_defaults("se") is not None
    assert shop.has_pricelist("4")


def test_centra_down_mid_build_keeps_the_live_generation(
    scratch_redis: redis.Redis, own_sandbox: SandboxProcess
) -> None:
    client = client_for(own_sandbox)
    live = rebuild_market(market="1", client=client, r=scratch_redis)

    # When Centra starts failing in the middle of a rebuild
    def fail_after_first_page(done: int, total: int) -> None:
        own_sandbox.control("PUT", "faults", json={"errorRate": 1})

    with pytest.raises(CentraUnavailable):
        rebuild_market(market="1", client=client, r=scratch_redis, progress=fail_after_first_page)
    # Then the live generation is untouched, the half-built one is gone, Centra is marked down
    assert store.live_generation(r=scratch_redis, market="1") == live.generation
    assert store.building_generation(r=scratch_redis, market="1") is None
    assert not scratch_redis.exists(store.gen_key("1", live.generation + 1, "docs"))
    assert centra_state.upstream_down(r=scratch_redis)
    # And once Centra is back the next rebuild completes
    own_sandbox.control("PUT", "faults", json={"errorRate": 0})
    again = rebuild_market(market="1", client=client, r=scratch_redis)
    assert again.products == live.products
    assert not centra_state.upstream_down(r=scratch_redis)


class ShrinkingCentra(AlteredCentra):
    """Centra whose product count changes after the first page (a product was deleted)."""

    calls = 0

    def alter(self, path: str, json: dict[str, Any], data: dict[str, Any]) -> None:
        if path == "products":
            self.calls += 1
            if self.calls > 1:
                data["productCount"] -= 1


def test_counts_that_do_not_add_up_are_never_published(
    scratch_redis: redis.Redis, sandbox: SandboxProcess, settings: Any
) -> None:
    settings.CATALOG_PAGE_SIZE = 50
    client = ShrinkingCentra(sandbox.api, sandbox.secret)
    with pytest.raises(CatalogMismatch):
        rebuild_market(market="3", client=client, r=scratch_redis)
    assert store.live_generation(r=scratch_redis, market="3") is None
    assert store.building_generation(r=scratch_redis, market="3") is None
    assert not [k for k in scratch_redis.scan_iter("cat:{3}:g*")]


# -- builds that add up but look broken are refused ----------------------------------------------


def refused(market: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "storefront_catalog_rebuilds_refused_total", {"market": market, "reason": reason}
    )
    return value or 0.0


def deactivate_share(sb: SandboxProcess, market: str, share: float) -> list[str]:
    """Deactivate that share of a market's products in Centra (the edit API)."""
    body = {"market": market, "limit": 1000}
    products = sandbox_call(sb, "POST", "products", body).json()["products"]
    gone = [p["product"] for p in products[: int(len(products) * share) + 1]]
    for pid in gone:
        assert sb.control("POST", f"products/{pid}/deactivate").status_code == 200
    return gone


def test_a_rebuild_that_would_lose_most_products_is_refused(
    scratch_redis: redis.Redis, own_sandbox: SandboxProcess, settings: Any
) -> None:
    # Given a live market
    client = client_for(own_sandbox)
    live = rebuild_market(market="1", client=client, r=scratch_redis)
    before = refused("1", "product_loss")
    # When more than half of its products disappear from Centra
    deactivate_share(own_sandbox, "1", 0.6)
    # Then the rebuild is refused with the reason, and the live generation stays
    with pytest.raises(CatalogRefused, match="CATALOG_MAX_PRODUCT_LOSS") as caught:
        rebuild_market(market="1", client=client, r=scratch_redis)
    assert caught.value.reason == "product_loss"
    assert refused("1", "product_loss") == before + 1
    assert store.live_generation(r=scratch_redis, market="1") == live.generation
    assert store.building_generation(r=scratch_redis, market="1") is None
    assert store.market_status(r=scratch_redis, market="1")["products"] == live.products
    # And an operator who means it raises the setting, and the smaller catalog goes live
    settings.CATALOG_MAX_PRODUCT_LOSS = 1
    smaller = rebuild_market(market="1", client=client, r=scratch_redis)
    assert smaller.products < live.products * 0.5
    assert store.live_generation(r=scratch_redis, market="1") == smaller.generation


class UnreadableCategories(AlteredCentra):
    """Centra answering product categories in a shape nobody documented (ids only), or with
    an empty category tree."""

    empty_tree = False

    def alter(self, path: str, json: dict[str, Any], data: dict[str, Any]) -> None:
        if path == "categories" and self.empty_tree:
            data["categories"] = []
        elif path == "products" and not self.empty_tree:
            for product in data["products"]:
                categories = product["categories"]
                entries = categories.values() if isinstance(categories, dict) else categories
                product["categories"] = [c["category"] for c in entries]


@pytest.mark.parametrize("empty_tree", [False, True], ids=["unreadable", "empty-tree"])
def test_a_rebuild_that_would_leave_every_category_empty_is_refused(
    scratch_redis: redis.Redis, sandbox: SandboxProcess, empty_tree: bool
) -> None:
    client = UnreadableCategories(sandbox.api, sandbox.secret)
    client.empty_tree = empty_tree
    before = refused("2", "no_categories")
    unreadable = REGISTRY.get_sample_value(
        "storefront_catalog_uninterpretable_products_total", {"reason": "categories_unreadable"}
    )
    # When a market's categories cannot be read, or Centra lists none
    with pytest.raises(CatalogRefused) as caught:
        rebuild_market(market="2", client=client, r=scratch_redis)
    # Then nothing is published, the refusal is counted, and so is every unreadable product
    assert caught.value.reason == "no_categories"
    assert refused("2", "no_categories") == before + 1
    assert store.live_generation(r=scratch_redis, market="2") is None
    assert not [k for k in scratch_redis.scan_iter("cat:{2}:g*")]
    after = REGISTRY.get_sample_value(
        "storefront_catalog_uninterpretable_products_total", {"reason": "categories_unreadable"}
    )
    if not empty_tree:
        products = sandbox_call(sandbox, "POST", "products", {"market": "2", "limit": 1})
        assert (after or 0) - (unreadable or 0) == products.json()["productCount"]


@pytest.mark.worker
@pytest.mark.django_db
def test_a_refused_rebuild_fails_its_job_with_the_reason_operators_see(
    settings: Any, admin_user: User, own_servers: None
) -> None:
    # Given a live market built by a real worker, on a stack of this test's own
    with own_stack(["--products", "60", "--markets", "1", "--languages", "2"]) as stack:
        worker = stack.start_worker("refusal-worker")
        try:
            stack.wait_job(stack.enqueue("1"), "done", timeout=120)
            live = store.live_generation(r=stack.r, market="1")
            # When most of its products vanish from Centra and a rebuild is run and awaited
            deactivate_share(stack.sandbox, "1", 0.6)
            done = stack.manage("catalog_rebuild", "--market", "1", "--wait", timeout=180)
            # Then the command fails naming the reason, the job failed once (no retries), and
            # the live generation stays
            assert done.returncode != 0
            assert "CATALOG_MAX_PRODUCT_LOSS" in done.stdout
            raw_id = stack.r.get(job_records.market_job_key("1"))
            assert raw_id is not None
            job_id = raw_id.decode()  # type: ignore[union-attr]
            job = stack.job(job_id)
            assert job is not None
            assert job.state == "failed"
            assert job.attempts == 1
            assert job.error is not None
            assert job.error.startswith("CatalogRefused: market 1:")
            assert store.live_generation(r=stack.r, market="1") == live
            # And the staff API and the admin page say so
            settings.REDIS_URL = stack.redis_url
            settings.CENTRA_API_URL = stack.sandbox.api
            settings.CENTRA_SHARED_SECRET = stack.sandbox.secret
            localcache.clear_all()
            staff = Client()
            staff.force_login(admin_user)
            shown = staff.get(f"/api/admin/catalog/jobs/{job_id}").json()
            assert shown["state"] == "failed"
            assert "CATALOG_MAX_PRODUCT_LOSS" in shown["error"]
            rows = {
                r["market"]: r for r in staff.get("/api/admin/catalog/status").json()["markets"]
            }
            assert rows["1"]["job"]["state"] == "failed"
            assert rows["1"]["job"]["error"] == shown["error"]
            assert rows["1"]["live"]["generation"] == live
            page = staff.get("/admin/catalog/").content.decode()
            assert "CATALOG_MAX_PRODUCT_LOSS" in page
        finally:
            stop_worker(worker)
            localcache.clear_all()


def test_a_one_language_shop_learns_the_small_related_form(
    scratch_redis: redis.Redis, settings: Any
) -> None:
    # Given a shop with one language: every rebuild page asks for full related products
    sb, proc = start_sandbox_process(["--products", "40", "--languages", "1"])
    try:
        settings.CENTRA_API_URL = sb.api
        settings.CENTRA_SHARED_SECRET = sb.secret
        built = rebuild_market(market="1", client=client_for(sb), r=scratch_redis)
        meta = store.load_meta(r=scratch_redis, market="1", generation=built.generation)
        assert meta is not None
        body = {"market": "1", "pricelist": "1", "language": "en", "limit": 40}
        theirs = sandbox_call(sb, "POST", "products", body).json()
        small = [r for p in theirs["products"] for r in p["relatedProducts"]]
        assert small
        # Then the cache answers small related products in Centra's own form
        assert meta.related_keys == list(small[0])
        ours = Client().post(
            "/api/checkout/products",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {API_KEY}",
        )
        assert without_token(ours.json()) == without_token(theirs)
    finally:
        embedded.stop(proc)  # type: ignore[arg-type]
