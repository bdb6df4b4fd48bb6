"""Buying through the shop's pages (and the JSON API), with consent and without, to local
receivers for GA4, Meta and the webhook, through a real Celery worker.

The pages run in this process (Django's test client) on this module's own sandbox and catalog
cache; the worker is a process of its own with the sinks pointed at the receivers by its
environment, consuming a queue of this module's own (``TRACKING_QUEUE``), so no other test's
worker takes these tasks. Nothing waits a fixed time: each check waits for what it needs.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import requests
from django.test import Client
from prometheus_client import REGISTRY

from storefront import embedded
from storefront.celery import app as celery_app
from tests.checkout.fixtures import call, payment_body, shopper
from tests.conftest import ARTIFACTS, RedisDatabases, SandboxProcess, worker_env
from tests.shop.page_helpers import OWN, add, sized_product
from tests.support import wait_for
from tests.tracking.protocol import check_ga4, check_meta, check_webhook
from tests.tracking.receivers import Received
from tests.tracking.sinks_config import (
    GA4_ID,
    GA4_SECRET,
    META_PIXEL,
    META_TOKEN,
    META_VERSION,
    SECRETS,
    WEBHOOK_SECRET,
    Receivers,
)
from tracking.hashing import sha256_hex

pytestmark = pytest.mark.usefixtures("services")

QUEUE = f"tracking-e2e-{uuid.uuid4().hex[:8]}"
EMAIL = "Tracked.Shopper@Example.com"
ADDRESS = {
    "email": EMAIL,
    "firstName": "Tracked",
    "lastName": "Shopper",
    "address1": "Storgatan 1",
    "zipCode": "111 22",
    "city": "Stockholm",
    "country": "SE",
    "phoneNumber": "070-123 45 67",
}
GA_COOKIE = "GA1.1.424242.1700000000"


@pytest.fixture(scope="module")
def worker(
    redis_url: str, redis_dbs: RedisDatabases, own_sandbox: SandboxProcess, receivers: Receivers
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker on this module's queue, its sinks on the receivers, quick retries."""
    env = worker_env(
        redis_url,
        own_sandbox,
        REDIS_URL=redis_dbs.allocate(),  # its de-duplication keys: a database of its own
        TRACKING_QUEUE=QUEUE,
        TRACKING_RETRY_BACKOFF="1",
        **receivers.env(),
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"worker-{QUEUE}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it
    command = embedded.worker_command(concurrency=2, hostname=f"{QUEUE}-%h-{os.getpid()}")
    proc = subprocess.Popen(
        [*command, "-Q", QUEUE], env=env, cwd=embedded.ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        assert celery_app.send_task("storefront.ping", queue=QUEUE).get(timeout=60) == "pong"
        yield proc
    finally:
        embedded.stop(proc, timeout=20)
        log.close()


@pytest.fixture
def tracked(
    shop: SandboxProcess,
    worker: subprocess.Popen[bytes],
    receivers: Receivers,
    settings: Any,
) -> Iterator[SandboxProcess]:
    """The shop, tracking purchases to the receivers (empty, answering) via the worker."""
    settings.TRACKING_QUEUE = QUEUE
    settings.TRACKING_CONSENT_COOKIE = "consent"
    settings.TRACKING_CONSENT_VALUES = ["granted"]
    receivers.clear()
    yield shop
    receivers.clear()


# -- a shopper's steps -------------------------------------------------------------------------


def consenting_shopper(choice: str | None) -> Client:
    """A browser with a GA cookie; ``choice`` is its answer to the banner (None: none yet)."""
    client = Client(HTTP_ORIGIN=OWN, HTTP_USER_AGENT="Mozilla/5.0 (tracked test)")
    client.cookies["_ga"] = GA_COOKIE
    if choice is not None:
        answered = client.post("/_/consent", {"consent": choice, "next": "/"})
        assert answered.status_code == 303
    return client


def checkout_form(client: Client, method: str) -> None:
    data = {**ADDRESS, "paymentMethod": method, "shippingMethod": "sandbox-standard"}
    assert client.get("/checkout").status_code == 200
    assert client.post("/checkout", {**data, "action": "update"}).status_code == 303


def pay(client: Client, method: str) -> Any:
    checkout_form(client, method)
    data = {**ADDRESS, "paymentMethod": method, "shippingMethod": "sandbox-standard"}
    return client.post("/checkout", {**data, "action": "pay", "termsAndConditions": "1"})


def order_shown(client: Client) -> str:
    """The order number on the receipt, read from Centra's receipt through the proxy."""
    receipt = client.get("/checkout/receipt")
    assert receipt.status_code == 200
    body = call(client, "GET", "receipt").json()
    order = body["order"]["order"] if isinstance(body["order"], dict) else body["order"]
    assert order
    assert str(order) in receipt.content.decode()
    return str(order)


def buy_instantly(client: Client, sandbox: SandboxProcess) -> str:
    """One size into the bag from the pages, paid with the instant method; the order number."""
    _, items = sized_product(sandbox, 1)
    add(client, items[0])
    paid = pay(client, "sandbox-success")
    assert paid.status_code == 303
    assert paid["Location"] == "/checkout/receipt"
    return order_shown(client)


def buy_through_the_provider(client: Client, sandbox: SandboxProcess) -> tuple[str, str]:
    """Paid on the sandbox's payment page and back (``payment-result``); the order number and
    the return URL the provider sent the shopper to."""
    _, items = sized_product(sandbox, 1)
    add(client, items[0])
    sent = pay(client, "sandbox-redirect")
    assert sent.status_code == 303
    back = requests.post(
        sent["Location"] + "/complete", data={"decision": "pay"}, allow_redirects=False, timeout=10
    )
    location = urlsplit(back.headers["Location"])
    return_url = f"{location.path}?{location.query}"
    done = client.get(return_url)
    assert done.status_code == 303
    assert done["Location"] == "/checkout/receipt"
    return order_shown(client), return_url


def queued(redis_url: str) -> int:
    return int(redis.Redis.from_url(redis_url).llen(QUEUE))


def purchases(outcome: str) -> float:
    """What this process (the web) decided about completed payments so far."""
    value = REGISTRY.get_sample_value("storefront_tracking_purchases_total", {"outcome": outcome})
    return value or 0.0


# -- what the receivers got -------------------------------------------------------------------


def ga4_of(receivers: Receivers, order: str) -> list[Received]:
    return [
        r
        for r in receivers.ga4.accepted()
        if r.json["events"][0]["params"]["transaction_id"] == order
    ]


def meta_of(receivers: Receivers, order: str) -> list[Received]:
    return [r for r in receivers.meta.accepted() if r.json["data"][0]["event_id"] == order]


def webhook_of(receivers: Receivers, order: str) -> list[Received]:
    return [r for r in receivers.webhook.accepted() if r.json["order"] == order]


def delivered(receivers: Receivers, order: str) -> bool:
    return all(len(found(receivers, order)) >= 1 for found in (ga4_of, meta_of, webhook_of))


def assert_one_correct_event_each(receivers: Receivers, order: str) -> None:
    """Exactly one accepted request per sink for ``order``, each as its protocol requires."""
    (ga4,) = ga4_of(receivers, order)
    params = check_ga4(ga4, measurement_id=GA4_ID, api_secret=GA4_SECRET)
    assert ga4.json["client_id"] == "424242.1700000000"  # the shopper's own, from _ga
    assert params["currency"] == "SEK"
    assert params["value"] > 0
    assert params["items"]
    (meta,) = meta_of(receivers, order)
    event = check_meta(meta, pixel_id=META_PIXEL, token=META_TOKEN, version=META_VERSION)
    assert event["user_data"]["em"] == [sha256_hex(EMAIL.lower())]
    assert event["user_data"]["ph"] == [sha256_hex("46701234567")]
    assert event["user_data"]["client_user_agent"] == "Mozilla/5.0 (tracked test)"
    assert event["custom_data"]["value"] == params["value"]
    (hook,) = webhook_of(receivers, order)
    body = check_webhook(hook, secret=WEBHOOK_SECRET)
    assert body["value"] == params["value"]
    for got in (ga4, meta, hook):
        assert EMAIL.lower().encode() not in got.body.lower()


# -- the tests ----------------------------------------------------------------------------------


def test_with_consent_each_sink_gets_one_correct_event_per_order(
    tracked: SandboxProcess, receivers: Receivers
) -> None:
    # Given a shopper who accepted in the banner
    client = consenting_shopper("accept")
    # When they buy twice, paying at once and then through the provider's page
    first = buy_instantly(client, tracked)
    second, _ = buy_through_the_provider(client, tracked)
    # Then each receiver gets one correct event for each order
    wait_for(lambda: delivered(receivers, first) and delivered(receivers, second), timeout=60)
    assert first != second
    assert_one_correct_event_each(receivers, first)
    assert_one_correct_event_each(receivers, second)


def test_without_consent_nothing_is_sent(
    tracked: SandboxProcess, receivers: Receivers, redis_url: str
) -> None:
    for choice in (None, "decline"):
        # Given a shopper who did not answer the banner, or declined
        client = consenting_shopper(choice)
        before = (purchases("no_consent"), purchases("queued"))
        # When they buy: nothing is even queued
        buy_instantly(client, tracked)
        assert (purchases("no_consent"), purchases("queued")) == (before[0] + 1, before[1])
        assert queued(redis_url) == 0
    # And a consenting shopper's order afterwards is the only one the receivers ever get
    marker = buy_instantly(consenting_shopper("accept"), tracked)
    wait_for(lambda: delivered(receivers, marker), timeout=60)
    for sink in receivers.all():
        assert len(sink.requests) == 1, sink.url


def test_a_receiver_that_fails_twice_still_gets_exactly_one_event(
    tracked: SandboxProcess, receivers: Receivers
) -> None:
    # Given GA4 and the webhook answering 503 twice before they recover
    receivers.ga4.fail_next = 2
    receivers.webhook.fail_next = 2
    # When a consenting shopper buys
    order = buy_instantly(consenting_shopper("accept"), tracked)
    # Then the worker retries them, and each sink has exactly one event in the end
    wait_for(lambda: delivered(receivers, order), timeout=90)
    assert [r.status for r in receivers.ga4.requests] == [503, 503, 200]
    assert [r.status for r in receivers.webhook.requests] == [503, 503, 200]
    assert [r.status for r in receivers.meta.requests] == [200]
    assert_one_correct_event_each(receivers, order)


def test_reloads_and_a_repeated_return_send_nothing_more(
    tracked: SandboxProcess, receivers: Receivers, redis_url: str
) -> None:
    # Given an order paid through the provider and tracked
    client = consenting_shopper("accept")
    order, return_url = buy_through_the_provider(client, tracked)
    wait_for(lambda: delivered(receivers, order), timeout=60)
    before = (purchases("duplicate"), purchases("queued"))
    # When the shopper reloads the receipt, and comes back through the return URL again
    # (Centra answers the same payment with the same order)
    for _ in range(2):
        assert client.get("/checkout/receipt").status_code == 200
        again = client.get(return_url)
        assert again.status_code == 303
        assert again["Location"] == "/checkout/receipt"
    # Then nothing more is queued (the web saw the order twice more and knew it), and a later
    # order is all the receivers get besides
    assert (purchases("duplicate"), purchases("queued")) == (before[0] + 2, before[1])
    assert queued(redis_url) == 0
    marker = buy_instantly(consenting_shopper("accept"), tracked)
    wait_for(lambda: delivered(receivers, marker), timeout=60)
    assert_one_correct_event_each(receivers, order)
    for sink in receivers.all():
        assert len(sink.accepted()) == 2, sink.url


def test_a_purchase_through_the_json_api_is_tracked_once(
    tracked: SandboxProcess, receivers: Receivers
) -> None:
    # Given a frontend's shopper who consented (the cookie the banner sets)
    client = shopper(HTTP_USER_AGENT="Mozilla/5.0 (tracked test)")
    client.cookies["consent"] = "granted"
    client.cookies["_ga"] = GA_COOKIE
    _, items = sized_product(tracked, 1)
    assert call(client, "POST", f"items/{items[0]}").status_code == 200
    # When the frontend pays at once, and then reads the receipt twice
    body = {**payment_body("sandbox-success"), "address": ADDRESS}
    paid = call(client, "POST", "payment", body)
    assert paid.status_code == 200, paid.content
    order = str(
        paid.json()["order"]["order"]
        if isinstance(paid.json()["order"], dict)
        else paid.json()["order"]
    )
    for _ in range(2):
        assert call(client, "GET", "receipt").status_code == 200
    # Then each sink gets it once
    wait_for(lambda: delivered(receivers, order), timeout=60)
    assert_one_correct_event_each(receivers, order)


def test_the_worker_logged_no_secret_and_no_email(worker: subprocess.Popen[bytes]) -> None:
    log = (ARTIFACTS / f"worker-{QUEUE}.log").read_text(errors="replace")
    assert "tracking: order" in log  # it did log the sends
    for secret in (*SECRETS, EMAIL, EMAIL.lower()):
        assert secret not in log


def test_the_banner_is_the_same_for_everyone_on_a_catalog_page(tracked: SandboxProcess) -> None:
    def banner(client: Client) -> str:
        response = client.get("/", follow=True)
        assert response.status_code == 200
        page = response.content.decode()
        found = re.search(r'<div class="consent".*?</script>', page, re.S)
        assert found, page[-1500:]
        return found.group(0)

    undecided = banner(consenting_shopper(None))
    accepted = banner(consenting_shopper("accept"))
    assert undecided == accepted
    assert 'action="/_/consent"' in undecided
    assert " hidden>" in undecided
    assert "Godkänn" in undecided
    assert "Avböj" in undecided


def test_without_javascript_the_banners_form_sets_the_cookie(tracked: SandboxProcess) -> None:
    # Given a catalog page as a browser without JavaScript gets it
    client = consenting_shopper(None)
    page = client.get("/", follow=True)
    here = page.request["PATH_INFO"]
    html = page.content.decode()
    # The banner is shown to it (hidden only for scripts to reveal) ...
    assert "<noscript><style>.consent[hidden] { display: block; }</style></noscript>" in html
    # ... and its form posts the choice and comes back to this page
    form = re.search(r'<form class="consent-form[^"]*" action="([^"]+)" method="post">', html)
    assert form
    assert form.group(1) == "/_/consent"
    back = re.search(
        r'<input type="hidden" name="next" value="([^"]*)">\s*<div class="consent', html
    )
    assert back
    assert back.group(1) == here
    answered = client.post(form.group(1), {"consent": "decline", "next": back.group(1)})
    assert answered.status_code == 303
    assert answered["Location"] == here
    assert client.cookies["consent"].value == "denied"
