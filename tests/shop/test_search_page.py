"""The shop's search page ranks by relevance (catalog.search.relevance) and leaves out typo
matches when products match as typed; a search without results suggests the nearest words.
The Centra-compatible API keeps Centra's order and results.

Over the built cache of the default sandbox in Sweden (market 1, SEK, Swedish). Queries are
built from the catalog's own data, asked of the sandbox, never hard-coded.
"""

from __future__ import annotations

import math
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from catalog.search import tokenize
from shop.paths import PAGE_SIZE
from tests.catalog.cache_fixtures import BuiltCache, sandbox_call, trusted
from tests.conftest import SandboxProcess
from tests.shop.search_cases import centra_products, named_words, search_words, typed
from tests.shop_client import ShopClient
from tests.support import without_token

SE = {"market": "1", "pricelist": "1", "language": "sv"}
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def client(cache: BuiltCache) -> Client:
    return ShopClient()


def _listed(client: Client, query: str) -> list[dict[str, Any]]:
    """Every product the search page lists for ``query``, page after page, in its order."""
    first = client.get("/search", {"q": query}, **JSON)
    assert first.status_code == 200
    model = first.json()
    out = list(model["products"])
    pages = math.ceil(model["productCount"] / PAGE_SIZE)
    for n in range(2, pages + 1):
        out += client.get("/search", {"q": query, "page": n}, **JSON).json()["products"]
    assert len(out) == model["productCount"]
    return out


def _ordered_first(listed: list[dict[str, Any]], first: set[str]) -> bool:
    """The products of ``first`` (ids) all come before every other product."""
    flags = [p["product"] not in first for p in listed]
    return flags == sorted(flags)


def test_a_brand_name_lists_the_brands_products_first(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a word of a brand's name that Centra also finds in other products' texts, and for
    # which Centra lists another product before one of the brand's
    everything = centra_products(sandbox)
    brands = {p["brandName"] for p in everything}
    chosen = None
    for brand in sorted(brands):
        for word in tokenize(brand):
            centra = centra_products(sandbox, word)
            others = [p for p in centra if p["brandName"] != brand]
            if any(word in named_words(p) for p in others):
                continue  # another product is named by it too: not only the brand's word
            flags = [p["brandName"] != brand for p in centra]
            if others and flags != sorted(flags):
                chosen = (brand, word, centra)
                break
        if chosen:
            break
    assert chosen is not None, "no brand word that Centra ranks among other products"
    brand, word, centra = chosen

    # When the shopper searches for it
    listed = _listed(client, word)

    # Then the brand's products come first, all of them
    mine = {p["product"] for p in centra if p["brandName"] == brand}
    assert _ordered_first(listed, mine), [p["brandName"] for p in listed]
    assert mine <= {p["product"] for p in listed}


def test_a_product_type_lists_name_matches_before_description_matches_and_no_typos(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a word of product names that Centra finds in other products' descriptions too
    # (and listed among the named ones)
    everything = centra_products(sandbox)
    chosen = None
    candidates = sorted({w for p in everything for w in tokenize(p["name"]) if len(w) >= 4})
    for word in candidates:
        centra = centra_products(sandbox, word)
        named = {p["product"] for p in centra if typed(word, named_words(p))}
        flags = [p["product"] not in named for p in centra]
        weak = [p for p in centra if p["product"] not in named and typed(word, search_words(p))]
        if named and weak and flags != sorted(flags):
            chosen = (word, centra, named)
            break
    assert chosen is not None, "no name word Centra lists among description matches"
    word, centra, named = chosen

    # When the shopper searches for it
    listed = _listed(client, word)

    # Then the products named so come first
    assert _ordered_first(listed, named)
    # and a product is only listed when it or another colour of its style has the word as
    # typed: the ones Centra finds through a typo of another word are left out
    styles = {p["centraProduct"] for p in centra if typed(word, search_words(p))}
    assert all(p["centraProduct"] in styles for p in listed)
    assert {p["product"] for p in listed} <= {p["product"] for p in centra}


def test_the_typo_rule_a_tröja_search_drops_typo_matches(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a name word for which Centra also lists products that only a typo matches (as
    # "tröja" finds bags whose care text says "trasa")
    everything = centra_products(sandbox)
    chosen = None
    for word in sorted({w for p in everything for w in tokenize(p["name"]) if len(w) >= 5}):
        centra = centra_products(sandbox, word)
        styles = {p["centraProduct"] for p in centra if typed(word, search_words(p))}
        if any(p["centraProduct"] not in styles for p in centra):
            chosen = (word, centra, styles)
            break
    assert chosen is not None, "no word that Centra matches through typos"
    word, centra, styles = chosen

    # When the shopper searches for it
    listed = _listed(client, word)

    # Then only the products having it as typed (or their other colours) are listed, and all
    # those having it themselves
    assert listed
    ids = {p["product"] for p in listed}
    assert ids <= {p["product"] for p in centra if p["centraProduct"] in styles}
    assert {p["product"] for p in centra if typed(word, search_words(p))} <= ids


def test_a_typo_still_finds(client: Client, sandbox: SandboxProcess) -> None:
    # Given a long name word with two neighbouring letters swapped (one edit)
    everything = centra_products(sandbox)
    word = max(sorted({w for p in everything for w in tokenize(p["name"])}), key=len)
    typo = word[:2] + word[3] + word[2] + word[4:]
    assert typo != word

    # When the shopper searches for the typo
    listed = _listed(client, typo)

    # Then the products named by the word are listed, first
    named = {p["product"] for p in everything if word in named_words(p)}
    assert named
    assert named <= {p["product"] for p in listed}
    assert _ordered_first(listed, named)


def test_a_search_without_results_suggests_the_nearest_word(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a name word three edits away from itself, which Centra finds nothing for
    everything = centra_products(sandbox)
    words = sorted({w for p in everything for w in tokenize(p["name"]) if len(w) >= 8})
    query = None
    for word in words:
        mangled = word[:1] + "q" + word[2:4] + "x" + word[5:7] + "z" + word[8:]
        if not centra_products(sandbox, mangled):
            query = mangled
            break
    assert query is not None

    # When the shopper searches for it
    response = client.get("/search", {"q": query})

    # Then the page says so and offers the nearest word as a link, in Swedish
    assert response.status_code == 200
    page = response.content.decode()
    found = re.search(
        r'<p class="did-you-mean">Menade du <a href="([^"]+)">([^<]+)</a>\?</p>', page
    )
    assert found is not None, page[page.find('class="results"') :][:1500]
    link, suggestion = unescape(found.group(1)), unescape(found.group(2))
    assert parse_qs(urlsplit(link).query)["q"] == [suggestion]
    # and the suggestion has results
    model = client.get(link, **JSON).json()
    assert model["productCount"] > 0
    assert "didYouMean" not in model
    # and a search with results suggests nothing
    assert "did-you-mean" not in client.get(link).content.decode()


def test_the_api_keeps_centras_order_and_results(
    cache: BuiltCache, sandbox: SandboxProcess
) -> None:
    # Given searches the page ranks and filters (a name word, a typo, a brand word)
    everything = centra_products(sandbox)
    name_word = max(sorted({w for p in everything for w in tokenize(p["name"])}), key=len)
    brand_word = sorted(tokenize(everything[0]["brandName"]))[0]
    for search in (
        name_word,
        name_word[:2] + name_word[3] + name_word[2] + name_word[4:],
        brand_word,
    ):
        body = {**SE, "search": search, "limit": 1000}
        # When the Centra-compatible API answers it
        ours = ShopClient().post(
            "/api/checkout/products", body, content_type="application/json", **trusted()
        )
        # Then it is Centra's answer, order and all
        assert ours.status_code == 200
        assert ours.json() == without_token(sandbox_call(sandbox, "POST", "products", body).json())


def test_a_searchs_default_order_is_called_relevance(client: Client) -> None:
    # A search's default order is its relevance ranking, a category's the merchant's
    search = client.get("/se/sv/search?q=jeans").content.decode()
    category = client.get("/se/de/womens").content.decode()

    assert '<option value="recommended" selected>Relevans</option>' in search
    assert '<option value="recommended" selected>Empfohlen</option>' in category
    assert '<option value="price-asc">Pris: lägst först</option>' in search


def test_a_suggestion_is_written_as_the_catalog_writes_it(
    client: Client, sandbox: SandboxProcess
) -> None:
    # Given a Swedish name word with a letter the index folds (ä -> a), mistyped in its plain
    # letters so that Centra finds nothing
    everything = centra_products(sandbox)
    written = {
        token.lower()
        for p in everything
        for token in re.findall(r"[^\W_]+", p["name"])
        if not token.isascii() and len(token) >= 8
    }
    query = None
    for word in sorted(written):
        # three of its plain letters replaced, as in the test above (Centra's typo tolerance
        # is narrower than the suggestion's reach)
        plain = [i for i, ch in enumerate(word) if ch.isascii() and i > 0]
        chosen = {plain[0], plain[len(plain) // 2], plain[-1]}
        mangled = "".join("q" if i in chosen else ch for i, ch in enumerate(word))
        if len(chosen) == 3 and not centra_products(sandbox, mangled):
            query = mangled
            break
    assert query is not None

    # When the shopper searches for it
    page = client.get("/se/sv/search", {"q": query}).content.decode()

    # Then "did you mean" offers the word with its letters, not the index's folded form
    found = re.search(r'<p class="did-you-mean">Menade du <a href="[^"]+">([^<]+)</a>', page)
    assert found is not None
    assert not unescape(found.group(1)).isascii(), found.group(1)
    assert unescape(found.group(1)) in written
