"""A shop of a browser test module's own (a sandbox, its cache, gunicorn), and the shopper's
steps in it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from storefront import embedded
from tests.checkout.fixtures import catalog, purchasable
from tests.conftest import ARTIFACTS, SandboxProcess, start_sandbox_process, worker_env
from tests.shop.page_helpers import build_cache


@dataclass
class OwnShop:
    """The BFF served by gunicorn on its own sandbox."""

    url: str
    sandbox: SandboxProcess


def serve_own_shop(redis_url: str, cache: str, name: str) -> Iterator[OwnShop]:
    """A sandbox whose links point at the BFF, a cache built from it in the Redis database at
    ``cache``, gunicorn over both (its Celery broker: the session's ``redis_url``)."""
    port = embedded.free_port()
    url = f"http://127.0.0.1:{port}"
    sandbox, sandbox_proc = start_sandbox_process(["--frontend-url", url])
    proc: subprocess.Popen[bytes] | None = None
    try:
        build_cache(cache, sandbox)
        env = worker_env(
            redis_url,
            sandbox,
            REDIS_URL=cache,
            DJANGO_DEBUG="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            CATALOG_REBUILD_CRON="off",
            # Every test here comes from 127.0.0.1; the limits have tests of their own.
            RATE_LIMIT_AUTH="",
            RATE_LIMIT_PROXY="",
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        proc = embedded.start_gunicorn(
            port, env, log_path=ARTIFACTS / f"gunicorn-{name}-{port}.log", threads=4
        )
        yield OwnShop(url=url, sandbox=sandbox)
    finally:
        embedded.stop(proc)
        embedded.stop(sandbox_proc)  # type: ignore[arg-type]
        redis.Redis.from_url(cache).flushdb()


class Shots:
    """Numbered full-page screenshots into one folder per test."""

    def __init__(self, folder: str) -> None:
        self.dir: Path = ARTIFACTS / "screenshots" / folder
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: Any, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.dir / f"{self.count:02d}-{name}.png"), full_page=True)


def shopper_context(chromium: Any, viewport: dict[str, int], country: str = "SE") -> Any:
    """A fresh browser context (no cookies) in ``country`` (the geo header); narrower than
    900 px it is a phone (touch, mobile viewport)."""
    phone = viewport["width"] < 900
    return chromium.new_context(
        viewport=viewport,
        is_mobile=phone,
        has_touch=phone,
        extra_http_headers={"CF-IPCountry": country},
    )


def new_shopper(chromium: Any) -> Any:
    """A fresh browser context (no cookies) from Sweden, on a laptop."""
    return shopper_context(chromium, {"width": 1280, "height": 900})


def product_with_sizes(sandbox: SandboxProcess, sizes: int = 2, skip: int = 0) -> dict[str, Any]:
    """A product with at least ``sizes`` sizes in stock (the ``skip``-th such product)."""
    found = [
        p
        for p in catalog(sandbox)
        if p.get("price") and sum(purchasable(i) for i in p["items"]) >= sizes
    ]
    assert len(found) > skip, "the sandbox has too few products in stock"
    return found[skip]


def in_stock(product: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in product["items"] if purchasable(i)]


def add_sizes(
    page: Any, own_shop: OwnShop, product: dict[str, Any], items: list[dict[str, Any]]
) -> None:
    """On the product page, pick each size and press "Add to bag" (the script's fetch)."""
    page.goto(f"{own_shop.url}/{product['uri']}")
    page.wait_for_selector("h1.product-name")
    for item in items:
        count = int(page.locator("[data-cart-count]").inner_text())
        page.locator(f'button.size[data-item="{item["item"]}"]').click()
        page.locator("button.add").click()
        page.wait_for_function(
            "n => document.querySelector('[data-cart-count]').textContent === String(n)",
            arg=count + 1,
        )
    assert page.locator("[data-status]").inner_text() == "Tillagd i varukorgen"


def fill_checkout(page: Any, payment: str) -> None:
    for name, value in ADDRESS.items():
        page.fill(f'[name="{name}"]', value)
    page.check(f'input[name="paymentMethod"][value="{payment}"]')
    page.check('input[name="termsAndConditions"]')


def bag_items(page: Any) -> list[str]:
    return [
        str(i) for i in page.locator(".co-line").evaluate_all("ls => ls.map(l => l.dataset.item)")
    ]


ADDRESS = {
    "email": "guest.shopper@example.com",
    "firstName": "Greta",
    "lastName": "Gäst",
    "address1": "Sveavägen 10",
    "zipCode": "113 57",
    "city": "Stockholm",
    "phoneNumber": "0701234567",
}


def put_in_bag(page: Any, shop_url: str, item: str) -> None:
    """One item into the bag as the product page's script does (same-origin fetch)."""
    page.goto(shop_url + "/")
    status = page.evaluate(
        """item => fetch("/api/checkout/items/" + encodeURIComponent(item), {
          method: "POST", credentials: "same-origin", headers: {Accept: "application/json"}
        }).then(r => r.status)""",
        item,
    )
    assert status in (200, 201), status


def bag_without_javascript(chromium: Any, shop_url: str, item: str, viewport: Any) -> Any:
    """A browser context with JavaScript off whose bag holds ``item`` (put there by a
    context with JavaScript, whose cookies it takes over)."""
    headers = {"CF-IPCountry": "SE"}
    with_js = chromium.new_context(viewport=viewport, extra_http_headers=headers)
    put_in_bag(with_js.new_page(), shop_url, item)
    cookies = with_js.cookies()
    with_js.close()
    context = chromium.new_context(
        viewport=viewport, java_script_enabled=False, extra_http_headers=headers
    )
    context.add_cookies(cookies)
    return context
