"""A colour (or size, or a colour word in a search) chosen on a shop listing shows the products
of that colour: each card is the style's variant that matches, the heading counts the cards,
and the other colours are still a "+n colours" away.

Centra's own rule (sandbox/README.md, "Variant rule") lets a whole style in when any of its
products matches, so ``swatch.desc: [Black]`` also answers a style's grey and blue products;
the Centra-compatible API keeps that rule. The shop's pages ask the catalog for the products
that match by their own data (``Query.own_variants``). Facts about products are asked of the
sandbox, not hard-coded.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from django.test import Client

from catalog.facets import facets_json
from catalog.query import run_query
from catalog.query_body import parse_query
from catalog.snapshot import Snapshot
from sandbox import search
from shop.paths import CATEGORY_ORDER, PAGE_SIZE, Listing, listing_url, uri_path
from tests.catalog.cache_fixtures import BuiltCache, memberships, sandbox_call
from tests.catalog.snapshots import snapshot
from tests.conftest import SandboxProcess
from tests.shop.colour_cases import category_products, colour_case
from tests.shop_client import ShopClient
from tests.support import without_token

SE = {"market": "1", "pricelist": "1", "language": "sv"}


@pytest.fixture
def client(cache: BuiltCache) -> Client:
    return ShopClient()


# -- the engine --------------------------------------------------------------------------------


def _shown(snap: Snapshot, body: dict[str, Any], own: bool) -> tuple[list[str], int]:
    query = parse_query(body)
    query.own_variants = own
    result = run_query(snap, query, pricelist="1", language="en")
    return [snap.ids[o] for o in result.page], result.count


def _counts(snap: Snapshot, body: dict[str, Any], field: str) -> dict[str, int]:
    query = parse_query(body)
    query.own_variants = True
    result = run_query(snap, query, pricelist="1", language="en")
    answer = json.loads(facets_json(snap, result.filtered, "en", result.without, result.counted))
    values = next(f["values"] for f in answer if f["field"] == field)
    return {v["value"]: v["count"] for v in values}


def test_own_variants_lists_the_matching_products() -> None:
    snap = snapshot()  # style A: 10 red, 11 blue (size S); style B: 12 red; C: 9 green
    # Centra's rule: only 11 is blue, its style lets 10 in too
    assert _shown(snap, {"swatch.desc": ["Blue"]}, own=False) == (["10", "11"], 2)
    # The shop's listing: the blue product only, counted alone
    assert _shown(snap, {"swatch.desc": ["Blue"]}, own=True) == (["11"], 1)
    assert _shown(snap, {"swatch.desc": ["Red"]}, own=True) == (["10", "12"], 2)
    assert _shown(snap, {"items.name": ["S"]}, own=True) == (["11"], 1)
    assert _shown(snap, {"search": "blu"}, own=True) == (["11"], 1)
    assert _shown(snap, {"swatch.desc": []}, own=True) == ([], 0)
    # Without a colour, size or search, the same as Centra's
    assert _shown(snap, {"brands": ["1"]}, own=True) == (["10", "11"], 2)


def test_own_variants_facets_count_the_listing() -> None:
    snap = snapshot()
    blue = {"swatch.desc": ["Blue"]}
    # The chosen colour counts the listing; the other colours of the styles keep theirs
    assert _counts(snap, blue, "swatch.desc") == {"Red": 1, "Green": 0, "Blue": 1}
    # other fields count the cards: brand 1 has one blue product (not its red one)
    assert _counts(snap, blue, "brands") == {"1": 1, "2": 0}
    assert _counts(snap, blue, "items.name") == {"M": 0, "S": 1, "L": 0}


# -- the sandbox's facts -----------------------------------------------------------------------


CARD = re.compile(r'<li class="card[^"]*"><a href="([^"]+)" data-colour="([^"]*)"')


def cards(page: str) -> list[tuple[str, str, bool]]:
    """(link, data-colour, shows "+n colours") of every card of a listing page."""
    if '<ul class="grid">' not in page:
        return []
    grid = page.split('<ul class="grid">', 1)[1].split("</ul>", 1)[0]
    out = []
    for chunk in grid.split("<li ")[1:]:
        found = CARD.match("<li " + chunk)
        assert found is not None, chunk[:200]
        # the card's link without the page's locale prefix (/se/sv), to compare with uris
        link = unescape(found.group(1)).removeprefix("/se/sv")
        out.append((link, unescape(found.group(2)), "card-colours" in chunk))
    return out


def facet_counts(page: str, field: str) -> dict[str, int]:
    """The counts a listing page shows for one facet's values."""
    section = page.split(f'class="facet facet-{field}"', 1)[1].split("</section>", 1)[0]
    pairs = re.findall(
        r'<span class="facet-label">([^<]*)</span> <span class="facet-count">(\d+)</span>',
        section,
    )
    return {unescape(label): int(n) for label, n in pairs}


def every_page(client: Client, url: str) -> tuple[list[int], list[tuple[str, str, bool]]]:
    """The heading's count on each page of a listing, and the cards of all its pages."""
    counts: list[int] = []
    found: list[tuple[str, str, bool]] = []
    for number in range(1, 100):
        response = client.get(url + (f"&page={number}" if number > 1 else ""))
        assert response.status_code == 200, (url, number)
        page = response.content.decode()
        counted = re.search(r'<p class="count">(\d+)', page)
        assert counted is not None
        counts.append(int(counted.group(1)))
        here = cards(page)
        assert len(here) <= PAGE_SIZE
        found += here
        if 'rel="next"' not in page:
            break
    return counts, found


# -- the pages ---------------------------------------------------------------------------------


def test_a_colour_filter_shows_that_colours_variants_counted_as_the_cards(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a category where Centra's colour filter lets in other colours of a style
    uri, colour, own = colour_case(sandbox)

    # When the shopper ticks the colour
    url = listing_url(uri_path(uri), Listing(colours=(colour,)))
    counts, found = every_page(client, url)

    # Then every card is a product of that colour, each once, linking its own page
    assert {c for _, c, _ in found} == {colour}
    links = [link for link, _, _ in found]
    assert len(links) == len(set(links))
    assert set(links) == {uri_path(p["uri"]) for p in own}
    # and the heading counts the cards, on every page, as the facets do: the chosen
    # colour's count, and the brands' counts add up to it
    assert set(counts) == {len(found)}
    first = client.get(url).content.decode()
    assert facet_counts(first, "colour")[colour] == len(found)
    assert sum(facet_counts(first, "brand").values()) == len(found)
    # and a card of a style in other colours still says so ("+n colours")
    several = {
        uri_path(p["uri"])
        for p in own
        if any(r.get("relation") == "variant" for r in p.get("relatedProducts") or [])
    }
    assert several
    assert all(more for link, _, more in found if link in several)


def test_the_api_keeps_centras_variant_rule(client: Client, sandbox: SandboxProcess) -> None:
    # Given the same category and colour
    uri, colour, _ = colour_case(sandbox)
    fields = {"swatch.desc": [colour]}
    centra = category_products(sandbox, uri, **fields)

    # When a frontend asks the BFF's Centra-compatible API
    body = {"uri": uri, "for": ["category"], "limit": 1000, "sortOrder": CATEGORY_ORDER, **fields}
    ours = client.post("/api/checkout/uri", body, content_type="application/json")

    # Then it answers as Centra: the whole style of every product of that colour
    assert ours.status_code == 200, ours.content[:300]
    answer = ours.json()
    for key in ("products", "productCount", "filter"):
        assert answer[key] == without_token(centra)[key], key


def _own_text(p: dict[str, Any]) -> str:
    """What the sandbox's search reads of a product (sandbox/README.md, "Search")."""
    parts = [
        str(p.get(k) or "")
        for k in ("name", "variantName", "brandName", "collectionName", "description", "sku")
    ]
    for m in memberships(p):
        parts += [str(n) for n in m.get("name") or []]
    return "\n".join(parts)


def test_a_colour_word_in_a_search_shows_the_variant_of_that_colour(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a search word that is a colour's name in Swedish ("grön", typed "gron")
    word = "gron"
    answer = sandbox_call(sandbox, "POST", "products", {**SE, "search": word, "limit": 1000})
    assert answer.status_code == 200
    products = answer.json()["products"]
    words = search.tokenize(word)
    matching = [p for p in products if search.matches(words, search.word_set(_own_text(p)))]
    others = [p for p in products if p not in matching]
    # and a style whose green product matches while another colour of it does not
    assert others, "the search lets no other colour of a style in"
    style = next(
        p["centraProduct"]
        for p in others
        if p["centraProduct"] in {m["centraProduct"] for m in matching}
    )
    green = [p for p in matching if p["centraProduct"] == style]

    # When the shopper searches for it
    counts, found = every_page(client, listing_url("/search", Listing(search=word)))

    # Then the cards are the products matching by their own words: the green variant,
    # not its other colours; the heading counts them
    links = {link for link, _, _ in found}
    assert links
    assert links <= {uri_path(p["uri"]) for p in matching}
    assert {uri_path(p["uri"]) for p in green} <= links
    assert not links & {uri_path(p["uri"]) for p in others}
    assert set(counts) == {len(found)}
