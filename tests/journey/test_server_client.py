"""A server-side client of Centra's Checkout API, run twice: against the sandbox directly with
the shared secret, and through the BFF with only the base URL and the key changed. Every answer
must be the same (the session's own ids aside): the BFF is a drop-in for Centra for servers too.

The journey: create a selection with ``PUT selection``, add an item, ``POST`` and ``DELETE
lines/{line}/quantity/1``, add and remove a voucher both ways (by path and by body), pay with
the redirect method, ``payment-result``, ``GET receipt``. Then, for a browser-side session:
``PUT countries/DE`` through the BFF, and the very next catalog answer with that token is in
the German market's currency and carries the token.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from storefront import embedded
from tests.checkout.fixtures import gunicorn_env, start_gunicorn
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.support import first_difference

API_KEY = "journey-server-key-0123456789"
FRONTEND = "https://shop.example"
# Values that belong to one session or one order, not to the API's behaviour: the two runs
# create their own, so they are compared by position (same shape, same places), not by value.
SESSION_KEYS = frozenset({"token", "line", "order", "url", "date", "orderDate", "selection"})


@dataclass
class Api:
    base: str  # ends with /api/checkout/
    authorization: str
    token: str | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": self.authorization}
        if self.token:
            headers["API-token"] = self.token
        resp = requests.request(method, self.base + path, json=body, headers=headers, timeout=30)
        data = resp.json()
        if isinstance(data, dict) and isinstance(data.get("token"), str):
            self.token = data["token"]
        return resp.status_code, data


@pytest.fixture(scope="module")
def journey_sandbox() -> Iterator[SandboxProcess]:
    """The Centra the client calls directly."""
    info, proc = start_sandbox_process(["--frontend-url", FRONTEND])
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def bff_sandbox() -> Iterator[SandboxProcess]:
    """A twin of it (same seed, same shop) behind the BFF: each run starts from the same stock,
    so the two runs' answers can be compared whole."""
    info, proc = start_sandbox_process(["--frontend-url", FRONTEND])
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def bff(redis_url: str, bff_sandbox: SandboxProcess) -> Iterator[str]:
    env = gunicorn_env(
        redis_url, bff_sandbox, STOREFRONT_API_KEYS=API_KEY, FRONTEND_ORIGINS=FRONTEND
    )
    port, proc = start_gunicorn(env, workers=1, threads=4)
    yield f"http://127.0.0.1:{port}"
    embedded.stop(proc)


def german_context(sandbox: SandboxProcess) -> dict[str, Any]:
    countries = requests.get(
        sandbox.api + "countries",
        headers={"Authorization": f"Bearer {sandbox.secret}", "API-token": "none"},
        timeout=10,
    ).json()["countries"]
    de = next(c for c in countries if c["country"] == "DE")
    return {"country": "DE", "market": de["market"], "pricelist": de["pricelist"]}


def purchasable_items(sandbox: SandboxProcess, context: dict[str, Any]) -> list[str]:
    """Items that can be bought in the context, whatever the dialect calls their stock."""
    products = requests.post(
        sandbox.api + "products",
        json={**context, "onlyAvailable": True, "limit": 50},
        headers={"Authorization": f"Bearer {sandbox.secret}", "API-token": "none"},
        timeout=30,
    ).json()["products"]
    return [
        i["item"]
        for p in products
        if p.get("price") is not None
        for i in p["items"]
        if i.get("stock") not in ("no", 0, "0", None)
    ]


def provider_pays(url: str) -> dict[str, str]:
    """The shopper at the test payment provider: the page, Pay, the query it returns with."""
    page = requests.get(url, timeout=10).text
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert action, page
    back = requests.post(
        html.unescape(action.group(1)), data={"decision": "pay"}, allow_redirects=False, timeout=10
    )
    assert back.status_code == 303, back.text
    return dict(parse_qsl(urlsplit(back.headers["Location"]).query))


def journey(api: Api, context: dict[str, Any], item: str) -> list[tuple[str, int, Any]]:
    steps: list[tuple[str, int, Any]] = []

    def step(method: str, path: str, body: Any = None) -> Any:
        status, data = api.call(method, path, body)
        steps.append((f"{method} {path}", status, data))
        return data

    created = step("PUT", "selection", {**context, "language": "de"})
    assert api.token, created
    added = step("POST", f"items/{item}")
    line = added["selection"]["items"][0]["line"]
    step("POST", f"lines/{line}/quantity/1")
    step("DELETE", f"lines/{line}/quantity/1")
    step("POST", "vouchers", {"voucher": "PERCENT10"})
    step("DELETE", "vouchers/PERCENT10")
    step("POST", "vouchers", {"voucher": "TEST+CODE"})
    step("DELETE", "vouchers", {"voucher": "TEST+CODE"})
    step("PUT", "payment-methods/sandbox-redirect")
    address = {
        "firstName": "Erika",
        "lastName": "Muster",
        "email": "erika@example.com",
        "address1": "Hauptstr. 1",
        "zipCode": "10115",
        "city": "Berlin",
        "country": "DE",
        "phoneNumber": "030123456",
    }
    paying = step(
        "POST",
        "payment",
        {
            "paymentMethod": "sandbox-redirect",
            "paymentReturnPage": f"{FRONTEND}/checkout/return",
            "paymentFailedPage": f"{FRONTEND}/checkout/failed",
            "termsAndConditions": True,
            "address": address,
        },
    )
    assert paying.get("action") == "redirect", paying
    returned = provider_pays(paying["url"])
    step("POST", "payment-result", {"paymentMethodFields": returned})
    step("GET", "receipt")
    return steps


def comparable(value: Any, names: dict[tuple[str, str], str]) -> Any:
    """``value`` with each session-owned value replaced by its name in order of appearance."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in SESSION_KEYS and isinstance(v, str | int) and not isinstance(v, bool):
                out[k] = names.setdefault((k, str(v)), f"<{k} {len(names)}>")
            else:
                out[k] = comparable(v, names)
        return out
    if isinstance(value, list):
        return [comparable(v, names) for v in value]
    return value


def test_a_server_side_client_gets_the_same_answers_through_the_bff(
    journey_sandbox: SandboxProcess, bff_sandbox: SandboxProcess, bff: str
) -> None:
    context = german_context(journey_sandbox)
    item = purchasable_items(journey_sandbox, context)[0]

    direct = journey(Api(journey_sandbox.api, f"Bearer {journey_sandbox.secret}"), context, item)
    through = journey(Api(f"{bff}/api/checkout/", f"Bearer {API_KEY}"), context, item)

    for (name, status_a, data_a), (_, status_b, data_b) in zip(direct, through, strict=True):
        assert status_a == status_b == 200, (name, data_a, data_b)
    names_a: dict[tuple[str, str], str] = {}
    names_b: dict[tuple[str, str], str] = {}
    for (name, _, data_a), (_, _, data_b) in zip(direct, through, strict=True):
        # the twins serve their images from their own ports
        data_a = json.loads(json.dumps(data_a).replace(journey_sandbox.url, "<sandbox>"))
        data_b = json.loads(json.dumps(data_b).replace(bff_sandbox.url, "<sandbox>"))
        a, b = comparable(data_a, names_a), comparable(data_b, names_b)
        assert a == b, f"{name}: {first_difference(a, b)}"
    receipt = through[-1][2]
    order = receipt.get("order")
    number = order.get("order") if isinstance(order, dict) else order
    assert number, receipt


def test_a_browser_session_moved_to_germany_gets_the_catalog_in_euro(bff: str) -> None:
    api = f"{bff}/api/checkout/"
    browser = requests.Session()
    browser.headers["Origin"] = FRONTEND
    started = browser.get(api + "selection", timeout=10).json()
    token = started["token"]

    moved = browser.put(api + "countries/DE", headers={"API-token": token}, timeout=10)
    assert moved.status_code == 200, moved.text
    answer = browser.post(
        api + "products", json={"limit": 3}, headers={"API-token": token}, timeout=10
    ).json()

    assert answer["token"] == token
    assert answer["products"]
    assert all("EUR" in p["price"] for p in answer["products"])
    # a caller without a token keeps the geo/default context and gets no token key
    anonymous = requests.post(api + "products", json={"limit": 3}, timeout=10).json()
    assert "token" not in anonymous
    assert all("SEK" in p["price"] for p in anonymous["products"])
