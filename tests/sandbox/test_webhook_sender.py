"""The sandbox's webhook sender: Centra's wire format and signature, batching, retries, drop and
duplicate rates, run-time settings. Real HTTP: a small receiver in this process records what
arrives; ``POST /sandbox/webhooks/flush`` waits for the deliveries, so nothing sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.webhooks import encode_body, signature_header, split_events
from storefront import embedded
from tests.conftest import SandboxProcess, start_sandbox_process
from tests.sandbox.webhooks import (
    WEBHOOK_SECRET,
    Receiver,
    configure,
    flush,
    reset_webhooks,
)

# -- a tiny receiver ---------------------------------------------------------------------------


def deliveries(sb: SandboxProcess) -> list[dict[str, Any]]:
    r = sb.control("GET", "webhooks")
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()["deliveries"]
    return result


def edit_stock(sb: SandboxProcess, product: str, quantity: int = 5) -> dict[str, Any]:
    r = sb.control("PUT", f"products/{product}/stock", json={"market": "1", "quantity": quantity})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def shop(receiver: Receiver) -> Iterator[SandboxProcess]:
    sb, proc = start_sandbox_process(["--seed", "3"])
    yield sb
    embedded.stop(proc)  # type: ignore[arg-type]


@pytest.fixture
def hooks(shop: SandboxProcess, receiver: Receiver) -> SandboxProcess:
    reset_webhooks(shop, receiver)
    return shop


# -- the wire format ---------------------------------------------------------------------------


def test_centra_worked_signature_example() -> None:
    # given Centra's documented example
    body = encode_body({"x": "test"})
    # when
    header = signature_header("test123", 12345678, body)
    # then
    assert body == b"payload=%7B%22x%22%3A%22test%22%7D"
    assert (
        header == "t=12345678,v1=0b9cd84f5d583e5e1aadfb9f160aa8080b51d5b85ff85808d6b75bdac356c549"
    )


def test_split_events_keeps_at_most_max_ids_per_key_per_call() -> None:
    # given 250 product ids and one market
    events = {"products": [str(i) for i in range(250)], "markets": ["1"]}
    # when
    calls = split_events(events, 100)
    # then three calls, the keys sharing the first, every id once in order
    assert [{k: len(v) for k, v in c.items()} for c in calls] == [
        {"products": 100, "markets": 1},
        {"products": 100},
        {"products": 50},
    ]
    assert [i for c in calls for i in c["products"]] == events["products"]


def test_an_edit_sends_a_signed_form_post(hooks: SandboxProcess, receiver: Receiver) -> None:
    # given
    answer = edit_stock(hooks, "1001")
    # when
    flush(hooks)
    # then exactly the wire format of the issue
    [arrival] = receiver.take()
    assert arrival.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert arrival.path == "/webhooks/centra"
    assert arrival.payload == answer["webhook"]
    assert arrival.payload["products"][0] == "1001"
    assert arrival.signed_with(WEBHOOK_SECRET)
    assert not arrival.signed_with("another secret")
    [record] = deliveries(hooks)
    assert record["body"] == arrival.body.decode()
    assert record["signature"] == arrival.headers["X-Centra-Signature"]
    assert record["outcome"] == "delivered"
    assert record["status"] == 200
    assert record["attempt"] == 1
    assert not record["dropped"]
    assert not record["duplicate"]


# -- batching ----------------------------------------------------------------------------------


def test_quick_edits_are_merged_into_one_call(hooks: SandboxProcess, receiver: Receiver) -> None:
    # given a window long enough to hold every edit (the flush ends it)
    configure(hooks, windowMs=60_000)
    first = edit_stock(hooks, "1010")
    again = edit_stock(hooks, "1010", 7)
    second = edit_stock(hooks, "1020")
    r = hooks.control("PUT", "pricelists/2", json={"name": "Euro"})
    assert r.status_code == 200, r.text
    assert hooks.control("GET", "webhooks").json()["pending"]["pricelists"] == ["2"]
    # when
    flush(hooks)
    # then one call: keys merged, ids once each in first-seen order
    [arrival] = receiver.take()
    expected = list(dict.fromkeys(first["webhook"]["products"] + second["webhook"]["products"]))
    assert again["webhook"] == first["webhook"]
    assert arrival.payload == {"products": expected, "pricelists": ["2"]}
    assert arrival.signed_with(WEBHOOK_SECRET)


def test_more_than_100_ids_are_split(hooks: SandboxProcess, receiver: Receiver) -> None:
    # given both root categories renamed in one batch: every product of the shop changes
    configure(hooks, windowMs=60_000)
    renamed: list[str] = []
    products: list[str] = []
    for root in ("3", "5"):  # Women and Men: every product is under one
        r = hooks.control("PUT", f"categories/{root}", json={"name": f"Root {root}"})
        assert r.status_code == 200, r.text
        renamed += r.json()["webhook"]["categories"]
        products += r.json()["webhook"]["products"]
    products = list(dict.fromkeys(products))
    assert len(products) > 100
    # when
    flush(hooks)
    # then 100 product ids in the first call and the rest in the second, each signed
    first, second = receiver.take()
    assert first.payload == {"categories": renamed, "products": products[:100]}
    assert second.payload == {"products": products[100:]}
    assert first.signed_with(WEBHOOK_SECRET)
    assert second.signed_with(WEBHOOK_SECRET)


def test_max_ids_setting_splits_smaller(hooks: SandboxProcess, receiver: Receiver) -> None:
    # given
    configure(hooks, windowMs=60_000, maxIds=2)
    ids = edit_stock(hooks, "1030")["webhook"]["products"]
    ids += [i for i in edit_stock(hooks, "1040")["webhook"]["products"] if i not in ids]
    # when
    flush(hooks)
    # then
    arrivals = receiver.take()
    assert [a.payload["products"] for a in arrivals] == [
        ids[n : n + 2] for n in range(0, len(ids), 2)
    ]


# -- failures, retries, drops, duplicates ------------------------------------------------------


def test_no_retry_by_default(hooks: SandboxProcess, receiver: Receiver) -> None:
    # given a receiver failing once
    receiver.statuses = [500]
    edit_stock(hooks, "1002")
    # when
    flush(hooks)
    # then one attempt, recorded as failed
    assert len(receiver.take()) == 1
    [record] = deliveries(hooks)
    assert (record["outcome"], record["status"], record["attempt"]) == ("failed", 500, 1)


def test_retries_until_delivered(hooks: SandboxProcess, receiver: Receiver) -> None:
    # given two retries and a receiver failing twice
    configure(hooks, retries=2)
    receiver.statuses = [500, 503]
    edit_stock(hooks, "1003")
    # when
    flush(hooks)
    # then three attempts with the same body, each validly signed
    arrivals = receiver.take()
    assert len(arrivals) == 3
    assert len({a.body for a in arrivals}) == 1
    assert all(a.signed_with(WEBHOOK_SECRET) for a in arrivals)
    records = deliveries(hooks)
    assert [(d["attempt"], d["outcome"], d["status"]) for d in records] == [
        (1, "failed", 500),
        (2, "failed", 503),
        (3, "delivered", 200),
    ]
    assert len({d["call"] for d in records}) == 1


def test_network_errors_are_failures(hooks: SandboxProcess) -> None:
    # given a URL where nothing listens (a port just freed)
    configure(hooks, url=f"http://127.0.0.1:{embedded.free_port()}/hook", retries=1)
    edit_stock(hooks, "1004")
    # when
    flush(hooks)
    # then both attempts failed with an error and no status
    records = deliveries(hooks)
    assert [(d["attempt"], d["outcome"], d["status"]) for d in records] == [
        (1, "failed", None),
        (2, "failed", None),
    ]
    assert all(d["error"] for d in records)


def test_drop_rate_one_sends_nothing_but_records_it(
    hooks: SandboxProcess, receiver: Receiver
) -> None:
    # given
    configure(hooks, dropRate=1)
    answer = edit_stock(hooks, "1005")
    # when
    flush(hooks)
    # then
    assert receiver.take() == []
    [record] = deliveries(hooks)
    assert record["dropped"]
    assert record["outcome"] == "dropped"
    assert record["payload"] == answer["webhook"]
    assert record["signature"].startswith("t=")


def test_duplicate_rate_one_sends_the_same_request_twice(
    hooks: SandboxProcess, receiver: Receiver
) -> None:
    # given
    configure(hooks, duplicateRate=1)
    edit_stock(hooks, "1006")
    # when
    flush(hooks)
    # then two identical deliveries: same bytes, same signature (a replay)
    first, second = receiver.take()
    assert first.body == second.body
    assert first.headers["X-Centra-Signature"] == second.headers["X-Centra-Signature"]
    assert [d["duplicate"] for d in deliveries(hooks)] == [False, True]


def test_drops_are_deterministic_for_a_seed(hooks: SandboxProcess) -> None:
    # given a 50 % drop rate and a fixed seed, one call per flush
    def pattern() -> list[bool]:
        hooks.control("DELETE", "webhooks")
        for n in range(12):
            edit_stock(hooks, "1007", n)
            flush(hooks)
        return [d["dropped"] for d in deliveries(hooks)]

    configure(hooks, dropRate=0.5, seed=7)
    first = pattern()
    # when the same seed is set again
    configure(hooks, seed=7)
    # then the same calls are dropped
    assert pattern() == first
    assert True in first
    assert False in first


def test_without_url_nothing_is_sent(hooks: SandboxProcess, receiver: Receiver) -> None:
    # given
    configure(hooks, url=None)
    edit_stock(hooks, "1008")
    # when
    flush(hooks)
    # then
    assert receiver.take() == []
    [record] = deliveries(hooks)
    assert record["outcome"] == "no-url"
    assert record["url"] is None


def test_sync_query_parameter_waits_for_delivery(hooks: SandboxProcess, receiver: Receiver) -> None:
    # when an edit asks to wait
    r = hooks.control("PUT", "products/1009/stock?sync=1", json={"market": "1", "quantity": 2})
    # then the call has arrived by the time the edit answers
    assert r.status_code == 200, r.text
    [arrival] = receiver.take()
    assert arrival.payload == r.json()["webhook"]


# -- settings ----------------------------------------------------------------------------------


def test_command_line_flags_set_the_sender(receiver: Receiver, own_servers: None) -> None:
    # given a sandbox started with every webhook flag
    sb, proc = start_sandbox_process(
        [
            "--webhook-url", receiver.url, "--webhook-secret", "flag-secret",
            "--webhook-retries", "1", "--webhook-drop-rate", "0", "--webhook-duplicate-rate", "1",
        ]
    )  # fmt: skip
    try:
        receiver.reset()
        receiver.statuses = [500]
        # when
        edit_stock(sb, "1001")
        flush(sb)
        # then retried once, then replayed once, all signed with the flag's secret
        arrivals = receiver.take()
        assert len(arrivals) == 3
        assert all(a.signed_with("flag-secret") for a in arrivals)
        config = sb.control("GET", "webhooks").json()["config"]
        assert config["url"] == receiver.url
        assert config["retries"] == 1
        assert config["duplicateRate"] == 1
        assert config["timeoutSeconds"] == 5
    finally:
        embedded.stop(proc)  # type: ignore[arg-type]
        receiver.reset()


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"url": "ftp://example.com"}, "url"),
        ({"url": 5}, "url"),
        ({"secret": ""}, "secret"),
        ({"retries": -1}, "retries"),
        ({"retries": 11}, "retries"),
        ({"dropRate": 1.5}, "dropRate"),
        ({"duplicateRate": "half"}, "duplicateRate"),
        ({"windowMs": -1}, "windowMs"),
        ({"maxIds": 0}, "maxIds"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_settings_are_400(hooks: SandboxProcess, settings: dict[str, Any], key: str) -> None:
    # when
    r = hooks.control("PUT", "webhooks/config", json=settings)
    # then
    assert r.status_code == 400
    assert key in r.json()["errors"]


def test_delete_clears_the_records(hooks: SandboxProcess) -> None:
    # given
    edit_stock(hooks, "1011")
    flush(hooks)
    assert deliveries(hooks)
    # when
    r = hooks.control("DELETE", "webhooks")
    # then
    assert r.status_code == 200
    assert deliveries(hooks) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "webhooks"),
        ("DELETE", "webhooks"),
        ("PUT", "webhooks/config"),
        ("POST", "webhooks/flush"),
    ],
)
def test_webhook_endpoints_need_the_secret(hooks: SandboxProcess, method: str, path: str) -> None:
    # when
    r = requests.request(method, f"{hooks.url}/sandbox/{path}", json={}, timeout=30)
    # then
    assert r.status_code == 401
    assert "errors" in r.json()
