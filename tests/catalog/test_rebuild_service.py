"""The synchronous rebuild service: fetch everything of a market, build aside, verify, flip."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from catalog import store
from catalog.rebuild import (
    CatalogMismatch,
    UnknownMarket,
    market_ids,
    rebuild_market,
    refresh_shop_meta,
)
from storefront import embedded
from storefront.centra import CentraClient, CentraUnavailable
from tests.catalog.conftest import sandbox_call
from tests.conftest import SandboxProcess, start_sandbox_process


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
    assert store.load_shop_meta(r=scratch_redis) is not None
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
    assert store.upstream_down(r=scratch_redis)
    # And once Centra is back the next rebuild completes
    own_sandbox.control("PUT", "faults", json={"errorRate": 0})
    again = rebuild_market(market="1", client=client, r=scratch_redis)
    assert again.products == live.products
    assert not store.upstream_down(r=scratch_redis)


class ShrinkingCentra(CentraClient):
    """Centra whose product count changes after the first page (a product was deleted)."""

    calls = 0

    def catalog(
        self,
        method: str,
        path: str,
        json: dict[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> dict[str, Any]:
        data = super().catalog(method, path, json, read_timeout)
        if path == "products":
            self.calls += 1
            if self.calls > 1:
                data["productCount"] -= 1
        return data


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
