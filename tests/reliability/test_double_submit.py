"""A double submission on a first visit (issue 13, item 11), as raw parallel requests to the
BFF under gunicorn.

Two posts of the size picker that both arrive without a session used to start two Centra
sessions; the browser kept the cookie of one, and the other's item was lost to the shopper.
Now a first post without a session or a nonce only gets a nonce cookie and a 307 back to the
same form (nothing is called), and every post that names the nonce lands in the one session
it starts. The browser's side of it: ``tests/e2e/test_double_click.py``.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from tests.checkout.fixtures import catalog, purchasable, sandbox_log, sandbox_log_clear
from tests.e2e.own_shop import OwnShop, serve_own_shop

NONCE = "n" * 32  # what the 307 would have set (32 URL-safe characters)


@pytest.fixture(scope="module")
def own_shop(redis_url: str, redis_db_url: str) -> Iterator[OwnShop]:
    yield from serve_own_shop(redis_url, redis_db_url, "double-submit")


def post_add(
    shop: OwnShop, item: str, cookies: dict[str, str], path: str = "/cart/add"
) -> tuple[int, dict[str, str], dict[str, str], str]:
    """One form post of the size picker: (status, headers, the cookies it sets, the page)."""
    host = shop.url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=60)
    try:
        headers = {
            "Host": host,
            "Origin": shop.url,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        conn.request("POST", path, urlencode({"item": item}), headers)
        resp = conn.getresponse()
        page = resp.read().decode()
        jar: SimpleCookie = SimpleCookie()
        for value in resp.headers.get_all("Set-Cookie") or []:
            jar.load(value)
        cookies_set = {k: m.value for k, m in jar.items()}
        return resp.status, dict(resp.getheaders()), cookies_set, page
    finally:
        conn.close()


def in_parallel(*calls: Any) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def an_item(shop: OwnShop) -> str:
    products = catalog(shop.sandbox)
    return next(i["item"] for p in products if p.get("price") for i in p["items"] if purchasable(i))


def selection(shop: OwnShop, token: str) -> dict[str, Any]:
    resp = requests.get(shop.sandbox.api + "selection", headers={"API-token": token}, timeout=30)
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


def test_a_first_post_only_gets_a_nonce_and_calls_nothing(own_shop: OwnShop) -> None:
    item = an_item(own_shop)
    sandbox_log_clear(own_shop.sandbox)

    status, headers, cookies, _ = post_add(own_shop, item, {})

    assert status == 307  # the same post again, body and all
    assert headers["Location"] == "/cart/add?first=1"
    assert len(cookies["bag_nonce"]) == 32
    assert "centra_token" not in cookies
    assert sandbox_log(own_shop.sandbox) == []


def test_two_parallel_posts_with_the_nonce_land_in_one_bag(own_shop: OwnShop) -> None:
    # Given a browser that has its nonce and no session yet, and Centra a little slow (so the
    # two posts overlap at Centra, as a double click's do)
    item = an_item(own_shop)
    own_shop.sandbox.control("PUT", "faults", json={"latencyMs": 200}).raise_for_status()
    try:
        # When it posts the same size twice at once
        nonce = {"bag_nonce": NONCE}
        answers = in_parallel(
            lambda: post_add(own_shop, item, nonce, "/cart/add?first=1"),
            lambda: post_add(own_shop, item, nonce),
        )
    finally:
        own_shop.sandbox.control("PUT", "faults", json={"latencyMs": 0}).raise_for_status()

    # Then both are added to the bag, and both answers hand the browser that one session
    assert [status for status, _, _, _ in answers] == [303, 303]
    tokens = {cookies["centra_token"] for _, _, cookies, _ in answers}
    assert len(tokens) == 1
    (token,) = tokens
    lines = selection(own_shop, token)["selection"]["items"]
    assert sum(line["quantity"] for line in lines if line["item"] == item) == 2
    # and the nonce is done with once the session's cookie is set
    assert all(cookies.get("bag_nonce") == "" for _, _, cookies, _ in answers)


def test_the_repeat_without_the_cookie_says_the_browser_refuses_cookies(
    own_shop: OwnShop,
) -> None:
    item = an_item(own_shop)
    sandbox_log_clear(own_shop.sandbox)
    status, _, _, page = post_add(own_shop, item, {}, "/cart/add?first=1")
    assert status == 400
    assert "tar inte emot cookies" in page
    assert sandbox_log(own_shop.sandbox) == []
