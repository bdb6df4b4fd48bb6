"""The path rules, listing URLs and page-model helpers of ``shop.routing`` (no I/O)."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.listings import clean_html
from shop.paths import (
    MAX_PAGE,
    MAX_PATH_CHARS,
    PAGE_SIZE,
    Listing,
    listing_url,
    path_decision,
    uri_path,
)


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("/jeans", "jeans"),
        ("/womens/clothing/jeans", "womens/clothing/jeans"),
        ("/jeans/slim-5-pocket-jeans-white", "jeans/slim-5-pocket-jeans-white"),
        ("/grön-tröja", "grön-tröja"),
        ("/a b", "a b"),
        ("/100%", "100%"),
        ("/x?y", "x?y"),  # a decoded %3F is part of the uri, matched exactly
    ],
)
def test_a_plain_path_is_looked_up_exactly(path: str, uri: str) -> None:
    # When
    decision = path_decision(path)

    # Then
    assert decision.action == "lookup"
    assert decision.uri == uri


@pytest.mark.parametrize(
    ("path", "target"),
    [("/jeans/", "/jeans"), ("/womens/clothing/", "/womens/clothing"), ("/jeans///", "/jeans")],
)
def test_a_trailing_slash_redirects_to_the_path_without_it(path: str, target: str) -> None:
    assert path_decision(path).action == "redirect"
    assert path_decision(path).uri == target


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "//",
        "//evil.example/",  # must never become a protocol-relative redirect
        "//evil.example",
        "/a//b",
        "/../etc/passwd",
        "/a/./b",
        "/a/..",
        "/nul\x00byte",
        "/new\nline",
        "/tab\there",
        "/\x7f",
        "/" + "a" * MAX_PATH_CHARS,
        "relative",
        "",
    ],
)
def test_hostile_paths_are_not_found_without_a_lookup(path: str) -> None:
    assert path_decision(path).action == "not_found"


@given(st.text(max_size=300))
def test_path_decision_never_raises_and_redirects_stay_on_site(text: str) -> None:
    # Given any decoded path
    path = "/" + text

    # When
    decision = path_decision(path)

    # Then a redirect is to a local path, one slash, no trailing slash
    if decision.action == "redirect":
        assert decision.uri.startswith("/")
        assert not decision.uri.startswith("//")
        assert not decision.uri.endswith("/")
    if decision.action == "lookup":
        assert decision.uri
        assert "//" not in decision.uri


@given(st.text(min_size=1, max_size=100).filter(lambda s: "/" not in s))
def test_uri_path_round_trips_through_one_decoding(segment: str) -> None:
    # Given a Centra uri of two segments with any characters
    uri = f"womens/{segment}"

    # When it becomes a link and a server decodes the link's path once
    link = uri_path(uri)

    # Then the decoded path is exactly the uri, and the link is plain ASCII without ?, #
    assert link.isascii()
    assert "?" not in link
    assert "#" not in link
    assert " " not in link
    assert unquote(link, errors="strict")[1:] == uri


def test_listing_from_a_query_string() -> None:
    # Given
    query = {
        "brand": ["2", "1", "2", " "],
        "colour": ["Red"],
        "size": ["M", "W30/L32"],
        "available": ["1"],
        "sort": ["price-asc"],
        "page": ["3"],
    }

    # When
    listing = Listing.from_query(query)

    # Then
    assert listing.brands == ("1", "2")
    assert listing.colours == ("Red",)
    assert listing.sizes == ("M", "W30/L32")
    assert listing.available
    assert listing.sort == "price-asc"
    assert listing.page == 3
    assert listing.body(category=True) == {
        "limit": PAGE_SIZE,
        "skipFirst": 2 * PAGE_SIZE,
        "brands": ["1", "2"],
        "swatch.desc": ["Red"],
        "items.name": ["M", "W30/L32"],
        "onlyAvailable": True,
        "sortOrder": [{"field": "priceAsNumber", "order": "asc"}],
    }


@pytest.mark.parametrize(
    ("query", "page", "sort"),
    [
        ({"page": ["0"]}, 1, "recommended"),
        ({"page": ["-2"]}, 1, "recommended"),
        ({"page": ["two"]}, 1, "recommended"),
        ({"page": ["٣"]}, 1, "recommended"),  # a non-ASCII digit is not a page number
        ({"page": ["99999999999999999999"]}, MAX_PAGE + 1, "recommended"),
        ({"sort": ["DROP TABLE"]}, 1, "recommended"),
    ],
)
def test_malformed_listing_parameters_are_ignored(
    query: dict[str, list[str]], page: int, sort: str
) -> None:
    listing = Listing.from_query(query)
    assert listing.page == page
    assert listing.sort == sort


def test_the_default_category_order_is_the_merchants() -> None:
    assert Listing().body(category=True)["sortOrder"] == [
        {"field": "categoryItemSort", "order": "asc"}
    ]
    assert "sortOrder" not in Listing().body(category=False)


def test_listing_urls_are_canonical_and_toggle_values() -> None:
    # Given a filtered second page
    listing = Listing(brands=("1",), sizes=("M",), page=2)

    # When a size is added, and the brand removed
    more = listing_url("/womens", listing.toggled("sizes", "L"))
    fewer = listing_url("/womens", listing.toggled("brands", "1"))

    # Then both start again from page 1, in one fixed parameter order
    assert more == "/womens?brand=1&size=L&size=M"
    assert fewer == "/womens?size=M"
    assert listing_url("/womens", Listing()) == "/womens"


def test_listing_url_encodes_values() -> None:
    url = listing_url("/m", Listing(sizes=("W30/L32",), colours=("Röd & blå",)))
    query = parse_qs(urlsplit(url).query)
    assert query == {"colour": ["Röd & blå"], "size": ["W30/L32"]}


def test_descriptions_are_sanitised() -> None:
    # Given merchant HTML with a script, handlers and a javascript: link
    html = (
        '<p onclick="x()">Soft <strong>wool</strong><script>alert(1)</script></p>'
        '<a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)>'
    )

    # When
    clean = clean_html(html)

    # Then the text and harmless markup stay, the rest is gone
    assert "<strong>wool</strong>" in clean
    assert "script" not in clean
    assert "onclick" not in clean
    assert "onerror" not in clean
    assert "javascript:" not in clean
    assert "<img" not in clean
