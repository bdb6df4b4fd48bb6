"""Webhook benchmarks: from a merchant's edit to the BFF's answer, a hostile mix of 1,000
webhooks, and the receiver's latency under 200 concurrent posts.

Command: ``.venv/bin/python -m bench.webhooks`` from the repository root. It starts its own
Redis, sandbox (sending signed webhooks), BFF under gunicorn and Celery worker on 127.0.0.1
(``tests/catalog/webhook_stack.py``), stops them at the end, prints the figures and appends
them as the last section of ``bench/RESULTS.md`` (replacing the previous webhook section).

(a) Edit to answer: one price edit at a time through the sandbox's edit API (not ``?sync``: the
    edit answers at once, as the admin does), then ``GET products/{id}`` on the BFF every few
    milliseconds until it shows the new price. Split, with the sandbox's delivery log, into
    edit -> webhook delivered (the sandbox's batching window) and delivered -> visible
    (receiver, coalescing window, worker refresh, read).
(b) 1,000 webhooks posted to the receiver: 80 % good, 10 % copies of good ones (half sent
    right after their original, as a network or sender duplicate; half replayed after the
    refreshes, too late to be a second change within the same second), 5 % signed with a
    wrong secret, 3 % with a timestamp older than the tolerance, 2 % with the body altered by
    one byte after signing. Every webhook names product ids of its own, so the change log of
    each market's live generation counts exactly how often each id was refreshed.
(c) 200 concurrent posts of good webhooks, each on a new connection (as Centra opens one per
    call), several rounds; the same for the hello-world view as the floor, in the same run.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import hmac
import http.client
import json
import os
import platform
import random
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")  # as the BFF under gunicorn runs

# (catalog.invalidation reads Django settings when used; the module is named above)
from bench.results import write_section
from catalog import invalidation
from tests.catalog.webhook_stack import WEBHOOK_SECRET, Stack, wait_for, webhook_stack

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "# Webhook benchmarks"
COMMAND = ".venv/bin/python -m bench.webhooks"
SEK = {"market": "1", "pricelist": "1", "language": "en"}
TOLERANCE = 300  # WEBHOOK_TOLERANCE_SECONDS, the default the stack runs with


def log(message: str) -> None:
    print(f"[bench.webhooks {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def body_for(events: dict[str, list[str]]) -> bytes:
    """Centra's wire format: ``payload=<urlencoded compact JSON>``."""
    return b"payload=" + quote(json.dumps(events, separators=(",", ":")), safe="").encode()


def signature(body: bytes, *, t: int | None = None, secret: str = WEBHOOK_SECRET) -> str:
    t = int(time.time()) if t is None else t
    v1 = hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1}"


def post_webhook(conn: http.client.HTTPConnection, body: bytes, sig: str) -> int:
    conn.request(
        "POST",
        "/webhooks/centra",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Centra-Signature": sig},
    )
    resp = conn.getresponse()
    resp.read()
    return resp.status


def signed_post(conn: http.client.HTTPConnection, *, body: bytes) -> int:
    """A good webhook, signed when it is sent (as Centra does)."""
    return post_webhook(conn, body, signature(body))


def connection(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    if host != "127.0.0.1":
        raise ValueError("the benchmarks talk to 127.0.0.1 only")
    return http.client.HTTPConnection(host, int(port), timeout=30)


# -- (a) edit to answer ------------------------------------------------------------------------


@dataclass
class EditResult:
    total_ms: list[float] = field(default_factory=list)
    delivered_ms: list[float] = field(default_factory=list)  # edit -> webhook delivered
    visible_ms: list[float] = field(default_factory=list)  # delivered -> BFF shows it
    timeouts: int = 0


def measure_edits(stack: Stack, edits: int) -> EditResult:
    _, listing = stack.centra("POST", "products", {**SEK, "limit": 100000})
    products = [p for p in listing["products"] if p["price"] is not None]
    stack.control("DELETE", "webhooks")
    result = EditResult()
    started: list[tuple[str, int, float]] = []  # product, price, wall time of the edit
    bff = connection(stack.bff_url)
    query = "&".join(f"{k}={v}" for k, v in SEK.items())
    for n in range(edits):
        product = products[n % len(products)]
        pid = product["product"]
        price = int(product["priceAsNumber"]) + 1 + n  # always a new price
        wall, t0 = time.time(), time.perf_counter()
        stack.edit("PUT", f"products/{pid}/price", {"pricelist": "1", "price": price}, sync=False)
        deadline = t0 + 10
        while True:
            bff.request("GET", f"/api/checkout/products/{pid}?{query}")
            resp = bff.getresponse()
            data = json.loads(resp.read())
            if resp.status == 200 and data["product"]["priceAsNumber"] == price:
                result.total_ms.append((time.perf_counter() - t0) * 1000)
                started.append((pid, price, wall))
                break
            if time.perf_counter() > deadline:
                result.timeouts += 1
                break
            time.sleep(0.005)
    bff.close()
    # The sandbox's delivery log tells when each edit's webhook reached the receiver.
    stack.wait_quiet()
    deliveries = [d for d in stack.deliveries() if d["outcome"] == "delivered"]
    for (pid, _, wall), total in zip(started, result.total_ms, strict=True):
        ats = [d["at"] for d in deliveries if d["at"] >= wall and pid in d["payload"]["products"]]
        if ats:
            at = min(ats)
            result.delivered_ms.append((at - wall) * 1000)
            result.visible_ms.append(total - (at - wall) * 1000)
    return result


# -- (b) a hostile mix of 1,000 webhooks -------------------------------------------------------


@dataclass
class Item:
    kind: str  # good, copy-now, copy-late, bad-signature, stale, altered
    body: bytes
    sig: str
    ids: list[str]
    status: int | None = None


@dataclass
class MixResult:
    statuses: dict[str, Counter[int]]
    writes: dict[str, Counter[str]]  # market -> id -> single-product writes
    good_ids: list[str]
    bad_ids: list[str]
    seconds: float

    def accepted_bad(self) -> int:
        bad = ("bad-signature", "stale", "altered")
        return sum(n for k in bad for s, n in self.statuses[k].items() if 200 <= s < 300)

    def bad_refreshed(self) -> int:
        return sum(1 for m in self.writes.values() for i in self.bad_ids if m[i])

    def refreshed_twice(self) -> int:
        return sum(1 for i in self.good_ids if any(m[i] > 1 for m in self.writes.values()))

    def never_refreshed(self) -> int:
        return sum(1 for i in self.good_ids if any(m[i] == 0 for m in self.writes.values()))

    def unacknowledged(self) -> int:
        good = ("good", "copy-now", "copy-late")
        return sum(n for k in good for s, n in self.statuses[k].items() if not 200 <= s < 300)


def alter_one_byte(body: bytes, product_id: str, rng: random.Random) -> bytes:
    """Change one digit of the id inside the signed body: still a well-formed webhook, for
    another product."""
    i = body.index(product_id.encode()) + rng.randrange(len(product_id))
    return body[:i] + str((int(chr(body[i])) + 1) % 10).encode() + body[i + 1 :]


def build_mix(total: int, rng: random.Random) -> tuple[list[list[Item]], list[Item]]:
    """Groups to post in order (an original with its immediate copy), and the late copies."""
    n_copies, n_badsig, n_stale, n_altered = (
        total * 10 // 100,
        total * 5 // 100,
        total * 3 // 100,
        total * 2 // 100,
    )
    n_good = total - n_copies - n_badsig - n_stale - n_altered
    groups: list[list[Item]] = []
    now = int(time.time())
    for n in range(n_good):
        ids = [str(100_000 + n)]
        body = body_for({"products": ids})
        groups.append([Item("good", body, signature(body), ids)])
    for n, group in enumerate(rng.sample(groups, n_copies)):
        kind = "copy-now" if n % 2 == 0 else "copy-late"
        group.append(Item(kind, group[0].body, group[0].sig, group[0].ids))
    late = [g.pop() for g in groups if g[-1].kind == "copy-late"]
    for n in range(n_badsig):
        ids = [str(300_000 + n)]
        body = body_for({"products": ids})
        groups.append([Item("bad-signature", body, signature(body, secret="not-the-secret"), ids)])
    for n in range(n_stale):
        ids = [str(310_000 + n)]
        body = body_for({"products": ids})
        t = now - TOLERANCE - 1 - rng.randrange(3600)
        groups.append([Item("stale", body, signature(body, t=t), ids)])
    for n in range(n_altered):
        ids = [str(320_000 + n)]
        body = body_for({"products": ids})
        altered = alter_one_byte(body, ids[0], rng)
        groups.append([Item("altered", altered, signature(body), ids)])
    rng.shuffle(groups)
    return groups, late


def post_all(url: str, groups: list[list[Item]], threads: int) -> None:
    lock = threading.Lock()
    todo = list(reversed(groups))

    def run() -> None:
        conn = connection(url)
        while True:
            with lock:
                if not todo:
                    break
                group = todo.pop()
            for item in group:  # an immediate copy follows its original on the same connection
                item.status = post_webhook(conn, item.body, item.sig)
        conn.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def change_counts(stack: Stack) -> dict[str, Counter[str]]:
    out = {}
    for market in stack.markets:
        key = f"cat:{{{market}}}:g{stack.live_generation(market)}:changes"
        out[market] = Counter(raw.decode() for raw in stack.r.lrange(key, 0, -1))  # type: ignore[union-attr]
    return out


def measure_mix(stack: Stack, total: int, seed: int) -> MixResult:
    rng = random.Random(seed)
    groups, late = build_mix(total, rng)
    before = change_counts(stack)
    t0 = time.perf_counter()
    post_all(stack.bff_url, groups, threads=8)
    first_at = time.time()
    stack.wait_quiet()
    # Late copies are replays after the refresh, past the window in which a copy could still
    # be a second change made within the same second of Centra's clock.
    wait_for(
        lambda: time.time() > first_at + invalidation.REPEAT_WINDOW_SECONDS,
        timeout=invalidation.REPEAT_WINDOW_SECONDS + 1,
        what="the repeat window",
    )
    post_all(stack.bff_url, [[item] for item in late], threads=8)
    stack.wait_quiet()
    seconds = time.perf_counter() - t0
    after = change_counts(stack)
    writes = {m: after[m] - before[m] for m in stack.markets}
    items = [i for g in groups for i in g] + late
    statuses: dict[str, Counter[int]] = {}
    for item in items:
        statuses.setdefault(item.kind, Counter())[item.status or 0] += 1
    good_ids = [i.ids[0] for i in items if i.kind == "good"]
    bad_ids = [i.ids[0] for i in items if i.kind in ("bad-signature", "stale", "altered")]
    return MixResult(statuses, writes, good_ids, bad_ids, seconds)


# -- (c) 200 concurrent posts ------------------------------------------------------------------


@dataclass
class ConcurrentResult:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def concurrent_round(
    url: str, requests: list[Callable[[http.client.HTTPConnection], int]], out: ConcurrentResult
) -> None:
    """All requests at once, each from its own thread on a new connection."""
    barrier = threading.Barrier(len(requests))
    lock = threading.Lock()

    def run(send: Callable[[http.client.HTTPConnection], int]) -> None:
        barrier.wait()
        t0 = time.perf_counter()
        conn = connection(url)
        try:
            status = send(conn)
        except OSError:
            status = 0
        elapsed = (time.perf_counter() - t0) * 1000
        conn.close()
        with lock:
            out.latencies_ms.append(elapsed)
            out.statuses[status] += 1

    threads = [threading.Thread(target=run, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def hello(conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/bench/hello")
    resp = conn.getresponse()
    resp.read()
    return resp.status


def measure_concurrent(
    stack: Stack, concurrency: int, rounds: int
) -> tuple[ConcurrentResult, ConcurrentResult]:
    floor, receiver = ConcurrentResult("hello (floor)"), ConcurrentResult("POST /webhooks/centra")
    serial = 0
    for _ in range(rounds):  # alternated, so that both see the same machine
        concurrent_round(stack.bff_url, [hello] * concurrency, floor)
        sends: list[Callable[[http.client.HTTPConnection], int]] = []
        for _ in range(concurrency):
            serial += 1
            body = body_for({"products": [str(500_000 + serial)]})

            sends.append(functools.partial(signed_post, body=body))
        concurrent_round(stack.bff_url, sends, receiver)
        stack.wait_quiet()
    return floor, receiver


# -- (d) server time, in process ----------------------------------------------------------------


def measure_inprocess(stack: Stack, n: int) -> tuple[ConcurrentResult, ConcurrentResult]:
    """The receiver's own cost without sockets or gunicorn: Django's test client in this
    process, against the stack's Redis (and broker), one request at a time."""
    import django
    from django.conf import settings

    django.setup()
    from django.test import Client

    from storefront.celery import app

    settings.REDIS_URL = settings.CELERY_BROKER_URL = stack.redis_url
    settings.CENTRA_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.ALLOWED_HOSTS = ["testserver"]
    app.conf.update(broker_url=stack.redis_url, result_backend=stack.redis_url)
    client = Client()
    floor, receiver = ConcurrentResult("hello view"), ConcurrentResult("receiver view")
    for i in range(n):
        t0 = time.perf_counter()
        resp = client.get("/bench/hello")
        floor.latencies_ms.append((time.perf_counter() - t0) * 1000)
        floor.statuses[resp.status_code] += 1
        body = body_for({"products": [str(700_000 + i)]})
        t0 = time.perf_counter()
        resp = client.post(
            "/webhooks/centra",
            body,
            content_type="application/x-www-form-urlencoded",
            HTTP_X_CENTRA_SIGNATURE=signature(body),
        )
        receiver.latencies_ms.append((time.perf_counter() - t0) * 1000)
        receiver.statuses[resp.status_code] += 1
    stack.wait_quiet()
    return floor, receiver


# -- report ------------------------------------------------------------------------------------


@dataclass
class Report:
    started: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    products: int = 0
    edits: EditResult | None = None
    mix: MixResult | None = None
    floor: ConcurrentResult | None = None
    receiver: ConcurrentResult | None = None
    inproc: tuple[ConcurrentResult, ConcurrentResult] | None = None
    seconds: float = 0.0


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def render(rep: Report, args: argparse.Namespace) -> str:
    e, m, f, r = rep.edits, rep.mix, rep.floor, rep.receiver
    assert e is not None
    assert m is not None
    assert f is not None
    assert r is not None
    la, lb = rep.load_before, rep.load_after
    lines = [
        HEADING,
        "",
        f"Command: `{COMMAND}` (from the repository root; about {rep.seconds / 60:.0f} minutes; "
        "starts and stops everything it needs on 127.0.0.1). Figures below are from one run.",
        "",
        f"- Run: {rep.started}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.system()}. Load average (1/5/15 min) at the start "
        f"{la[0]:.1f}/{la[1]:.1f}/{la[2]:.1f}, at the end {lb[0]:.1f}/{lb[1]:.1f}/{lb[2]:.1f}; "
        "the client, gunicorn, the worker, Redis and the sandbox share these CPUs.",
        f"- Stack: sandbox with {rep.products:,} products in market 1 (3 markets, 4 pricelists, "
        "2 languages; webhook batching window 50 ms), BFF under gunicorn 2 workers x 8 threads "
        "(`DJANGO_DEBUG=false`), one Celery worker (prefork, 2 processes), Redis; "
        "`WEBHOOK_COALESCE_SECONDS=0.2`.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| edit to BFF answer, p95 under 1 s ({len(e.total_ms)} price edits) | "
        f"p50 {statistics.median(e.total_ms):.0f} ms, p95 **{percentile(e.total_ms, 0.95):.0f} ms**"
        f"{f', {e.timeouts} not seen within 10 s' if e.timeouts else ''} | "
        f"{verdict(percentile(e.total_ms, 0.95) < 1000 and not e.timeouts)} |",
        f"| {args.webhooks:,} webhooks: 0 bad ones accepted | {m.accepted_bad()} of "
        f"{len(m.bad_ids)} accepted; {m.bad_refreshed()} of their ids refreshed | "
        f"{verdict(m.accepted_bad() == 0 and m.bad_refreshed() == 0)} |",
        f"| 0 refreshes run twice for a duplicate | {m.refreshed_twice()} of {len(m.good_ids)} "
        f"good ids refreshed more than once in a market ({args.webhooks // 10} copies) | "
        f"{verdict(m.refreshed_twice() == 0)} |",
        f"| every good one acknowledged | {m.unacknowledged()} of "
        f"{len(m.good_ids) + args.webhooks // 10} not acknowledged; {m.never_refreshed()} good "
        f"ids never refreshed | {verdict(m.unacknowledged() == 0 and m.never_refreshed() == 0)} |",
        f"| receiver p99 under 50 ms, {args.concurrency} concurrent posts | "
        f"**{r.p(0.99):.1f} ms** (hello floor {f.p(0.99):.1f} ms: {r.p(0.99) / f.p(0.99):.2f}x) | "
        f"{verdict(r.p(0.99) < 50)} |",
        "",
        "## (a) Edit to answer",
        "",
        "| part | n | p50 ms | p95 ms | max ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, values in (
        ("edit -> BFF answers the new price", e.total_ms),
        ("edit -> webhook delivered (sandbox batching)", e.delivered_ms),
        ("delivered -> BFF answers (coalescing, refresh, read)", e.visible_ms),
    ):
        if values:
            lines.append(
                f"| {name} | {len(values)} | {statistics.median(values):.0f} | "
                f"{percentile(values, 0.95):.0f} | {max(values):.0f} |"
            )
    lines += [
        "",
        f"## (b) {args.webhooks:,} webhooks, hostile mix",
        "",
        f"Posted by 8 client threads; {m.seconds:.1f} s from the first post to the last refresh. "
        "Statuses by kind (copies answered 200 `duplicate`; a copy that arrives after a flush "
        f"took its original, within {invalidation.REPEAT_WINDOW_SECONDS:.0f} s of it, is "
        "refreshed again on purpose, as it cannot be told from a second change made within "
        "the same second of Centra's clock: 202).",
        "",
        "| kind | n | statuses |",
        "| --- | --- | --- |",
    ]
    for kind in ("good", "copy-now", "copy-late", "bad-signature", "stale", "altered"):
        counts = m.statuses.get(kind, Counter())
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(counts.items()))
        lines.append(f"| {kind} | {sum(counts.values())} | {shown} |")
    lines += [
        "",
        "Refreshes per id (single-product writes into each market's live generation):",
        "",
        "| market | good ids written once | more than once | never | bad ids written |",
        "| --- | --- | --- | --- | --- |",
    ]
    for market, writes in m.writes.items():
        once = sum(1 for i in m.good_ids if writes[i] == 1)
        more = sum(1 for i in m.good_ids if writes[i] > 1)
        never = sum(1 for i in m.good_ids if writes[i] == 0)
        bad = sum(1 for i in m.bad_ids if writes[i])
        lines.append(f"| {market} | {once} | {more} | {never} | {bad} |")
    lines += [
        "",
        f"## (c) {args.concurrency} concurrent posts",
        "",
        f"{args.rounds} rounds of {args.concurrency} requests started together (a barrier), "
        "each on a new connection; latency from connect to the body read, client-side. Rounds "
        "of the receiver and of the hello-world view alternate.",
        "",
        "| request | n | statuses | p50 ms | p95 ms | p99 ms | max ms | p50 vs floor "
        "| p99 vs floor |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for res in (f, r):
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(res.statuses.items()))
        lines.append(
            f"| {res.name} | {len(res.latencies_ms)} | {shown} | {res.p(0.5):.1f} | "
            f"{res.p(0.95):.1f} | {res.p(0.99):.1f} | {max(res.latencies_ms):.1f} | "
            f"{res.p(0.5) / f.p(0.5):.2f}x | {res.p(0.99) / f.p(0.99):.2f}x |"
        )
    if rep.inproc:
        hello_view, receiver_view = rep.inproc
        lines += [
            "",
            "## (d) Server time, in process",
            "",
            "The same views through Django's test client in the benchmark's process (middleware, "
            "view, Redis; no socket, no gunicorn), one request at a time, good webhooks only.",
            "",
            "| view | n | statuses | p50 ms | p99 ms | p50 vs hello |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for res in (hello_view, receiver_view):
            shown = ", ".join(f"{s}: {n}" for s, n in sorted(res.statuses.items()))
            lines.append(
                f"| {res.name} | {len(res.latencies_ms)} | {shown} | {res.p(0.5):.2f} | "
                f"{res.p(0.99):.2f} | {res.p(0.5) / hello_view.p(0.5):.2f}x |"
            )
    lines += [
        "",
        "## Reading the figures",
        "",
        "- (a) Most of the time is the two windows on the way: the sandbox batches events "
        "for 50 ms before it sends, and the receiver coalesces for 200 ms before the worker "
        "refreshes; the refresh itself is one `POST products` per market and language on the "
        "sandbox.",
        "- (b) A copy of a webhook (same timestamp, same bytes) is dropped while its original "
        "is still queued. Once a flush has taken the original, a copy within "
        f"{invalidation.REPEAT_WINDOW_SECONDS:.0f} s of it is refreshed again on purpose: "
        "Centra's timestamps are whole seconds, so a second change of the same products "
        "within the same second arrives as exactly these bytes, and dropping it could leave "
        "the cache behind until the nightly rebuild. A copy sent right after its original "
        "rarely lands after a take (the 202s of `copy-now` above); each costs one extra "
        "fetch of those ids. `catalog.invalidation.REPEAT_WINDOW_SECONDS = 0` would meet "
        "the duplicate target to the letter and lose such changes.",
        f"- (c) {args.concurrency} connections opened at once on {os.cpu_count()} CPUs shared "
        f"with the {args.concurrency}-thread client queue behind each other: the hello-world "
        f"floor's p99 is already {f.p(0.99):.0f} ms, so the 50 ms target is out of reach on "
        "this machine for any view; the ratio to the floor is the comparable figure, and (d) "
        "the receiver's own time.",
    ]
    return "\n".join(lines) + "\n"


def write_results(section: str) -> None:
    write_section(HEADING, section)


def _out_of_time(signum: int, frame: object) -> None:
    raise TimeoutError("the benchmark ran out of time (--max-seconds)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--products", type=int, default=1000, help="sandbox products")
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--webhooks", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--max-seconds", type=int, default=900, help="give up after this long")
    args = parser.parse_args(argv)
    # A hard bound on the whole run; the stack is stopped whatever happens (its context).
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(args.max_seconds)
    t0 = time.monotonic()
    rep = Report(
        started=datetime.now(UTC).isoformat(timespec="seconds"), load_before=os.getloadavg()
    )
    try:
        log("starting the stack and building the cache")
        with webhook_stack(
            "bench", ["--products", str(args.products), "--languages", "2"]
        ) as stack:
            rep.products = stack.centra("POST", "products", {**SEK, "limit": 1})[1]["productCount"]
            log(f"(a) {args.edits} price edits")
            rep.edits = measure_edits(stack, args.edits)
            log(f"(b) {args.webhooks} webhooks, hostile mix")
            rep.mix = measure_mix(stack, args.webhooks, args.seed)
            log(f"(c) {args.rounds} rounds of {args.concurrency} concurrent posts")
            rep.floor, rep.receiver = measure_concurrent(stack, args.concurrency, args.rounds)
            log("(d) server time in process")
            rep.inproc = measure_inprocess(stack, 1000)
    finally:
        signal.alarm(0)
    rep.load_after = os.getloadavg()
    rep.seconds = time.monotonic() - t0
    section = render(rep, args)
    print("\n" + section)
    if not args.no_write:
        write_results(section)
        log(f"appended to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
