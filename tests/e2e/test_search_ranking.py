"""Search in Chromium, at a phone's and a laptop's size: a product-type word typed into the
header's search lists the products named so first and leaves out the ones only a typo of
another word matches ("Tröja" found bags whose care text says "trasa"); a search without
results offers "Menade du …?", and following it finds products.

Words come from the sandbox's catalog (the search page tests' rules, tests/shop/
test_search_page.py). Screenshots: ``var/test-artifacts/screenshots/search/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from catalog.search import normalize, tokenize
from tests.conftest import ARTIFACTS, SandboxProcess
from tests.e2e.conftest import Shop
from tests.shop.search_cases import centra_products, search_words, typed

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "screenshots" / "search"
SIZES = [(390, 844), (1366, 900)]


def _type_word(sandbox: SandboxProcess) -> tuple[str, set[str], int]:
    """A product-type word as a name writes it ("Tröja"), for which Centra also finds products
    through typos only; the products having it themselves (ids) and Centra's count."""
    everything = centra_products(sandbox)
    written = {}
    for p in everything:
        for piece in str(p["name"]).split():
            written.setdefault(normalize(piece), piece)
    best: tuple[int, str, set[str], int] | None = None
    for word in sorted(w for w in written if len(w) >= 5):
        centra = centra_products(sandbox, word)
        own = {p["product"] for p in centra if typed(word, search_words(p))}
        # the word with the most typo-only matches, written with letters beyond ASCII first
        score = (len(centra) - len(own)) * (2 if not written[word].isascii() else 1)
        if own and len(own) < len(centra) and (best is None or score > best[0]):
            best = (score, word, own, len(centra))
    if best is not None:
        _, word, own, count = best
        return written[word][:1].upper() + written[word][1:], own, count
    raise AssertionError("no name word that Centra also matches through typos")


def _count(page: Any) -> int:
    text = page.locator(".listing-head .count").inner_text()
    found = re.match(r"\d+", text.strip())
    assert found is not None, text
    return int(found.group(0))


def _search(page: Any, shop: Shop, text: str) -> None:
    """Type into the header's search when it shows, else open the search URL."""
    box = page.locator("#q")
    if box.count() and box.is_visible():
        box.fill(text)
        box.press("Enter")
        page.wait_for_url(re.compile(r"/search\?"), timeout=15_000)
    else:
        page.goto(shop.url + "/search?" + "q=" + text)


def test_search_ranks_names_first_drops_typos_and_suggests(
    shop: Shop, chromium: Any, sandbox: SandboxProcess
) -> None:
    word, own, centra_count = _type_word(sandbox)
    key = normalize(word)
    long_words = sorted(
        {w for p in centra_products(sandbox) for w in tokenize(p["name"]) if len(w) >= 8}
    )
    mangled = next(
        m
        for w in long_words
        if not centra_products(sandbox, m := w[:1] + "q" + w[2:4] + "x" + w[5:7] + "z" + w[8:])
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        context = chromium.new_context(
            viewport={"width": width, "height": height},
            extra_http_headers={"CF-IPCountry": "SE"},
        )
        page = context.new_page()
        try:
            assert page.goto(shop.url + "/") is not None
            _search(page, shop, word)

            # the products having the word, not Centra's typo matches too
            assert _count(page) == len(own) < centra_count
            # and the first card is named by it
            first = page.locator(".grid .card .card-name").first.inner_text()
            assert any(w.startswith(key) for w in tokenize(first)), first
            page.screenshot(path=str(SHOTS / f"ranked-{width}x{height}.png"), full_page=True)

            # A search without results suggests the nearest words, in Swedish
            _search(page, shop, mangled)
            hint = page.locator(".did-you-mean")
            hint.wait_for(state="visible", timeout=15_000)
            assert hint.inner_text().startswith("Menade du")
            page.screenshot(path=str(SHOTS / f"did-you-mean-{width}x{height}.png"))
            hint.locator("a").click()
            page.wait_for_url(lambda url: mangled not in url, timeout=15_000)
            assert page.locator(".grid .card").count() > 0
            assert _count(page) > 0
        finally:
            context.close()
