"""A double click on a first visit, in Chromium (issue 13, item 11).

Without JavaScript a size button is a plain form post to ``/cart/add``. A double click sends
two posts before the first answer; on a first visit neither has a session. They used to start
two Centra sessions, the browser kept the cookie of one, and the item added in the other was
lost. Now the first post without a session only gets a nonce (a 307 back to the same post), and
every add that names the nonce goes to the one session it starts: whatever Centra got, the
browser's bag holds it.

Centra is made a little slow (the sandbox's latency), and the second click comes once the
first post has been sent, while its add is on its way: a double click on a real network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError

from tests.checkout.fixtures import sandbox_log, sandbox_log_clear
from tests.conftest import SandboxProcess
from tests.e2e.own_shop import OwnShop, Shots, in_stock, product_with_sizes, serve_own_shop
from tests.support import wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_shop(redis_url: str, redis_db_url: str) -> Iterator[OwnShop]:
    yield from serve_own_shop(redis_url, redis_db_url, "double-click-e2e")


def adds(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    """The adds that reached Centra, each with the session it went to."""
    return [
        e
        for e in sandbox_log(sandbox)
        if e["method"] == "POST" and e["path"].startswith("/api/checkout/items/")
    ]


def quantity_in(sandbox: SandboxProcess, token: str, item: str) -> int:
    resp = requests.get(sandbox.api + "selection", headers={"API-token": token}, timeout=30)
    resp.raise_for_status()
    lines = resp.json()["selection"]["items"]
    return sum(int(line["quantity"]) for line in lines if line["item"] == item)


def settled(sandbox: SandboxProcess, token: str, item: str) -> bool:
    """Every add Centra got went to the browser's session, and its bag counts them all."""
    seen = adds(sandbox)
    return (
        bool(seen)
        and all(e["headers"].get("API-token") == token for e in seen)
        and quantity_in(sandbox, token, item) == len(seen)
    )


def wait_for_bag(page: Any, url: str) -> None:
    """``page.wait_for_url``, through the first navigation that the second click aborts."""
    for _ in range(3):
        try:
            page.wait_for_url(url, timeout=30_000)
            return
        except PlaywrightError as e:
            if "ERR_ABORTED" not in str(e):
                raise
    raise AssertionError(f"never reached {url}")


def first_post(request: Any) -> bool:
    return "/cart/add" in request.url and request.method == "POST"


def first_add(request: Any) -> bool:
    """The post that goes on to Centra: the re-post with the nonce (after the 307)."""
    return first_post(request) and request.redirected_from is not None


@pytest.mark.parametrize(
    ("second_click", "adds_expected"),
    [(first_post, None), (first_add, 2)],
    ids=["while-the-first-post-is-sent", "while-the-first-add-is-at-centra"],
)
def test_a_double_click_on_a_first_visit_keeps_every_item_in_the_one_bag(
    own_shop: OwnShop, chromium: Any, second_click: Any, adds_expected: int | None
) -> None:
    """Two timings of the second click: at once (the browser then drops the first post; at
    most one add happens), and once the first add is on its way to Centra (both happen, and
    the bag has the item twice). Screenshots: ``double-click``."""
    shots = Shots("double-click")
    product = product_with_sizes(own_shop.sandbox, 1)
    item = in_stock(product)[0]["item"]
    # Given a first visit without JavaScript (the size buttons are plain form posts)
    context = chromium.new_context(
        java_script_enabled=False,
        viewport={"width": 1280, "height": 900},
        extra_http_headers={"CF-IPCountry": "SE"},
    )
    page = context.new_page()
    page.goto(f"{own_shop.url}/{product['uri']}")
    shots(page, "product")
    sandbox_log_clear(own_shop.sandbox)
    own_shop.sandbox.control("PUT", "faults", json={"latencyMs": 300}).raise_for_status()
    try:
        # When the shopper clicks a size twice: the second click once the first post is on
        # its way (a browser sends both; the page is still there while the first waits)
        box = page.locator(f'button.size[data-item="{item}"]').bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        with page.expect_request(second_click):
            page.mouse.click(x, y)
        page.mouse.click(x, y)  # the mouse, not a locator: it does not wait for the first
        wait_for_bag(page, f"{own_shop.url}/cart")
        shots(page, "bag")

        # Then every add that reached Centra is in the bag the browser holds
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        token = cookies["centra_token"]
        wait_for(
            lambda: settled(own_shop.sandbox, token, item),
            timeout=20,
            what="every add in the browser's bag",
        )
        assert f'data-item="{item}"' in page.content()
        if adds_expected is not None:
            assert quantity_in(own_shop.sandbox, token, item) == adds_expected
        assert "bag_nonce" not in cookies  # done with once the session's cookie is set
    finally:
        own_shop.sandbox.control("PUT", "faults", json={"latencyMs": 0}).raise_for_status()
        context.close()
