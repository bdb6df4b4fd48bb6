"""Redis restarted under load (issue 8, item 2).

A stack of the test's own: Redis on a free port (never the session's), a sandbox, a Celery
worker and the BFF under gunicorn, with a built catalog. Shopper traffic runs from threads
(catalog JSON, product pages, proxied ``GET selection`` and ``POST items/{item}``) while the
test stops the Redis server and starts it again on the same port. It keeps nothing on disk, so
it comes back empty: reads go through to Centra (the sandbox) and a rebuild is requested.

Every answer, before, during and after, must be either correct (ids and prices equal to the
sandbox's answer to the same request) or a clear 503 (JSON with ``errors``, or the shop's
"unavailable" page): never a 500, never a wrong price, never a hang. The BFF recovers by
itself, with no restart: answers come back, first read through (``MISS``), then from the
rebuilt cache (``HIT``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from storefront import embedded
from tests.catalog.own_stack import Stack, own_stack, stop_worker
from tests.checkout.fixtures import start_gunicorn
from tests.support import wait_for

SIZES = ["--products", "300", "--markets", "2", "--pricelists", "2", "--languages", "2"]
THREADS = 6
KINDS = ("listing", "product", "page", "selection", "cart add")
CLIENT_TIMEOUT = 15.0  # an answer slower than this counts as a hang


@dataclass
class Probe:
    """One kind of request and how to judge its answer."""

    kind: str
    method: str
    path: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    check: Callable[[requests.Response], str] = lambda resp: ""  # "" when correct


@dataclass
class Outcome:
    kind: str
    phase: str
    status: int  # 0: no answer (timeout or connection error)
    cache: str
    problem: str  # "" when the answer is acceptable


@dataclass
class Traffic:
    bff: str
    probes: list[Probe]
    phase: str = "before"
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, index: int) -> None:
        session = requests.Session()  # keeps the checkout cookie, as a browser would
        session.headers["Origin"] = "http://shop.example"
        i = index
        while not self.stop.is_set():
            probe = self.probes[i % len(self.probes)]
            i += 1
            phase = self.phase
            try:
                resp = session.request(
                    probe.method,
                    self.bff + probe.path,
                    json=probe.json,
                    headers=probe.headers,
                    timeout=CLIENT_TIMEOUT,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                self.record(Outcome(probe.kind, phase, 0, "", f"no answer: {exc!r}"))
                continue
            self.record(
                Outcome(
                    probe.kind,
                    phase,
                    resp.status_code,
                    resp.headers.get("X-Cache", ""),
                    judge(probe, resp),
                )
            )

    def record(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def seen(self, predicate: Callable[[Outcome], bool]) -> int:
        with self.lock:
            return sum(1 for o in self.outcomes if predicate(o))

    def every_kind_answered(self, phase: str | None, times: int = 3) -> bool:
        """Whether each kind of request got at least ``times`` 200s (in ``phase``)."""

        def answered(kind: str) -> int:
            return self.seen(
                lambda o: o.kind == kind and o.status == 200 and phase in (None, o.phase)
            )

        return all(answered(kind) >= times for kind in KINDS)


def judge(probe: Probe, resp: requests.Response) -> str:
    """ "" for a correct answer or a clear 503; otherwise what is wrong with it."""
    if resp.status_code == 503:
        if "json" in resp.headers.get("Content-Type", ""):
            return "" if resp.json().get("errors") else "503 without errors"
        return ""  # the shop's "temporarily unavailable" page
    if resp.status_code != 200:
        return f"status {resp.status_code}: {resp.text[:200]}"
    return probe.check(resp)


def product_price(product: dict[str, Any]) -> tuple[str, str]:
    return str(product["product"]), str(product["price"])


def json_product_check(expected: dict[str, Any]) -> Callable[[requests.Response], str]:
    want = product_price(expected)

    def check(resp: requests.Response) -> str:
        got = product_price(resp.json()["product"])
        return "" if got == want else f"product {got} != sandbox {want}"

    return check


def listing_check(expected: dict[str, Any]) -> Callable[[requests.Response], str]:
    want = (expected["productCount"], [product_price(p) for p in expected["products"]])

    def check(resp: requests.Response) -> str:
        body = resp.json()
        got = (body["productCount"], [product_price(p) for p in body["products"]])
        if got == want:
            return ""
        at = next(
            (i for i, (g, w) in enumerate(zip(got[1], want[1], strict=False)) if g != w),
            min(len(got[1]), len(want[1])),
        )
        return (
            f"listing of {got[0]} (sandbox {want[0]}): at {at} {got[1][at : at + 1]} != "
            f"{want[1][at : at + 1]}"
        )

    return check


def page_check(expected: dict[str, Any]) -> Callable[[requests.Response], str]:
    name, price = expected["name"], expected["price"]

    def check(resp: requests.Response) -> str:
        text = resp.text.replace("&nbsp;", "\u00a0").replace("&#x27;", "'")
        if name not in text:
            return f"page without the product's name {name!r}"
        return "" if price in text else f"page without the sandbox's price {price!r}"

    return check


def selection_check(resp: requests.Response) -> str:
    return "" if "selection" in resp.json() else f"selection answer without selection: {resp.text}"


def sandbox_answer(stack: Stack, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """Centra's (the sandbox's) answer to the same shopper request: no session, default
    country, as the BFF resolves it for these requests."""
    resp = requests.request(method, stack.sandbox.api + path, json=body, timeout=30)
    resp.raise_for_status()
    data: dict[str, Any] = resp.json()
    return data


def shopper_probes(stack: Stack) -> list[Probe]:
    listing_body = {
        "limit": 20,
        "sortOrder": [{"field": "priceAsNumber", "order": "asc"}],
    }
    listing = sandbox_answer(stack, "POST", "products", listing_body)
    products = [p for p in listing["products"] if p.get("price")][:4]
    item = next(
        i["item"] for p in listing["products"] for i in p["items"] if i.get("stock") == "yes"
    )
    categories = sandbox_answer(stack, "GET", "categories")["categories"]
    category_body = {"categories": [categories[0]["category"]], "limit": 10}
    probes = [
        Probe(
            "listing",
            "POST",
            "/api/checkout/products",
            listing_body,
            check=listing_check(listing),
        ),
        Probe(
            "listing",
            "POST",
            "/api/checkout/products",
            category_body,
            check=listing_check(sandbox_answer(stack, "POST", "products", category_body)),
        ),
        Probe("selection", "GET", "/api/checkout/selection", check=selection_check),
        # a state-changing call takes the session's lock in Redis: 503 while Redis is down
        Probe("cart add", "POST", f"/api/checkout/items/{item}", check=selection_check),
    ]
    for product in products:
        pid = str(product["product"])
        expected = sandbox_answer(stack, "GET", f"products/{pid}")["product"]
        probes.append(
            Probe(
                "product",
                "GET",
                f"/api/checkout/products/{pid}",
                check=json_product_check(expected),
            )
        )
        probes.append(
            Probe(
                "page",
                "GET",
                "/se/sv/" + expected["uri"],
                headers={"Accept": "text/html"},
                check=page_check(expected),
            )
        )
    return probes


@pytest.fixture
def stack(own_servers: None) -> Iterator[Stack]:
    with own_stack(SIZES, CATALOG_REBUILD_LOCK_SECONDS="40", CATALOG_REBUILD_CRON="off") as s:
        yield s


@pytest.mark.worker
def test_redis_restarted_under_load_every_answer_correct_or_503_and_recovers(
    stack: Stack,
) -> None:
    port = int(stack.redis_url.rsplit(":", 1)[1].split("/")[0])
    env = {
        **stack.env,
        "DJANGO_DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "FRONTEND_ORIGINS": "http://shop.example",
        "RATE_LIMIT_PROXY": "",
        "RATE_LIMIT_AUTH": "",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    worker = stack.start_worker("redis-restart")
    migrated = stack.manage("migrate", "--noinput", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    gunicorn_port, gunicorn = start_gunicorn(env, workers=2, threads=4)
    bff = f"http://127.0.0.1:{gunicorn_port}"
    redis_proc = None
    traffic = Traffic(bff, shopper_probes(stack))
    threads = [threading.Thread(target=traffic.run, args=(i,), daemon=True) for i in range(THREADS)]
    try:
        # given a built catalog served from the cache, under steady shopper traffic
        built = stack.manage("catalog_rebuild", "--wait", "--timeout", "120", timeout=180)
        assert built.returncode == 0, built.stdout + built.stderr
        for t in threads:
            t.start()
        wait_for(
            lambda: traffic.every_kind_answered(None),
            timeout=60,
            what="traffic answered from the warm BFF",
        )
        assert traffic.seen(lambda o: o.kind == "product" and o.cache == "HIT") > 0

        # when the Redis server is stopped under that traffic ...
        traffic.phase = "outage"
        stack.r.connection_pool.disconnect()
        _stop_redis_on(port)
        wait_for(
            lambda: traffic.seen(lambda o: o.phase == "outage") >= 40,
            timeout=60,
            what="requests answered while Redis is down",
        )
        # ... and started again on the same port, empty
        redis_proc = embedded.start_redis(port, tempfile.mkdtemp(prefix="storefront-restart-"))
        traffic.phase = "after"

        # then the BFF answers again without a restart: catalog reads (read through, while
        # a rebuild is requested) and the checkout proxy (its session lock is back)
        wait_for(
            lambda: traffic.every_kind_answered("after"),
            timeout=60,
            what="every kind of request answered after Redis returned",
        )
        # and, once the catalog is rebuilt, from the cache again
        rebuilt = stack.manage("catalog_rebuild", "--wait", "--timeout", "120", timeout=180)
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        traffic.phase = "rebuilt"
        wait_for(
            lambda: (
                traffic.seen(
                    lambda o: o.phase == "rebuilt" and o.kind == "listing" and o.cache == "HIT"
                )
                >= 3
                and traffic.seen(
                    lambda o: o.phase == "rebuilt" and o.kind == "product" and o.cache == "HIT"
                )
                >= 3
            ),
            timeout=60,
            what="answers from the rebuilt cache",
        )
    finally:
        traffic.stop.set()
        for t in threads:
            t.join(timeout=CLIENT_TIMEOUT + 5)
        embedded.stop(gunicorn)
        stop_worker(worker)
        embedded.stop(redis_proc)

    # and no answer at any point was a 500, a hang or a wrong price
    problems = Counter(f"{o.phase} {o.kind}: {o.problem}" for o in traffic.outcomes if o.problem)
    assert not problems, problems.most_common(10)
    by_phase = Counter(f"{o.phase} {o.kind} {o.status} {o.cache}" for o in traffic.outcomes)
    # the outage was seen by the traffic (answers during it: read through or 503)
    assert traffic.seen(lambda o: o.phase == "outage") >= 40, by_phase
    # cart changes, which need the session lock, were refused with a clear 503
    assert traffic.seen(
        lambda o: o.phase == "outage" and o.kind == "cart add" and o.status == 503
    ), by_phase
    # reads during the outage were answered rather than failing: from the process's own index
    # (STALE, once the Redis breaker is open) or read through to Centra (MISS)
    assert traffic.seen(
        lambda o: (
            o.phase == "outage"
            and o.kind in ("listing", "product")
            and o.status == 200
            and o.cache in ("STALE", "MISS")
        )
    ), by_phase


def _stop_redis_on(port: int) -> None:
    """Stop the stack's Redis server (``own_stack`` owns the process): SHUTDOWN NOSAVE, which
    is what a restart looks like to clients; ``own_stack``'s own stop then finds it gone."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    with contextlib.suppress(redis.ConnectionError):  # it closes the connection as it goes
        client.shutdown(nosave=True)
    wait_for(lambda: not _listening(port), timeout=10, what="Redis to stop")


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
