"""Webhooks end to end: a merchant's edit in the sandbox reaches what shoppers see.

A stack of the module's own (``webhook_stack``): the sandbox edits its catalog and sends signed
webhooks to the BFF under gunicorn, whose receiver queues them in Redis for a real Celery
worker to refresh. Each test edits products no other test touches, waits (polling, with a
deadline) for the BFF to answer as the sandbox does, and checks what a shopper would see:
the product, its category listings, facet counts, availability.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from catalog import invalidation
from tests.catalog.webhook_stack import Stack, first_difference, wait_for, webhook_stack

# Generous: the benchmark measures the latency; here it only has to happen.
DEADLINE = 15.0
SEK = {"market": "1", "pricelist": "1", "language": "en"}


@pytest.fixture(scope="module")
def stack(own_servers: None) -> Iterator[Stack]:
    with webhook_stack("e2e", ["--products", "60"]) as s:
        yield s


@pytest.fixture(autouse=True)
def quiet(stack: Stack) -> Iterator[None]:
    """Each test starts and ends with nothing on its way, so one test's refreshes and
    rebuilds never land in another's observations."""
    stack.wait_quiet()
    yield
    stack.control(
        "PUT", "webhooks/config", {"duplicateRate": 0, "dropRate": 0, "windowMs": 50, "seed": 1}
    )
    stack.wait_quiet()


_UPDATE = re.compile(r'^storefront_catalog_index_update_seconds_count\{how="(\w+)"\} (\S+)$', re.M)


def index_updates(stack: Stack) -> list[dict[str, float]]:
    """Per scrape of /metrics (each answered by one of gunicorn's workers), how many times
    that process brought its index to a new version, by how (catalog.local_index)."""
    out = []
    for _ in range(12):
        text = requests.get(f"{stack.bff_url}/metrics", timeout=5).text
        out.append({how: float(n) for how, n in _UPDATE.findall(text)})
    return out


_taken: set[str] = set()


def take(stack: Stack, want: Any = lambda p: True) -> dict[str, Any]:
    """A product of market 1 (SEK, English) that no other test of the module edits, with
    no colour siblings (whose refreshes would come with it), available in every market."""
    everywhere = None
    for market in stack.markets:
        _, answer = stack.centra("POST", "products", {**SEK, "market": market, "limit": 1000})
        ids = {p["product"] for p in answer["products"] if p["available"]}
        everywhere = ids if everywhere is None else everywhere & ids
    _, answer = stack.centra("POST", "products", {**SEK, "limit": 1000})
    for product in answer["products"]:
        pid = product["product"]
        if (
            pid not in _taken
            and pid in (everywhere or set())
            and product["price"] is not None
            and not product["relatedProducts"]
            and want(product)
        ):
            _taken.add(pid)
            return dict(product)
    raise AssertionError("no product left to edit")


def same_as_centra(stack: Stack, method: str, path: str, body: dict[str, Any]) -> str | None:
    ref_status, ref = stack.centra(method, path, body)
    status, got = stack.bff(method, path, body)
    if status != ref_status:
        return f"{path}: {status} != {ref_status}"
    ref.pop("token", None)
    got.pop("token", None)
    return first_difference(got, ref)


def ids(listing: dict[str, Any]) -> list[str]:
    return [p["product"] for p in listing["products"]]


def facet_counts(listing: dict[str, Any], field: str) -> dict[str, int]:
    for entry in listing["filter"]:
        if entry["field"] == field:
            return {v["value"]: v["count"] for v in entry["values"]}
    return {}


def test_a_price_change_shows_in_the_product_and_on_its_category_listing(stack: Stack) -> None:
    # Given a product and its category's listing as shoppers in Sweden see them
    product = take(stack)
    pid, category = product["product"], product["category"]
    new_price = product["priceAsNumber"] + 111

    # When the merchant changes its SEK price
    stack.edit("PUT", f"products/{pid}/price", {"pricelist": "1", "price": new_price})

    # Then within the deadline the product and the listing show the new price
    def shown() -> bool:
        status, body = stack.product(pid, **SEK)
        listed = {p["product"]: p for p in stack.listing(**SEK, categories=[category])["products"]}
        return (
            status == 200
            and body["priceAsNumber"] == new_price
            and listed[pid]["priceAsNumber"] == new_price
        )

    wait_for(shown, timeout=DEADLINE, what=f"price {new_price} of {pid}")
    # And the process that showed it patched its index, none indexed the market again
    updates = index_updates(stack)
    assert any(u.get("patched", 0) >= 1 for u in updates), updates
    assert all(u.get("indexed", 0) == 0 for u in updates), updates
    # And both answers are exactly Centra's (formatted price, sorting by price included)
    assert same_as_centra(stack, "GET", f"products/{pid}", SEK) is None
    body = {**SEK, "categories": [category], "sortOrder": [{"field": "priceAsNumber"}]}
    assert same_as_centra(stack, "POST", "products", body) is None
    # And the other pricelists did not move
    eur = {**SEK, "pricelist": "2"}
    shown_in_eur = stack.product(pid, **eur)[1]["price"]
    assert shown_in_eur == stack.centra("GET", f"products/{pid}", eur)[1]["product"]["price"]


def test_a_deactivated_product_answers_404_and_leaves_listings_and_facet_counts(
    stack: Stack,
) -> None:
    # Given a product listed in its category, counted in its brand's and categories' facets
    product = take(stack)
    pid, category, brand = product["product"], product["category"], product["brand"]
    before = stack.listing(**SEK)
    assert pid in ids(stack.listing(**SEK, categories=[category]))

    # When the merchant deactivates it
    stack.edit("POST", f"products/{pid}/deactivate")

    # Then within the deadline it answers 404 in every market
    def gone() -> bool:
        return all(stack.product(pid, **{**SEK, "market": m})[0] == 404 for m in stack.markets)

    wait_for(gone, timeout=DEADLINE, what=f"404 for {pid}")
    # And it is in no listing, and the facet counts no longer count it
    after = stack.listing(**SEK)
    assert pid not in ids(after)
    assert pid not in ids(stack.listing(**SEK, categories=[category]))
    assert facet_counts(after, "brands")[brand] == facet_counts(before, "brands")[brand] - 1
    assert facet_counts(after, "categories")[category] == (
        facet_counts(before, "categories")[category] - 1
    )
    assert after["productCount"] == before["productCount"] - 1
    # And the listing with its facets is Centra's, in every market
    for market in stack.markets:
        assert same_as_centra(stack, "POST", "products", {**SEK, "market": market}) is None
    assert same_as_centra(stack, "POST", "uri", {**SEK, "uri": product["uri"]}) is None

    # When it is activated again, it is back
    stack.edit("POST", f"products/{pid}/activate")
    wait_for(lambda: stack.product(pid, **SEK)[0] == 200, timeout=DEADLINE, what=f"{pid} back")
    assert same_as_centra(stack, "POST", "products", SEK) is None


def test_a_recategorized_product_moves_between_category_listings(stack: Stack) -> None:
    # Given a product in one leaf category, and another leaf category it is not in
    product = take(stack, lambda p: p["category"] in {"311", "312", "313", "314"})
    pid, old = product["product"], product["category"]
    new = next(c for c in ("321", "322", "311", "312") if c not in product["categories"])

    # When the merchant moves it there (and out of everything else)
    stack.edit("PUT", f"products/{pid}/categories", {"categories": [new]})

    # Then within the deadline it is listed under the new category and not under the old one
    def moved() -> bool:
        return pid in ids(stack.listing(**SEK, categories=[new])) and pid not in ids(
            stack.listing(**SEK, categories=[old])
        )

    wait_for(moved, timeout=DEADLINE, what=f"{pid} from {old} to {new}")
    assert stack.product(pid, **SEK)[1]["category"] == new
    # And both listings (in their category order) and the category facet match Centra
    for category in (old, new):
        body = {**SEK, "categories": [category], "sortOrder": [{"field": "categoryItemSort"}]}
        assert same_as_centra(stack, "POST", "products", body) is None
    assert same_as_centra(stack, "POST", "products", SEK) is None


def test_stock_to_zero_makes_the_product_unavailable_in_that_market_only(stack: Stack) -> None:
    # Given an available product
    product = take(stack)
    pid = product["product"]
    assert pid in ids(stack.listing(**SEK, onlyAvailable=True))

    # When its stock in market 1 goes to zero
    stack.edit("PUT", f"products/{pid}/stock", {"market": "1", "quantity": 0})

    # Then within the deadline it shows as unavailable there, its items out of stock
    def sold_out() -> bool:
        body = stack.product(pid, **SEK)[1]
        return body["available"] is False and all(i["stock"] == "no" for i in body["items"])

    wait_for(sold_out, timeout=DEADLINE, what=f"{pid} sold out")
    # And onlyAvailable listings leave it out, while the full listing keeps it
    assert pid not in ids(stack.listing(**SEK, onlyAvailable=True))
    assert pid in ids(stack.listing(**SEK))
    assert same_as_centra(stack, "POST", "products", {**SEK, "onlyAvailable": True}) is None
    # And in market 2 nothing changed
    assert stack.product(pid, **{**SEK, "market": "2", "pricelist": "2"})[1]["available"] is True


def test_an_added_product_appears(stack: Stack) -> None:
    # Given a product to clone
    source = take(stack)
    name = "Webhook Fjord Parka"

    # When the merchant adds a new product cloned from it
    added = stack.edit("POST", "products", {"from": source["product"], "name": name})
    pid = added["product"]["product"]
    _taken.add(pid)

    # Then within the deadline it answers by id, and its category lists it
    def listed() -> bool:
        in_category = ids(stack.listing(**SEK, categories=[source["category"]]))
        return stack.product(pid, **SEK)[0] == 200 and pid in in_category

    wait_for(listed, timeout=DEADLINE, what=f"new product {pid}")
    # And search finds it by its name, by uri too, as Centra does
    assert pid in ids(stack.listing(**SEK, search="fjord parka"))
    assert same_as_centra(stack, "GET", f"products/{pid}", SEK) is None
    assert same_as_centra(stack, "POST", "products", {**SEK, "search": "parka"}) is None
    assert same_as_centra(stack, "POST", "uri", {**SEK, "uri": added["product"]["uri"]}) is None


def test_a_market_change_rebuilds_that_market(stack: Stack) -> None:
    # Given every market live, and GB in market 3 ("World")
    before = {m: stack.live_generation(m) for m in stack.markets}
    # (today's markets list no countries: a country names its market, server-side)
    _, countries = stack.centra("GET", "countries")
    europe = [c["country"] for c in countries["countries"] if c["market"] == "2"]
    assert europe
    assert "GB" not in europe

    # When the merchant moves GB to market 2: Centra sends markets 2 and 3, no products
    answer = stack.edit("PUT", "markets/2", {"countries": [*europe, "GB"]})
    assert set(answer["webhook"]["markets"]) == {"2", "3"}

    # Then both markets are rebuilt (their live generation moves on), and market 1 is not
    def rebuilt() -> bool:
        now = {m: stack.live_generation(m) for m in stack.markets}
        return all((now[m] or 0) > (before[m] or 0) for m in ("2", "3"))

    wait_for(rebuilt, timeout=60, what="markets 2 and 3 rebuilt")
    stack.wait_quiet()
    assert stack.live_generation("1") == before["1"]
    # And the BFF places GB where Centra does (each BFF process trusts its copy of the shop's
    # set-up for a second), and answers every market as Centra does
    wait_for(
        lambda: same_as_centra(stack, "GET", "countries", {}) is None,
        timeout=DEADLINE,
        what="GB in market 2",
    )
    assert stack.differences() == []


def test_a_pricelist_change_rebuilds_every_market(stack: Stack) -> None:
    # Given every market live, and a product's EUR price
    before = {m: stack.live_generation(m) for m in stack.markets}
    eur = {**SEK, "market": "2", "pricelist": "2"}

    def priced_in_eur(product: dict[str, Any]) -> bool:
        status, body = stack.centra("GET", f"products/{product['product']}", eur)
        return status == 200 and body["product"]["price"] is not None

    pid = take(stack, priced_in_eur)["product"]
    old = stack.product(pid, **eur)[1]["priceAsNumber"]

    # When the merchant raises every EUR price by a tenth: Centra names the pricelist only
    answer = stack.edit("PUT", "pricelists/2", {"multiplier": 1.1})
    assert answer["webhook"] == {"pricelists": ["2"]}

    # Then every market is rebuilt (prices of a pricelist live in all of them)
    def rebuilt() -> bool:
        return all((stack.live_generation(m) or 0) > (before[m] or 0) for m in stack.markets)

    wait_for(rebuilt, timeout=60, what="every market rebuilt")
    stack.wait_quiet()
    # And the BFF shows the new prices, everywhere as Centra does
    assert stack.product(pid, **eur)[1]["priceAsNumber"] != old
    assert stack.differences(product_ids=[pid]) == []


def test_duplicate_webhooks_are_refreshed_once(stack: Stack) -> None:
    # Given the sandbox sends every webhook twice (the copy: same bytes, same signature)
    product = take(stack)
    pid = product["product"]
    stack.control("PUT", "webhooks/config", {"duplicateRate": 1.0})
    stack.control("DELETE", "webhooks")
    writes_before = {m: stack.writes_of(m, pid) for m in stack.markets}

    # When the merchant changes its price three times, waiting to see each one
    prices = [product["priceAsNumber"] + n for n in (7, 8, 9)]
    for price in prices:
        stack.edit("PUT", f"products/{pid}/price", {"pricelist": "1", "price": price})

        def shown(price: int = price) -> bool:
            return bool(stack.product(pid, **SEK)[1]["priceAsNumber"] == price)

        wait_for(shown, timeout=DEADLINE, what=f"price {price}")
    stack.wait_quiet()

    # Then every call reached the BFF twice: the first accepted, the copy recognised
    deliveries = [d for d in stack.deliveries() if d["outcome"] == "delivered"]
    assert len(deliveries) == 2 * len(prices)
    assert sorted(d["status"] for d in deliveries) == [200] * 3 + [202] * 3
    assert all(d["status"] == 200 for d in deliveries if d["duplicate"])
    # And the product was refreshed once per edit in every market, not twice
    for market in stack.markets:
        assert stack.writes_of(market, pid) - writes_before[market] == len(prices), market

    # When a recorded delivery is replayed later, after its refresh, and too late to be a
    # second change made within the same second of Centra's clock (those are refreshed again)
    first = min(deliveries, key=lambda d: d["at"])
    wait_for(
        lambda: time.time() > first["at"] + invalidation.REPEAT_WINDOW_SECONDS,
        timeout=invalidation.REPEAT_WINDOW_SECONDS + 1,
        what="the replay window to pass",
    )
    resp = requests.post(
        f"{stack.bff_url}/webhooks/centra",
        data=first["body"].encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Centra-Signature": first["signature"],
        },
        timeout=10,
    )
    stack.wait_quiet()
    # Then it is acknowledged as a duplicate and refreshes nothing
    assert resp.status_code == 200
    assert resp.json() == {"status": "duplicate"}
    for market in stack.markets:
        assert stack.writes_of(market, pid) - writes_before[market] == len(prices), market
