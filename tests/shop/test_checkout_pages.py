"""The bag, checkout, payment return and receipt pages through Django's test client, against
the tests' own sandbox (these tests place orders and inject faults there).

The page frame needs the catalog's shop set-up and menu: a cache of this module's own is built
from that sandbox once (:func:`page_cache`), so no page reads through to Centra by accident and
nothing is queued for a worker of another test module.

Shoppers here come from Sweden (the default country): Swedish words, SEK.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import redis
import requests
from django.http import HttpResponse
from django.test import Client, RequestFactory

from checkout import shapes
from checkout.session import follow_visitor_choice
from storefront import localcache
from storefront.centra import CentraClient
from tests.checkout.fixtures import (
    recorded,
    sandbox_log,
    sandbox_log_clear,
    shopper,
)
from tests.conftest import RedisDatabases, SandboxProcess
from tests.shop.page_helpers import (
    OWN,
    add,
    assert_shopper_page,
    field_error,
    fresh_clients,
    sized_product,
    text,
    visible,
)
from tests.shop_client import ShopClient

ADDRESS = {
    "email": "page.shopper@example.com",
    "firstName": "Page",
    "lastName": "Shopper",
    "address1": "Storgatan 1",
    "zipCode": "111 22",
    "city": "Stockholm",
    "country": "SE",
    "phoneNumber": "0701234567",
}


# -- fixtures and helpers ----------------------------------------------------------------------


def cache_url(redis_url: str, db: int) -> str:
    parts = urlsplit(redis_url)
    return parts._replace(path=f"/{db}").geturl()


@pytest.fixture
def centra_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """(method, path, JSON body) of every call this process makes to Centra."""
    calls: list[tuple[str, str, Any]] = []
    real = CentraClient.request

    def spy(self: CentraClient, method: str, path: str, **kwargs: Any) -> Any:
        calls.append((method, path, kwargs.get("json")))
        return real(self, method, path, **kwargs)

    monkeypatch.setattr(CentraClient, "request", spy)
    return calls


class _Forms(HTMLParser):
    """Every <form>: its action, method and the name/value pairs it would send (inputs and
    the first option selected or given of each select; buttons left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action", ""),
                    "method": a.get("method", "get"),
                    "fields": [],
                    "attrs": a,
                }
            )
        elif not self.forms:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in {"submit", "button"}:
            if a.get("type") in {"checkbox", "radio"} and "checked" not in a:
                return
            self.forms[-1]["fields"].append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.forms[-1]["fields"].append((self._select, a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_with(html: str, marker: str) -> dict[str, Any]:
    for f in forms(html):
        if marker in f["attrs"] or f["action"] == marker:
            return f
    raise AssertionError(f"no form {marker}")


def bag_with(client: Client, sandbox: SandboxProcess, sizes: int = 1) -> list[str]:
    _, items = sized_product(sandbox, sizes)
    for item in items:
        add(client, item)
    return items


def choose_payment(client: Client, method: str, **extra: str) -> None:
    page = client.get("/checkout")
    assert page.status_code == 200
    data = {
        **ADDRESS,
        **extra,
        "action": "update",
        "paymentMethod": method,
        "shippingMethod": "sandbox-standard",
    }
    assert client.post("/checkout", data).status_code == 303


def pay(client: Client, method: str, **extra: str) -> Any:
    choose_payment(client, method, **extra)
    data = {
        **ADDRESS,
        "action": "pay",
        "paymentMethod": method,
        "shippingMethod": "sandbox-standard",
        "termsAndConditions": "1",
        **extra,
    }
    return client.post("/checkout", data)


# -- every page renders -----------------------------------------------------------------------


def test_every_page_renders_for_a_first_visit_without_making_a_session(
    shop: SandboxProcess,
) -> None:
    # Given a first visit (no cookies)
    client = shopper()
    sandbox_log_clear(shop)

    # When / then: each page is a shopper's page
    body = assert_shopper_page(client.get("/cart"), 200)
    assert "Din varukorg är tom." in body
    assert_shopper_page(client.get("/checkout/failed"), 200)
    assert "Nothing has been charged" not in body  # Swedish, not English
    assert_shopper_page(client.get("/checkout/receipt"), 404)
    checkout = client.get("/checkout")
    assert checkout.status_code == 303
    assert checkout["Location"] == "/cart"

    # And an empty bag costs no Centra session
    assert "centra_token" not in client.cookies
    assert sandbox_log(shop) == []


def test_pages_answer_only_their_methods(shop: SandboxProcess) -> None:
    client = shopper()
    assert client.post("/cart").status_code == 405
    assert client.get("/cart/add").status_code == 405
    assert client.get("/cart/vouchers").status_code == 405
    assert client.delete("/checkout").status_code == 405


# -- the bag ------------------------------------------------------------------------------------


def test_the_size_picker_without_javascript_lands_on_the_bag(shop: SandboxProcess) -> None:
    # Given a product with two sizes
    _, items = sized_product(shop, 2)
    client = shopper()

    # When a plain form post adds one size
    response = add(client, items[0])

    # Then the shopper lands on the bag, which shows it, and the header count follows
    assert response["Location"] == "/cart"
    page = client.get("/cart")
    body = assert_shopper_page(page, 200)
    assert f'data-item="{items[0]}"' in body
    assert "Tillagd i varukorgen" in visible(page)
    assert client.cookies["cart_count"].value == "1"
    assert client.cookies["centra_token"]["httponly"]
    # The notice is shown once
    assert "Tillagd i varukorgen" not in visible(client.get("/cart"))


def test_the_add_endpoint_refuses_another_sites_post(shop: SandboxProcess) -> None:
    _, items = sized_product(shop, 1)
    sandbox_log_clear(shop)

    # A cross-site form (product pages are cached and carry no CSRF token: Origin decides)
    response = Client(HTTP_ORIGIN="https://evil.example").post("/cart/add", {"item": items[0]})
    assert_shopper_page(response, 403)
    no_origin = ShopClient().post("/cart/add", {"item": items[0]})
    assert_shopper_page(no_origin, 403)
    assert sandbox_log(shop) == []


def test_an_unknown_item_says_so_on_the_bag(shop: SandboxProcess) -> None:
    client = shopper()
    add(client, "999999-999999")
    assert "Storleken kunde inte läggas till." in visible(client.get("/cart"))
    add(client, "../selection")  # refused by the allowlist's rule, before any call
    assert "Storleken kunde inte läggas till." in visible(client.get("/cart"))


def test_quantities_change_and_lines_go(shop: SandboxProcess) -> None:
    # Given two sizes in the bag
    client = shopper()
    items = bag_with(client, shop, 2)
    page = text(client.get("/cart"))
    lines = re.findall(r'action="/cart/lines/([0-9a-f]+)"', page)
    assert len(lines) == 2

    # When the first is raised to 2 (the + button) and the second removed
    assert client.post(f"/cart/lines/{lines[0]}", {"quantity": "2"}).status_code == 303
    assert client.post(f"/cart/lines/{lines[1]}", {"quantity": "0"}).status_code == 303

    # Then
    page = text(client.get("/cart"))
    assert f'data-item="{items[0]}"' in page
    assert f'data-item="{items[1]}"' not in page
    assert re.search(r"data-quantity[^>]*>2<", page)
    assert client.cookies["cart_count"].value == "2"

    # And a made-up line is an error on the bag, not a crash
    client.post("/cart/lines/ffffffffffffffffffffffffffffffff", {"quantity": "1"})
    assert_shopper_page(client.get("/cart"), 200)


def test_vouchers_add_remove_and_an_invalid_code_is_shown_at_the_field(
    shop: SandboxProcess,
) -> None:
    client = shopper()
    bag_with(client, shop)
    before = re.search(r"data-grand-total>([^<]+)<", text(client.get("/cart")))
    assert before is not None

    # An invalid code: back on the bag (303), the error next to the field, in Swedish, and
    # the code kept (tests/shop/test_bag_pages.py has more)
    assert client.post("/cart/vouchers", {"voucher": "NOPE-123"}).status_code == 303
    bad = client.get("/cart")
    assert_shopper_page(bad, 200)
    assert field_error(bad, "voucher") == "Koden är inte giltig."
    assert 'value="NOPE-123"' in text(bad)

    # Codes with "/" and "+" in them are one path segment each way
    for code in ("SUMMER/10", "TEST+CODE"):
        added = client.post("/cart/vouchers", {"voucher": code})
        assert added.status_code == 303
        page = text(client.get("/cart"))
        assert f'data-voucher="{code}"' in page
        assert "data-discount" in page
        assert client.post("/cart/vouchers/remove", {"voucher": code}).status_code == 303
        assert f'data-voucher="{code}"' not in text(client.get("/cart"))

    # Removing a code that is not applied says so
    client.post("/cart/vouchers/remove", {"voucher": "PERCENT10"})
    assert "Koden finns inte på din beställning." in visible(client.get("/cart"))


def test_the_bag_follows_the_visitors_country(shop: SandboxProcess) -> None:
    # Given a bag made in Sweden
    client = shopper()
    bag_with(client, shop)
    assert "SEK" in visible(client.get("/cart"))

    # When the visitor picks Germany with the shop's picker
    picked = client.post(
        "/_/context",
        {"country": "DE", "language": "de", "next": "/cart"},
        HTTP_ORIGIN="http://testserver",  # the picker wants its own origin
    )
    assert picked.status_code == 303

    # Then the bag is in euros, in German, and so is Centra's selection
    page = client.get("/cart")
    words = visible(page)
    assert "Dein Warenkorb" in words
    assert re.search(r"\d\s?EUR", words), words
    token = client.cookies["centra_token"].value
    selection = requests.get(
        shop.api + "selection", headers={"API-token": token}, timeout=10
    ).json()
    assert selection["location"]["country"] == "DE"
    assert selection["selection"]["currency"] == "EUR"


def test_the_picker_moves_centras_selection_at_once(shop: SandboxProcess) -> None:
    """Before any bag page renders: the header's bag count is right on the very next page."""
    # Given a bag made in Sweden
    client = shopper()
    bag_with(client, shop)
    token = client.cookies["centra_token"].value

    # When the visitor picks Germany
    picked = client.post(
        "/_/context", {"country": "DE", "language": "de", "next": "/"}, HTTP_ORIGIN=OWN
    )

    # Then Centra's selection is German already, in German, and the picker's answer carries
    # the bag count
    assert picked.status_code == 303
    selection = requests.get(shop.api + "selection", headers={"API-token": token}, timeout=10)
    assert shapes.session_country(selection.json()) == "DE"
    assert shapes.session_language(selection.json()) == "de"
    assert shapes.currency_code(selection.json()["selection"]) == "EUR"
    assert picked.cookies["cart_count"].value == "1"


def test_the_language_picker_changes_the_language_of_centras_selection(
    shop: SandboxProcess,
) -> None:
    # Given a bag made in Sweden, in Swedish
    client = shopper()
    bag_with(client, shop)
    token = client.cookies["centra_token"].value

    def selection() -> dict[str, Any]:
        answer: dict[str, Any] = requests.get(
            shop.api + "selection", headers={"API-token": token}, timeout=10
        ).json()
        return answer

    assert shapes.session_language(selection()) == "sv"

    # When the visitor picks English, staying in Sweden
    picked = client.post(
        "/_/context", {"country": "SE", "language": "en", "next": "/cart"}, HTTP_ORIGIN=OWN
    )

    # Then Centra answers the selection in English, still in Sweden and in crowns
    assert picked.status_code == 303
    assert shapes.session_language(selection()) == "en"
    assert shapes.session_country(selection()) == "SE"
    assert shapes.currency_code(selection()["selection"]) == "SEK"
    assert "Your bag" in visible(client.get("/cart"))


def test_the_bag_sets_centras_language_when_only_the_sites_changed(
    shop: SandboxProcess, centra_calls: list[tuple[str, str, Any]]
) -> None:
    """The language cookie changed without the picker (another tab, an old cookie): the bag
    page moves Centra's selection with ``PUT languages/{language}``, the country stays."""
    client = shopper()
    bag_with(client, shop)
    token = client.cookies["centra_token"].value
    client.cookies["language"] = "en"
    centra_calls.clear()

    assert "Your bag" in visible(client.get("/cart"))

    assert ("PUT", "languages/en", None) in centra_calls
    assert not [c for c in centra_calls if c[1].startswith("countries/")]
    selection = requests.get(shop.api + "selection", headers={"API-token": token}, timeout=10)
    assert shapes.session_language(selection.json()) == "en"
    # and once in step, a page makes no further call for it
    centra_calls.clear()
    client.get("/cart")
    assert [c[1] for c in centra_calls] == ["selection"]


def test_the_picker_works_when_centra_does_not(
    shop: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = shopper()
    bag_with(client, shop)
    fresh_clients(monkeypatch)
    shop.control("PUT", "faults", json={"errorRate": 1})
    picked = client.post(
        "/_/context", {"country": "DE", "language": "de", "next": "/"}, HTTP_ORIGIN=OWN
    )
    assert picked.status_code == 303
    assert picked.cookies["country"].value == "DE"


def test_the_pickers_hook_moves_an_existing_session_at_once(shop: SandboxProcess) -> None:
    """checkout.session.follow_visitor_choice, for shop.catalog_views.choose_context to call."""
    # Given a shopper with a bag made in Sweden
    client = shopper()
    bag_with(client, shop)
    token = client.cookies["centra_token"].value
    request = RequestFactory().post("/_/context", HTTP_ORIGIN=OWN)
    request.COOKIES["centra_token"] = token

    # When the picker's hook runs for Germany
    response = HttpResponse()
    follow_visitor_choice(request, response, country="DE", language="de")

    # Then Centra's selection is in Germany now, in German, and the bag count cookie is set
    selection = requests.get(shop.api + "selection", headers={"API-token": token}, timeout=10)
    assert shapes.session_country(selection.json()) == "DE"
    assert shapes.session_language(selection.json()) == "de"
    assert response.cookies["cart_count"].value == "1"
    # and the BFF knows where the session stands now (for the catalog's answers)
    where = recorded(token)
    assert where is not None
    assert (where.country, where.language) == ("DE", "de")

    # And without a session it makes none (and no call)
    sandbox_log_clear(shop)
    follow_visitor_choice(
        RequestFactory().post("/_/context"), HttpResponse(), country="DE", language=None
    )
    assert sandbox_log(shop) == []


# -- checkout ------------------------------------------------------------------------------------


def test_checkout_asks_for_centras_payment_fields_and_methods(shop: SandboxProcess) -> None:
    client = shopper()
    bag_with(client, shop)
    page = client.get("/checkout")
    body = assert_shopper_page(page, 200)
    for name in ("email", "firstName", "lastName", "address1", "zipCode", "city", "country"):
        assert f'name="{name}"' in body
    assert re.search(r'name="email"[^>]*required', body)
    assert not re.search(r'name="company"[^>]*required', body)
    assert 'name="state"' not in body  # Sweden has no states
    for method in ("sandbox-redirect", "sandbox-form", "sandbox-success", "sandbox-failed"):
        assert f'value="{method}"' in body
    assert 'value="sandbox-express"' in body
    assert 'name="termsAndConditions"' in body
    assert "csrfmiddlewaretoken" in body


def test_every_field_error_comes_at_once_with_a_summary_then_centras(
    shop: SandboxProcess,
) -> None:
    client = shopper()
    bag_with(client, shop)
    client.get("/checkout")

    # When the shopper pays with a bad email, no first name and the terms unticked
    response = client.post(
        "/checkout",
        {
            **ADDRESS,
            "email": "not-an-email",
            "firstName": "",
            "action": "pay",
            "paymentMethod": "sandbox-success",
            "shippingMethod": "sandbox-standard",
        },
    )

    # Then every one of them is flagged in this one answer (not the terms first and the rest
    # on the next submit), in our words and Swedish
    assert_shopper_page(response, 422)
    assert field_error(response, "termsAndConditions") == "Du behöver godkänna köpvillkoren."
    assert field_error(response, "email") == "Ange en giltig e-postadress."
    assert field_error(response, "firstName") == "Obligatoriskt"
    assert 'value="Storgatan 1"' in text(response)  # what was typed stays
    # And a summary on top of the form links each error to its field (no browser check)
    body = text(response)
    assert re.search(r"<form[^>]*data-checkout[^>]*novalidate", body)
    summary = re.search(r"<div[^>]*data-error-summary[^>]*>(.*?)</div>", body, re.S)
    assert summary is not None
    assert 'tabindex="-1"' in summary.group(0)
    assert "autofocus" in summary.group(0)
    links = re.findall(r'<a href="#(f-\w+)">', summary.group(1))
    assert links == ["f-email", "f-firstName", "f-termsAndConditions"]
    for target in links:
        assert f'id="{target}"' in body

    # When what we can judge is right, Centra's own errors come next to the fields
    response = client.post(
        "/checkout",
        {
            **ADDRESS,
            "email": "greta@localhost",  # an address Django allows and Centra does not
            "action": "pay",
            "termsAndConditions": "1",
            "paymentMethod": "sandbox-success",
            "shippingMethod": "sandbox-standard",
        },
    )
    assert_shopper_page(response, 422)
    assert field_error(response, "email") == "Ange en giltig e-postadress."


def test_a_country_with_states_asks_for_one_and_changes_the_prices(shop: SandboxProcess) -> None:
    client = shopper()
    bag_with(client, shop)
    client.get("/checkout")

    # When the shopper picks the United States (the script submits "update" on change)
    response = client.post("/checkout", {**ADDRESS, "country": "US", "action": "update"})
    assert response.status_code == 303

    # Then the form asks for a state, prices are in dollars, and the site follows (cookie)
    page = client.get("/checkout")
    body = assert_shopper_page(page, 200)
    assert 'name="state"' in body
    assert "USD" in visible(page)
    assert client.cookies["country"].value == "US"
    assert client.cookies["language"].value == "sv"  # the shopper keeps their language

    # And paying without a state is refused next to the state field
    response = pay(client, "sandbox-success", country="US")
    assert response.status_code == 422
    assert field_error(response, "state") == "Obligatoriskt"


def test_a_new_delivery_method_reprices_before_paying(shop: SandboxProcess) -> None:
    client = shopper()
    bag_with(client, shop)
    choose_payment(client, "sandbox-success")
    # Without the script, "Pay" with another delivery method shows the new total first
    response = client.post(
        "/checkout",
        {
            **ADDRESS,
            "action": "pay",
            "paymentMethod": "sandbox-success",
            "shippingMethod": "sandbox-express",
            "termsAndConditions": "1",
        },
    )
    assert response.status_code == 303
    assert response["Location"] == "/checkout"
    page = visible(client.get("/checkout"))
    assert "Din summa har ändrats" in page
    assert "149 SEK" in page


def assert_receipt(receipt: Any, product: dict[str, Any], items: list[str]) -> None:
    """The receipt page of an order of ``items`` of ``product``: the order number, and each
    line with the product's name and image (however Centra shaped the order and its lines)."""
    body = assert_shopper_page(receipt, 200)
    assert "Tack för din beställning" in visible(receipt)
    number = re.search(r'data-order="(\d+)"', body)
    assert number is not None
    assert f"Ditt ordernummer är {number.group(1)}." in visible(receipt)
    lines = re.findall(r'<li class="co-line" data-item="([^"]+)">(.*?)</li>', body, re.S)
    assert sorted(item for item, _ in lines) == sorted(items)
    for _, line in lines:
        assert re.search(r'class="co-line-media"><img src="https?://[^"]+"', line), line
        name = re.search(r'class="co-line-name">(?:<a [^>]*>)?([^<]+)<', line)
        assert name is not None
        assert unescape(name.group(1)) == product["name"]


def test_the_success_action_shows_the_receipt_at_once(shop: SandboxProcess) -> None:
    client = shopper()
    product, items = sized_product(shop, 2)
    for item in items:
        add(client, item)
    response = pay(client, "sandbox-success")
    assert response.status_code == 303
    assert response["Location"] == "/checkout/receipt"
    assert_receipt(client.get("/checkout/receipt"), product, items)
    assert client.cookies["cart_count"].value == "0"
    assert "Din varukorg är tom." in visible(client.get("/cart"))


def test_the_failed_action_explains_and_keeps_the_bag(shop: SandboxProcess) -> None:
    client = shopper()
    items = bag_with(client, shop)
    response = pay(client, "sandbox-failed")
    assert response.status_code == 303
    assert response["Location"] == "/checkout/failed"
    failed = client.get("/checkout/failed")
    assert_shopper_page(failed, 200)
    words = visible(failed)
    assert "Din betalning nekades." in words
    assert "Ingenting har dragits" in words
    assert f'data-item="{items[0]}"' in text(client.get("/cart"))


def test_the_redirect_payment_returns_with_the_providers_parameters_unchanged(
    shop: SandboxProcess, centra_calls: list[tuple[str, str, Any]]
) -> None:
    # Given a shopper sent to the provider's page
    client = shopper()
    product, items = sized_product(shop, 1)
    add(client, items[0])
    response = pay(client, "sandbox-redirect")
    assert response.status_code == 303
    pay_url = response["Location"]
    assert pay_url.startswith(shop.url + "/pay/")

    # When they press Pay there, the provider sends them back with its parameters
    back = requests.post(
        pay_url + "/complete", data={"decision": "pay"}, allow_redirects=False, timeout=10
    )
    assert back.status_code == 303
    location = urlsplit(back.headers["Location"])
    assert location.path == "/checkout/return"
    centra_calls.clear()
    done = client.get(f"{location.path}?{location.query}")

    # Then the receipt (never the failed page), and payment-result got exactly the provider's
    # parameters
    assert done.status_code == 303
    assert done["Location"] == "/checkout/receipt"
    sent = [body for _, path, body in centra_calls if path == "payment-result"]
    assert sent == [{"paymentMethodFields": dict(parse_qsl(location.query))}]
    assert_receipt(client.get("/checkout/receipt"), product, items)
    assert client.cookies["cart_count"].value == "0"


def test_cancelling_at_the_provider_lands_on_the_failed_page(shop: SandboxProcess) -> None:
    client = shopper()
    bag_with(client, shop)
    pay_url = pay(client, "sandbox-redirect")["Location"]
    back = requests.post(
        pay_url + "/complete", data={"decision": "cancel"}, allow_redirects=False, timeout=10
    )
    location = urlsplit(back.headers["Location"])
    assert location.path == "/checkout/failed"
    assert_shopper_page(client.get(f"{location.path}?{location.query}"), 200)
    # A return page reached anyway (a made-up visit) does not place an order
    made_up = client.get("/checkout/return?orderRef=nope&paymentMethod=x&transaction_id=y")
    assert made_up.status_code == 303
    assert made_up["Location"] == "/checkout/failed"
    assert "Vi hittade inte den här betalningen." in visible(client.get("/checkout/failed"))


def test_the_form_payment_is_shown_and_its_post_back_is_echoed_with_our_csrf_token(
    shop: SandboxProcess, centra_calls: list[tuple[str, str, Any]]
) -> None:
    # Given a shopper whose browser enforces CSRF like a real one, on our own origin
    client = Client(HTTP_ORIGIN=OWN, enforce_csrf_checks=True)
    _, items = sized_product(shop, 1)
    add(client, items[0])
    page = client.get("/checkout")
    token = form_with(text(page), "data-checkout")["fields"][0][1]

    def post(data: dict[str, str]) -> Any:
        return client.post("/checkout", {**ADDRESS, "csrfmiddlewaretoken": token, **data})

    assert (
        post(
            {
                "action": "update",
                "paymentMethod": "sandbox-form",
                "shippingMethod": "sandbox-standard",
            }
        ).status_code
        == 303
    )

    # When they pay: the provider's HTML form is shown inside our page
    shown = post(
        {
            "action": "pay",
            "paymentMethod": "sandbox-form",
            "shippingMethod": "sandbox-standard",
            "termsAndConditions": "1",
        }
    )
    body = assert_shopper_page(shown, 200)
    provider = next(f for f in forms(body) if "/pay/" in f["action"])

    # And the provider answers with a self-posting form back to our return page
    answer = requests.post(provider["action"], data={"decision": "pay"}, timeout=10)
    back = next(f for f in forms(answer.text) if f["action"].endswith("/checkout/return"))
    posted = dict(back["fields"])

    # Then that cross-site POST is not acted on, but echoed as our own form with a CSRF token
    echo = client.post("/checkout/return", posted, HTTP_ORIGIN=shop.url)
    echo_body = assert_shopper_page(echo, 200)
    echoed = form_with(echo_body, "data-echo")
    assert {
        k: v for k, v in echoed["fields"] if k not in ("csrfmiddlewaretoken", "_storefront_return")
    } == posted

    # The echo without our token is refused; with it, the receipt
    without = dict(echoed["fields"])
    without.pop("csrfmiddlewaretoken")
    assert client.post("/checkout/return", without).status_code == 403
    centra_calls.clear()
    done = client.post(echoed["action"], dict(echoed["fields"]))
    assert done.status_code == 303
    assert done["Location"] == "/checkout/receipt"
    sent = [body for _, path, body in centra_calls if path == "payment-result"]
    assert sent == [{"paymentMethodFields": posted}]


def test_sold_out_at_payment_shows_which_items_were_removed(shop: SandboxProcess) -> None:
    # Given two sizes in the bag, one of which sells out before payment
    client = shopper()
    product, items = sized_product(shop, 2)
    for item in items:
        add(client, item)
    names = {i["item"]: i["name"] for i in product["items"]}
    edit = shop.control(
        "PUT",
        f"products/{product['product']}/stock",
        json={"market": "1", "quantity": 0, "item": items[0]},
    )
    assert edit.status_code == 200, edit.text

    # When they pay
    response = pay(client, "sandbox-success")

    # Then they are back at the bag, which names the removed size and keeps the other
    assert response.status_code == 303
    assert response["Location"] == "/cart"
    page = client.get("/cart")
    words = visible(page)
    assert "Tyvärr tog några varor slut" in words
    assert f"storlek {names[items[0]]}" in words
    assert f'data-item="{items[0]}"' not in text(page)
    assert f'data-item="{items[1]}"' in text(page)


def test_forms_without_our_csrf_token_are_refused(shop: SandboxProcess) -> None:
    client = Client(HTTP_ORIGIN=OWN, enforce_csrf_checks=True)
    for path in ("/cart/vouchers", "/cart/vouchers/remove", "/checkout", "/cart/lines/abc"):
        assert client.post(path, {"voucher": "PERCENT10"}).status_code == 403


# -- Centra down or slow: a friendly page, never a 500 -------------------------------------------

PAGES = [
    "/cart",
    "/checkout",
    "/checkout/receipt",
    "/checkout/failed",
    "/checkout/return?orderRef=x",
]


def _every_page_survives(client: Client) -> None:
    for path in PAGES:
        response = client.get(path)
        # 504: the return page sends the payment result, which may have been placed
        assert_shopper_page(response, (200, 303, 404, 503, 504))
    for path, data in (
        ("/cart/add", {"item": "1-1"}),  # 307 on a first visit: the nonce first
        ("/cart/vouchers", {"voucher": "PERCENT10"}),
        ("/cart/vouchers/remove", {"voucher": "PERCENT10"}),
        ("/cart/lines/abcdef", {"quantity": "1"}),
        ("/checkout", {**ADDRESS, "action": "pay", "termsAndConditions": "1"}),
        ("/checkout/return", {"orderRef": "x", "_storefront_return": "1"}),
    ):
        response = client.post(path, data)
        # 504: a change that was sent and not answered in time (its outcome is unknown)
        assert_shopper_page(response, (303, 307, 503, 504))


@pytest.mark.parametrize(
    "fault",
    [{"errorRate": 1}, {"stall": True}],
    ids=["5xx", "stall"],
)
def test_centra_failing_is_a_friendly_503_never_a_500(
    shop: SandboxProcess, settings: Any, fault: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_clients(monkeypatch)
    # Given a shopper with a bag, then Centra fails (5xx, or no answer within the timeout)
    client = shopper()
    bag_with(client, shop)
    settings.CENTRA_READ_TIMEOUT = 0.5
    assert shop.control("PUT", "faults", json=fault).status_code == 200

    # Then every page is a shopper's page, and those that need Centra say so with a 503
    _every_page_survives(client)
    page = client.get("/cart")
    assert page.status_code == 503
    assert page["Retry-After"]
    assert "Vi når inte kassan just nu" in visible(page)


def test_a_cold_cache_and_centra_down_is_still_a_friendly_page(
    use_own_sandbox: SandboxProcess,
    settings: Any,
    redis_dbs: RedisDatabases,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fresh_clients(monkeypatch)
    # Given no shop set-up in the cache at all, and Centra answering 5xx
    url = redis_dbs.allocate()
    settings.REDIS_URL = url
    localcache.clear_all()
    assert use_own_sandbox.control("PUT", "faults", json={"errorRate": 1}).status_code == 200
    client = shopper()
    try:
        _every_page_survives(client)
        page = client.get("/cart")
        assert page.status_code == 503
    finally:
        redis.Redis.from_url(url).flushdb()
        localcache.clear_all()


# -- a stale form ---------------------------------------------------------------------------------


def test_a_form_without_a_valid_token_gets_a_shop_page_and_changes_nothing(
    shop: SandboxProcess,
) -> None:
    # Given a bag, and a page that was left open until its form token no longer counts
    client = shopper()
    bag_with(client, shop)
    strict = Client(enforce_csrf_checks=True, HTTP_ORIGIN=OWN)
    strict.cookies = client.cookies
    sandbox_log_clear(shop)

    # When its form is sent
    page = strict.post(
        "/cart/vouchers/remove",
        {"voucher": "PERCENT10", "csrfmiddlewaretoken": "stale"},
        HTTP_REFERER=OWN + "/cart?from=menu",
    )

    # Then the shopper sees a page of the shop, in Swedish, that says what to do
    body = assert_shopper_page(page, 403)
    words = visible(page)
    assert "Försök igen" in words
    assert "Inget har ändrats." in words
    assert 'href="/cart?from=menu"' in body
    assert "CSRF" not in words  # not Django's page
    # And nothing reached Centra
    assert not [e for e in sandbox_log(shop) if e["method"] != "GET"]


def test_a_stale_form_from_elsewhere_links_home_and_json_callers_get_errors(
    shop: SandboxProcess,
) -> None:
    strict = Client(enforce_csrf_checks=True, HTTP_ORIGIN=OWN)
    page = strict.post("/cart/vouchers/remove", {}, HTTP_REFERER="https://evil.example/x")
    assert 'href="/"' in assert_shopper_page(page, 403)
    answer = strict.post("/cart/vouchers/remove", {}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 403
    assert "csrf" in answer.json()["errors"]


@pytest.mark.parametrize(
    "referer",
    [
        OWN + "//evil.com/x",
        OWN + "/\\evil.com",
        OWN + "///evil.com",
        OWN + "/\\/evil.com",
        "http://other.host/x",
        "//evil.com/x",
        "javascript:alert(1)",
        OWN + "/cart\x00",
    ],
)
def test_the_stale_form_page_never_links_off_the_site(shop: SandboxProcess, referer: str) -> None:
    # Given a stale form sent with a Referer of our host whose path is another site's
    strict = Client(enforce_csrf_checks=True, HTTP_ORIGIN=OWN)
    page = strict.post("/cart/vouchers", {"voucher": "X"}, HTTP_REFERER=referer)

    # Then the back link is the home page, never a link a browser would take elsewhere
    body = assert_shopper_page(page, 403)
    back = re.search(r'<a class="button" href="([^"]*)">', body)
    assert back is not None
    assert back.group(1) == "/"


def test_the_stale_form_page_links_back_to_our_own_page(shop: SandboxProcess) -> None:
    strict = Client(enforce_csrf_checks=True, HTTP_ORIGIN=OWN)
    page = strict.post("/cart/vouchers", {"voucher": "X"}, HTTP_REFERER=OWN + "/women/a?b=1#f")
    assert 'href="/women/a?b=1"' in assert_shopper_page(page, 403)


def test_the_admin_keeps_djangos_csrf_page(db: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    page = strict.post("/admin/login/", {"username": "a", "password": "b"})
    assert page.status_code == 403
    assert "CSRF verification failed" in text(page)
