"""A load test of the BFF (issue 8, item 4): ``.venv/bin/python -m bench.loadtest``.

Not a test: a benchmark that prints figures and writes them to the "Load test" section of
``bench/RESULTS.md``. Everything runs on 127.0.0.1 and is started and stopped here (bounded
by ``--max-seconds``): Redis, a sandbox, a Celery worker that builds the catalog, and gunicorn
serving the BFF (2 workers x 8 threads, as docker-compose runs it, DEBUG off).

Virtual shoppers (threads, closed loop: each sends its next request when the last one is
answered; each with its own keep-alive connection, cookie jar and client address, passed in
``X-Forwarded-For`` through one trusted proxy hop so the per-address rate limits apply per
shopper, as behind a load balancer) draw every request from a realistic mix:

- 70% shop pages (HTML): product pages and category pages, half each;
- 20% JSON catalog calls: ``POST products`` with filters (category, brand, sort, paging) and
  ``GET products/{id}``, half each;
- 10% cart calls through the checkout proxy, with the cookie session: ``GET selection`` and
  ``POST items/{item}``, half each.

A warm-up (the same mix) comes first, then ``--duration`` seconds are measured: every answer's
status (200 or 201 expected), latency and ``X-Cache``. Reported: errors, the cache hit rate of
catalog answers (from ``X-Cache`` and from ``/metrics``), p50/p90/p99 per request kind and the
throughput. A Python threaded client rather than locust: no extra dependency, and on a 2-core
machine a light client leaves more of the CPU to the server it measures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.catalog import (
    Processes,
    bff_env,
    log,
    start_redis,
    start_sandbox,
    wait_until,
)
from bench.results import write_section

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "# Load test (issue 8, item 4)"
ORIGIN = "http://shop.example"

# kind -> share of requests (sums to 100)
MIX: dict[str, int] = {
    "product page": 35,
    "category page": 35,
    "POST products (filters)": 10,
    "GET products/{id}": 10,
    "GET selection": 5,
    "POST items/{item}": 5,
}
CATALOG_KINDS = ("product page", "category page", "POST products (filters)", "GET products/{id}")


@dataclass
class Options:
    users: int
    duration: float
    warmup: float
    products: int
    markets: int


@dataclass
class Targets:
    """What the shoppers ask for, read from the warm BFF before the run."""

    product_uris: list[str]
    category_uris: list[str]
    listing_bodies: list[dict[str, Any]]
    product_ids: list[str]
    items: list[str]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    caches: dict[str, Counter[str]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)  # kind: what went wrong

    def merge(self, other: Tally) -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        for kind, statuses in other.statuses.items():
            self.statuses.setdefault(kind, Counter()).update(statuses)
        for kind, caches in other.caches.items():
            self.caches.setdefault(kind, Counter()).update(caches)
        self.errors.update(other.errors)


class Shopper:
    """One browser: a keep-alive connection, its cookies, its own client address."""

    def __init__(self, port: int, index: int, rng: random.Random) -> None:
        self.port = port
        self.rng = rng
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.address = f"10.{index // 250}.{index % 250}.{rng.randint(1, 250)}"

    def send(
        self, method: str, path: str, body: Any = None, accept: str = "application/json"
    ) -> tuple[int, bytes, str]:
        headers = {"Accept": accept, "X-Forwarded-For": self.address, "Origin": ORIGIN}
        raw = None
        if body is not None:
            raw = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request(method, path, body=raw, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            for value in resp.headers.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return resp.status, data, resp.getheader("X-Cache") or ""
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def pick_kind(rng: random.Random) -> str:
    roll = rng.randrange(100)
    for kind, share in MIX.items():
        if roll < share:
            return kind
        roll -= share
    raise AssertionError("the mix does not sum to 100")


def one_request(shopper: Shopper, kind: str, targets: Targets) -> tuple[int, bytes, str]:
    rng = shopper.rng
    if kind == "product page":
        return shopper.send("GET", rng.choice(targets.product_uris), accept="text/html")
    if kind == "category page":
        return shopper.send("GET", rng.choice(targets.category_uris), accept="text/html")
    if kind == "POST products (filters)":
        return shopper.send("POST", "/api/checkout/products", rng.choice(targets.listing_bodies))
    if kind == "GET products/{id}":
        return shopper.send("GET", f"/api/checkout/products/{rng.choice(targets.product_ids)}")
    if kind == "GET selection":
        return shopper.send("GET", "/api/checkout/selection")
    if kind == "POST items/{item}":
        return shopper.send("POST", f"/api/checkout/items/{rng.choice(targets.items)}")
    raise ValueError(kind)


def drive(port: int, targets: Targets, options: Options, seconds: float, seed: int) -> Tally:
    """``options.users`` shoppers for ``seconds``; what they saw."""
    stop_at = time.monotonic() + seconds
    tallies: list[Tally] = []
    lock = threading.Lock()

    def shop(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        shopper = Shopper(port, index, rng)
        tally = Tally()
        try:
            while time.monotonic() < stop_at:
                kind = pick_kind(rng)
                started = time.perf_counter()
                try:
                    status, data, cache = one_request(shopper, kind, targets)
                except OSError as exc:
                    tally.errors[f"{kind}: {type(exc).__name__}"] += 1
                    continue
                tally.latencies.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
                tally.statuses.setdefault(kind, Counter())[status] += 1
                if cache:
                    tally.caches.setdefault(kind, Counter())[cache] += 1
                if status not in (200, 201):
                    tally.errors[f"{kind}: {status} {data[:120]!r}"] += 1
        finally:
            shopper.close()
            with lock:
                tallies.append(tally)

    threads = [threading.Thread(target=shop, args=(i,), daemon=True) for i in range(options.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def find_targets(bff: str) -> Targets:
    s = requests.Session()
    s.headers["Accept"] = "application/json"
    categories = s.get(f"{bff}/api/checkout/categories", timeout=30).json()["categories"]
    category_uris = ["/se/sv/" + c["uri"] for c in categories if c.get("uri")]
    listing = s.post(f"{bff}/api/checkout/products", json={"limit": 500}, timeout=60).json()
    products = [p for p in listing["products"] if p.get("uri")]
    bodies: list[dict[str, Any]] = []
    sorts = [
        [{"field": "priceAsNumber", "order": "asc"}],
        [{"field": "priceAsNumber", "order": "desc"}],
        [{"field": "createdAt", "order": "desc"}],
    ]
    for i, cat in enumerate(categories[:12]):
        first = s.post(
            f"{bff}/api/checkout/products",
            json={"categories": [cat["category"]], "limit": 1},
            timeout=30,
        ).json()
        brands = next((f for f in first["filter"] if f["field"] == "brands"), None)
        body: dict[str, Any] = {
            "categories": [cat["category"]],
            "sortOrder": sorts[i % len(sorts)],
            "limit": 40,
            "skipFirst": 40 * (i % 2),
        }
        if brands and brands["values"] and i % 3 != 2:
            body["brands"] = [max(brands["values"], key=lambda v: v["count"])["value"]]
        bodies.append(body)
    items = [
        i["item"]
        for p in products
        if p.get("price") is not None
        for i in p.get("items", [])
        if i.get("stock") == "yes"
    ]
    if not (category_uris and products and items):
        raise RuntimeError("the catalog has too little to shop from")
    rng = random.Random(4)
    return Targets(
        product_uris=["/se/sv/" + p["uri"] for p in products],
        category_uris=category_uris,
        listing_bodies=bodies,
        product_ids=[str(p["product"]) for p in products],
        items=rng.sample(items, min(20, len(items))),
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cache_metrics(bff: str) -> Counter[str]:
    text = requests.get(f"{bff}/metrics", timeout=30).text
    out: Counter[str] = Counter()
    for m in re.finditer(
        r'^storefront_catalog_cache_results_total\{result="(\w+)"\} ([0-9.e+]+)$', text, re.M
    ):
        out[m.group(1)] += int(float(m.group(2)))
    return out


def start_gunicorn(procs: Processes, env: dict[str, str], workdir: Path) -> int:
    from storefront import embedded

    port = embedded.free_port()
    procs.add("gunicorn", embedded.start_gunicorn(port, env, log_path=workdir / "gunicorn.log"))
    return port


def render(
    options: Options,
    tally: Tally,
    seconds: float,
    metrics: Counter[str],
    started: str,
    load: tuple[float, float],
) -> str:
    requests_total = sum(len(v) for v in tally.latencies.values())
    catalog_caches: Counter[str] = Counter()
    for kind in CATALOG_KINDS:
        catalog_caches.update(tally.caches.get(kind, Counter()))
    answered = sum(catalog_caches.values())
    hits = catalog_caches.get("HIT", 0)
    metric_total = sum(metrics.values())
    errors = sum(tally.errors.values())
    lines = [
        SECTION,
        "",
        f"Command: `.venv/bin/python -m bench.loadtest --users {options.users} "
        f"--duration {options.duration:.0f} --warmup {options.warmup:.0f}` (from the repository "
        "root; starts and stops everything it needs on 127.0.0.1). Run at "
        f"{started} on {os.cpu_count()} CPUs ({platform.machine()}), 1-minute load average "
        f"{load[0]:.1f} before and {load[1]:.1f} after; the client, gunicorn, Redis, the sandbox "
        "and the worker share the machine with other work.",
        "",
        f"Set-up: sandbox with {options.products} products x {options.markets} markets, "
        "2 languages, latency 0; the catalog built by the worker before the run; gunicorn "
        "2 workers x 8 threads, `DJANGO_DEBUG=false`; "
        f"{options.users} virtual shoppers, closed loop (no think time), each with its own "
        "connection, cookie session and client address (`TRUSTED_PROXY_COUNT=1`, rate limits "
        f"on at their defaults); {options.warmup:.0f} s warm-up (not counted), then "
        f"{seconds:.0f} s measured.",
        "",
        f"- requests: **{requests_total}** in {seconds:.0f} s = "
        f"**{requests_total / seconds:.0f} req/s**",
        f"- errors (any status but 200/201, or no answer): **{errors}**"
        + (f" ({dict(tally.errors.most_common(5))})" if errors else ""),
        f"- cache hit rate of catalog answers (`X-Cache`): **{100 * hits / answered:.2f}%** "
        f"({hits} HIT of {answered}; {dict(catalog_caches)})"
        if answered
        else "- no X-Cache",
        f"- `/metrics` `storefront_catalog_cache_results_total` during the run: "
        f"{dict(metrics)} = {100 * metrics.get('HIT', 0) / metric_total:.2f}% HIT"
        if metric_total
        else "- `/metrics`: no catalog reads counted",
        "",
        "| request | share | n | req/s | p50 ms | p90 ms | p99 ms | max ms | statuses |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    every: list[float] = []
    for kind, share in MIX.items():
        values = tally.latencies.get(kind, [])
        every += values
        if not values:
            lines.append(f"| {kind} | {share}% | 0 | | | | | | |")
            continue
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses[kind].items()))
        lines.append(
            f"| {kind} | {share}% | {len(values)} | {len(values) / seconds:.1f} "
            f"| {pct(values, 50):.1f} | {pct(values, 90):.1f} | {pct(values, 99):.1f} "
            f"| {max(values):.0f} | {statuses} |"
        )
    if every:
        lines.append(
            f"| all | 100% | {len(every)} | {len(every) / seconds:.1f} | {pct(every, 50):.1f} "
            f"| {pct(every, 90):.1f} | {pct(every, 99):.1f} | {max(every):.0f} | |"
        )
    return "\n".join(lines) + "\n"


def _out_of_time(signum: int, frame: object) -> None:
    raise TimeoutError("the load test ran out of time (--max-seconds)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__)
    parser.add_argument("--users", type=int, default=16, help="concurrent virtual shoppers")
    parser.add_argument("--duration", type=float, default=300, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=30, help="seconds of warm-up first")
    parser.add_argument("--products", type=int, default=2000, help="products per market")
    parser.add_argument("--markets", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS), help="results file ('-': print only)")
    parser.add_argument("--max-seconds", type=int, default=1200, help="give up after this long")
    args = parser.parse_args(argv)
    options = Options(args.users, args.duration, args.warmup, args.products, args.markets)
    started = datetime.now(UTC).isoformat(timespec="minutes")
    load_before = os.getloadavg()[0]
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(args.max_seconds)
    workdir = Path(tempfile.mkdtemp(prefix="storefront-loadtest-"))
    (workdir / "var").mkdir()
    (workdir / "prometheus").mkdir()
    procs = Processes()
    log(f"working in {workdir}")
    try:
        redis_url = start_redis(procs, workdir, "redis")
        sandbox_args = [
            "--products",
            str(options.products),
            "--markets",
            str(options.markets),
            "--languages",
            "2",
        ]
        sandbox = start_sandbox(procs, sandbox_args, workdir, "sandbox")
        env = {
            **bff_env(redis_url, sandbox, workdir),
            "FRONTEND_ORIGINS": ORIGIN,
            "TRUSTED_PROXY_COUNT": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
        }
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=120,
        )
        worker_log = workdir / "worker.log"
        from storefront import embedded

        procs.add(
            "worker",
            embedded.start_worker(
                {k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
                log_path=worker_log,
                cwd=ROOT,
                concurrency=1,
            ),
        )
        wait_until(lambda: b" ready." in worker_log.read_bytes(), 60, "worker ready")
        log("building the catalog (manage.py catalog_rebuild --wait)")
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "catalog_rebuild", "--wait"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=600,
            capture_output=True,
        )
        port = start_gunicorn(procs, env, workdir)
        bff = f"http://127.0.0.1:{port}"
        targets = find_targets(bff)
        log(
            f"{len(targets.product_uris)} product pages, {len(targets.category_uris)} category "
            f"pages, {len(targets.listing_bodies)} listings, {len(targets.items)} items"
        )
        log(f"warm-up: {options.warmup:.0f} s with {options.users} shoppers")
        warm = drive(port, targets, options, options.warmup, seed=1)
        log(f"warm-up errors: {sum(warm.errors.values())}")
        before = cache_metrics(bff)
        log(f"measuring: {options.duration:.0f} s")
        started_at = time.monotonic()
        tally = drive(port, targets, options, options.duration, seed=2)
        seconds = time.monotonic() - started_at
        after = cache_metrics(bff)
        metrics = Counter({k: after[k] - before.get(k, 0) for k in after})
    finally:
        signal.alarm(0)
        procs.stop_all()
    load = (load_before, os.getloadavg()[0])
    section = render(options, tally, seconds, metrics, started, load)
    print("\n" + section)
    if args.out != "-":
        write_section(SECTION, section, Path(args.out))
        log(f"written to {args.out}")
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
