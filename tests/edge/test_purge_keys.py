"""Which surrogate keys a change purges, how they are batched per edge, how an
``EDGE_PURGE_URLS`` entry is read, and the pages' ``Cache-Control``: pure, no server."""

from __future__ import annotations

import pytest

from storefront.edge import keys, purgers
from storefront.edge.headers import page_cache_control


def test_a_refresh_purges_its_products_their_categories_and_search_and_home() -> None:
    got = keys.refresh_keys({"1": ["1002", "1001"], "2": ["1001"]}, {"1": ["31", "4"], "2": ["31"]})
    assert got == ["p1001", "p1002", "c4", "c31", "search", "home"]


def test_a_refresh_of_nothing_purges_nothing() -> None:
    assert keys.refresh_keys({"1": []}, {"1": ["31"]}) == []
    assert keys.refresh_keys({}, {}) == []


def test_a_refresh_never_purges_a_whole_market() -> None:
    got = keys.refresh_keys({"1": ["1001"]}, {"1": []})
    assert not any(k.startswith("m") for k in got)


def test_a_rebuild_purges_its_market_and_the_api_answers() -> None:
    assert keys.rebuild_keys("2") == ["m2", "api"]


def test_batches_respect_counts_and_lengths_and_drop_repeats() -> None:
    assert keys.batches(["a", "b", "a", "c"], max_keys=2) == [["a", "b"], ["c"]]
    assert keys.batches(["aaaa", "bbbb", "cccc"], max_keys=10, max_chars=9) == [
        ["aaaa", "bbbb"],
        ["cccc"],
    ]
    assert keys.batches([], max_keys=5) == []
    many = [f"p{n}" for n in range(1000)]
    chunks = keys.batches(many, max_keys=256)
    assert [len(c) for c in chunks] == [256, 256, 256, 232]
    assert [k for c in chunks for k in c] == many


def test_each_url_scheme_chooses_its_edge() -> None:
    varnish = purgers.purger("http://edge:80/")
    assert isinstance(varnish, purgers.VarnishPurger)
    fastly = purgers.purger("fastly://tok%2Fen@SU1Z0isxPaozGVKXdv0eY")
    assert isinstance(fastly, purgers.FastlyPurger)
    assert (fastly.service_id, fastly.token, fastly.api) == (
        "SU1Z0isxPaozGVKXdv0eY",
        "tok/en",
        purgers.FASTLY_API,
    )
    cloudflare = purgers.purger(
        "cloudflare://secret@023e105f4ecef8ad9ca31a8372d0c353?api=http://x:1/"
    )
    assert isinstance(cloudflare, purgers.CloudflarePurger)
    assert (cloudflare.zone_id, cloudflare.api) == (
        "023e105f4ecef8ad9ca31a8372d0c353",
        "http://x:1",
    )


def test_labels_never_show_the_secret() -> None:
    assert purgers.label("fastly://sekrit@SERVICE") == "fastly://SERVICE"
    assert "sekrit" not in purgers.label("cloudflare://sekrit@zone?api=http://h")


@pytest.mark.parametrize(
    "url", ["ftp://host/", "fastly://service-without-token", "cloudflare://@zone", "http:///"]
)
def test_unreadable_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="edge purge"):
        purgers.purger(url)


def test_configured_leaves_out_what_it_cannot_read(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EDGE_PURGE_URLS = ["http://edge/", "nope://x"]
    assert [p.label for p in purgers.configured()] == ["http://edge/"]


def test_pages_are_kept_for_hours_at_the_edge_and_briefly_in_browsers(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EDGE_MAX_AGE = 6
    settings.EDGE_BROWSER_MAX_AGE = 60
    assert page_cache_control() == (
        "public, max-age=60, s-maxage=21600, stale-while-revalidate=300"
    )
