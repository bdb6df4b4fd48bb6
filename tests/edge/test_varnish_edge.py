"""The edge cache for real: varnishd running ``edge/default.vcl`` in front of the BFF under
gunicorn, a real Celery worker purging it, and a sandbox that sends signed webhooks when the
merchant edits (``tests/edge/edge_stack.py``).

Bound stated here: a price edit shows through the edge within ``DEADLINE`` (generous: the
tests only need it to happen; ``python -m bench.edge`` measures the p50/p95, target p95 <=
500 ms). Hits are read from the VCL's ``X-Edge`` header (HIT/MISS/PASS) and Varnish's own
``X-Varnish`` (two transaction ids on a hit).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.edge.edge_stack import EdgeStack, edge_stack, prices_of, varnish_missing_reason
from tests.support import wait_for

DEADLINE = 15.0
SEK = {"market": "1", "pricelist": "1", "language": "en"}
JSON = {"Accept": "application/json"}

pytestmark = pytest.mark.skipif(
    varnish_missing_reason() is not None, reason=str(varnish_missing_reason())
)


@pytest.fixture(scope="module")
def edge(own_servers: None) -> Iterator[EdgeStack]:
    with edge_stack("edge") as e:
        yield e


@pytest.fixture(autouse=True)
def quiet(edge: EdgeStack) -> Iterator[None]:
    edge.stack.wait_quiet()
    yield
    edge.stack.wait_quiet()


_taken: set[str] = set()


def take(edge: EdgeStack) -> dict[str, Any]:
    """A product of market 1 no other test edits, with its locale-prefixed page path."""
    _, answer = edge.stack.centra("POST", "products", {**SEK, "limit": 1000})
    for product in answer["products"]:
        if product["product"] not in _taken and product["price"] and not product["relatedProducts"]:
            _taken.add(product["product"])
            path = edge.page_path("/" + product["uri"])
            assert path.startswith("/se/sv/"), path  # the default country's locale prefix
            return {**product, "path": path}
    raise AssertionError("no product left")


def get(url: str, **kwargs: Any) -> requests.Response:
    return requests.get(url, allow_redirects=False, timeout=30, **kwargs)


def test_a_product_page_fetched_twice_is_a_hit_the_second_time(edge: EdgeStack) -> None:
    product = take(edge)
    first = get(edge.edge_url + product["path"])
    second = get(edge.edge_url + product["path"])
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Edge"] == "MISS"
    assert second.headers["X-Edge"] == "HIT"
    assert len(second.headers["X-Varnish"].split()) == 2  # this request's id and the stored one's
    assert second.content == first.content
    # The browser's lifetime is short, the edge's long (s-maxage, in hours)
    cache_control = second.headers["Cache-Control"]
    assert "public" in cache_control
    assert "s-maxage=21600" in cache_control
    assert "xkey" not in {h.lower() for h in second.headers}


def test_a_price_edit_shows_through_the_edge(edge: EdgeStack) -> None:
    product = take(edge)
    pid, url = product["product"], edge.edge_url + product["path"]
    api = f"{edge.edge_url}/api/checkout/products/{pid}"
    before = get(url, headers=JSON).json()
    assert product["priceAsNumber"] in prices_of(before, pid)
    assert get(url, headers=JSON).headers["X-Edge"] == "HIT"
    assert get(api).json()["product"]["priceAsNumber"] == product["priceAsNumber"]
    assert get(api).headers["X-Edge"] == "HIT"
    new_price = product["priceAsNumber"] + 111

    edge.stack.edit(
        "PUT", f"products/{pid}/price", {"pricelist": "1", "price": new_price}, sync=False
    )

    wait_for(
        lambda: (
            prices_of(get(url, headers=JSON).json(), pid) == [new_price]
            and get(api).json()["product"]["priceAsNumber"] == new_price
        ),
        timeout=DEADLINE,
        what=f"price {new_price} of {pid} through the edge",
    )
    # And it is cached again (until the next change)
    edge.stack.wait_quiet()
    get(url, headers=JSON)
    assert get(url, headers=JSON).headers["X-Edge"] == "HIT"


def test_bag_and_checkout_pages_are_never_cached(edge: EdgeStack) -> None:
    product = take(edge)
    visitor = requests.Session()
    visitor.headers["Origin"] = edge.edge_url  # the add-to-bag post's check (no CSRF token)
    page = visitor.get(edge.edge_url + product["path"], timeout=30)
    item = _an_item(page.text)
    # The size picker's post, as a browser sends it: a first visit is sent back once (307)
    # with its nonce cookie, and posts again.
    added = visitor.post(edge.edge_url + "/cart/add", data={"item": item}, allow_redirects=False)
    if added.status_code == 307:
        added = visitor.post(
            edge.edge_url + added.headers["Location"], data={"item": item}, allow_redirects=False
        )
    assert added.status_code == 303, added.text[:300]
    assert visitor.cookies.get("centra_token"), "adding to the bag started no Centra session"
    for path in ("/cart", "/cart", "/checkout", "/checkout"):
        resp = visitor.get(edge.edge_url + path, allow_redirects=False, timeout=30)
        assert resp.headers["X-Edge"] == "PASS", path
        assert len(resp.headers["X-Varnish"].split()) == 1, path
    # Another visitor's bag is empty: the first one's was never stored
    other = get(edge.edge_url + "/cart")
    assert other.headers["X-Edge"] == "PASS"
    bag = visitor.get(edge.edge_url + "/cart", timeout=30)
    assert bag.text != other.text


def test_a_second_visitor_never_sees_the_first_ones_bag_count_or_country(edge: EdgeStack) -> None:
    product = take(edge)
    path = product["path"]
    germany = {"country": "DE", "language": "de", "cart_count": "7", "centra_token": "a" * 32}
    # The first visitor, from Germany with a bag, is the one whose request fills the cache
    first = get(edge.edge_url + path, cookies=germany, headers={"CF-IPCountry": "DE"})
    assert first.headers["X-Edge"] == "MISS"
    # A second visitor from Sweden, without cookies, gets the stored page: the URL's
    second = get(edge.edge_url + path, headers={"CF-IPCountry": "SE"})
    assert second.headers["X-Edge"] == "HIT"
    # ... byte for byte what the origin gives a visitor without cookies (same host: the page's
    # links are absolute): nothing of the first visitor's in it
    host = edge.edge_url.split("://", 1)[1]
    fresh_from_origin = get(edge.origin_url + path, headers={"Host": host})
    assert second.content == fresh_from_origin.content
    # A bare URL sends each visitor to their own prefix, never cached
    bare_first = get(edge.edge_url + "/", cookies={"country": "DE"}, headers={"CF-IPCountry": "DE"})
    bare_second = get(edge.edge_url + "/", headers={"CF-IPCountry": "SE"})
    assert bare_first.headers["X-Edge"] == bare_second.headers["X-Edge"] == "PASS"
    assert bare_second.headers["Location"].rstrip("/").endswith("/se/sv")
    assert bare_first.headers["Location"] != bare_second.headers["Location"]


def test_the_catalog_api_is_cached_per_country_and_passes_a_session(edge: EdgeStack) -> None:
    pid = take(edge)["product"]
    api = f"{edge.edge_url}/api/checkout/products/{pid}"
    sweden = [get(api, cookies={"country": "SE", "other": str(n)}) for n in range(2)]
    germany = [get(api, cookies={"country": "DE", "other": str(n)}) for n in range(2)]
    assert [r.headers["X-Edge"] for r in sweden] == ["MISS", "HIT"]  # other cookies ignored
    assert [r.headers["X-Edge"] for r in germany] == ["MISS", "HIT"]
    # Each country its own answer (SEK, EUR)
    assert sweden[1].json()["product"]["price"] != germany[1].json()["product"]["price"]
    assert sweden[1].json() == sweden[0].json()
    assert germany[1].json() == germany[0].json()
    # A caller with a Centra session is answered by the origin, in that session
    with_token = get(api, headers={"API-token": "b" * 32})
    assert with_token.headers["X-Edge"] == "PASS"


def test_a_purge_needs_a_known_address_and_a_key(edge: EdgeStack) -> None:
    resp = requests.request("PURGE", edge.edge_url + "/", timeout=10)
    assert resp.status_code == 400
    resp = requests.request("PURGE", edge.edge_url + "/", headers={"xkey-purge": "p0"}, timeout=10)
    assert resp.status_code == 200


def _an_item(html: str) -> str:
    """A size's item id from a product page's add-to-bag form."""
    import re

    found = re.findall(r'name="item"[^>]*value="([^"]+)"', html) or re.findall(
        r'value="([^"]+)"[^>]*name="item"', html
    )
    assert found, "no add-to-bag item on the product page"
    return found[0]


def test_a_rebuild_purges_its_market_at_the_edge(edge: EdgeStack) -> None:
    path = take(edge)["path"]
    get(edge.edge_url + path)
    assert get(edge.edge_url + path).headers["X-Edge"] == "HIT"

    edge.stack.rebuild_all_wait()

    wait_for(
        lambda: get(edge.edge_url + path).headers["X-Edge"] == "MISS",
        timeout=DEADLINE,
        what="the page purged after the rebuild",
    )
