"""A listing's later pages and its active filters, as the HTML says them (issue 15, point 4).

- Page n > 1 of a listing is a page of its own: its title and meta description say "page n"
  in the page's language, its canonical is its own URL (``page=n``, filters dropped as on page
  1) and ``rel=prev``/``rel=next`` link its neighbours.
- A filtered listing shows each active filter as a chip above the grid, linking to the same
  listing without that value, and a "Clear all" link; an unfiltered one shows none.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.catalog.cache_fixtures import BuiltCache
from tests.shop_client import ShopClient

# The category with the most products: it has more than one page.
CATEGORY = "/se/sv/womens"


@pytest.fixture
def client(cache: BuiltCache) -> Client:
    return ShopClient()


def html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found is not None
    return unescape(found.group(1))


def description(page: str) -> str:
    found = re.search(r'<meta name="description" content="([^"]*)">', page)
    assert found is not None
    return unescape(found.group(1))


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'<link rel="{rel}" href="([^"]+)">', page)
    return unescape(found.group(1)) if found else None


def chips(page: str) -> list[tuple[str, str]]:
    """(visible text, href) of each active-filter chip, "Clear all" last."""
    block = re.search(r'<section class="active-filters"[^>]*>(.*?)</section>', page, re.S)
    if block is None:
        return []
    out = []
    for href, text in re.findall(
        r'<a class="filter-[a-z]+" href="([^"]+)"[^>]*>(.*?)</a>', block.group(1), re.S
    ):
        visible = re.sub(r'<span class="visually-hidden">.*?</span>', "", text)
        visible = re.sub(r'<span[^>]*aria-hidden="true"[^>]*>.*?</span>', "", visible)
        out.append((" ".join(unescape(re.sub(r"<[^>]+>", "", visible)).split()), unescape(href)))
    return out


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def facet_values(client: Client, path: str, field: str) -> list[dict[str, Any]]:
    """Centra's facet values (with products) of a listing, from its JSON page model."""
    model = client.get(path, headers={"Accept": "application/json"}).json()
    facet = next(f for f in model["filter"] if f["field"] == field)
    return [v for v in facet["values"] if v.get("count")]


# -- later pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "word"), [(CATEGORY, "Sida"), ("/se/de/womens", "Seite")], ids=["sv", "de"]
)
def test_page_two_has_a_title_and_description_of_its_own(
    client: Client, category: str, word: str
) -> None:
    first = html(client.get(category))
    second = html(client.get(f"{category}?page=2"))

    # Page 1 says no page; page 2 says which it is, in the page's language
    assert word not in title(first)
    assert title(second) != title(first)
    assert f"\u2013 {word} 2 |" in title(second)
    assert description(second) != description(first)
    assert description(second).startswith(description(first))
    assert description(second).endswith(f"{word} 2")

    # Its canonical is its own URL, and it links its neighbours
    assert link(second, "canonical") == f"http://testserver{category}?page=2"
    assert link(second, "prev") == category
    assert link(second, "next") is None or query(link(second, "next") or "")["page"] == ["3"]


def test_a_filtered_page_two_says_its_page_and_points_to_the_plain_one(client: Client) -> None:
    size = max(facet_values(client, CATEGORY, "items.name"), key=lambda v: v["count"])
    page = html(client.get(f"{CATEGORY}?size={size['value']}&page=2"))
    assert "\u2013 Sida 2 |" in title(page)
    assert '<meta name="robots" content="noindex,follow">' in page
    assert link(page, "canonical") == f"http://testserver{CATEGORY}?page=2"


def test_search_page_two_says_its_page(client: Client) -> None:
    page = html(client.get("/search?page=2"))
    assert title(page).startswith("Alla produkter \u2013 Sida 2 |")


# -- active filter chips ---------------------------------------------------------------------


def test_an_unfiltered_listing_has_no_chips(client: Client) -> None:
    assert chips(html(client.get(CATEGORY))) == []
    assert chips(html(client.get(f"{CATEGORY}?sort=price-asc&page=2"))) == []


def test_each_active_filter_is_a_chip_that_removes_it(client: Client) -> None:
    # Given a listing filtered by a colour, a size and "in stock only", sorted
    colour = facet_values(client, CATEGORY, "swatch.desc")[0]["value"]
    size = facet_values(client, CATEGORY, "items.name")[0]["value"]
    page = html(
        client.get(
            CATEGORY,
            {"colour": colour, "size": size, "available": "1", "sort": "price-asc", "page": "1"},
        )
    )

    # Then one chip per filter, named in Swedish, and "Clear all"
    found = chips(page)
    assert [text for text, _ in found] == [
        f"Färg: {colour}",
        f"Storlek: {size}",
        "Endast i lager",
        "Rensa alla",
    ]
    # Each chip links to the same listing (sort kept, page 1) without its own value
    hrefs = [href for _, href in found]
    assert all(urlsplit(h).path == CATEGORY for h in hrefs)
    assert query(hrefs[0]) == {"size": [size], "available": ["1"], "sort": ["price-asc"]}
    assert query(hrefs[1]) == {"colour": [colour], "available": ["1"], "sort": ["price-asc"]}
    assert query(hrefs[2]) == {"colour": [colour], "size": [size], "sort": ["price-asc"]}
    assert query(hrefs[3]) == {"sort": ["price-asc"]}
    # ... and each says to a screen reader what it does
    assert page.count('<span class="visually-hidden">Ta bort filter:</span>') == 3

    # Following a chip: that filter is gone, the others stay as chips
    after = html(client.get(hrefs[0]))
    assert [text for text, _ in chips(after)] == [
        f"Storlek: {size}",
        "Endast i lager",
        "Rensa alla",
    ]


def test_chips_keep_the_search_and_the_language(client: Client) -> None:
    brand = facet_values(client, "/se/de/search", "brands")[0]
    page = html(client.get("/se/de/search", {"q": "a", "brand": brand["value"]}))
    found = chips(page)
    assert [text for text, _ in found][-1] == "Alle entfernen"
    assert found[0][0].startswith("Marke: ")
    assert urlsplit(found[0][1]).path == "/se/de/search"
    assert query(found[0][1]) == {"q": ["a"]}
    assert query(found[-1][1]) == {"q": ["a"]}


def test_a_chosen_value_the_listing_does_not_know_is_still_removable(client: Client) -> None:
    found = chips(html(client.get(CATEGORY, {"colour": "No such colour"})))
    assert found[0][0] == "Färg: No such colour"
    assert query(found[0][1]) == {}
