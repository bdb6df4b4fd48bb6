"""Catalog benchmarks: ``.venv/bin/python -m bench.catalog`` (add ``--quick`` for a smoke run).

Not tests: figures, each a ratio against baselines measured in the same run, written to
``bench/RESULTS.md``. Everything runs on 127.0.0.1 and is started and stopped here:

1. Redis and a sandbox (10,000 products per market, 3 markets, 4 pricelists, 2 languages,
   latency 0); a Celery worker (one process per market); ``manage.py catalog_rebuild --wait``
   rebuilds every market, timed, and the sandbox's request log is counted by endpoint.
2. gunicorn serving the BFF (2 workers x 8 threads, as docker-compose runs it, DEBUG off),
   and a second sandbox with the same catalog at ``--latency-ms 100`` (Centra without us).
   Measured with a keep-alive client (``bench.load``), sequential and 8 threads:
   ``/bench/hello`` (the floor), ``GET products/{id}`` from the cache, a category listing
   (``POST products`` with ``categories``, a ``brands`` filter, a price sort, ``limit`` 40,
   facets in the answer), and the same two requests against the 100 ms sandbox.
3. Server time of the listing, in this process: the service call (``products_query``) alone,
   and the whole Django stack through the test client (middleware, view, JSON), no socket.
4. Redis memory of the built catalog with 1 and with 10 pricelists (same generator, seed and
   sizes), each in a fresh Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import requests

from bench.load import Request, Stats, json_request, run
from bench.results import history_rows, write_section
from storefront import embedded

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-shared-secret"
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "# Catalog benchmarks"
# What the BFF's settings use unless CATALOG_PAGE_SIZE says otherwise.
PAGE_SIZE = int(os.environ.get("CATALOG_PAGE_SIZE", "1000"))
COMMAND = ".venv/bin/python -m bench.catalog"


@dataclass
class Sizes:
    products: int = 10_000
    markets: int = 3
    pricelists: int = 4
    languages: int = 2
    seq: int = 2000  # sequential requests to the BFF per endpoint
    conc: int = 2000  # requests with 8 threads
    slow_seq: int = 40  # sequential requests to the 100 ms sandbox
    slow_conc: int = 80
    inproc: int = 1000  # in-process listing calls

    def sandbox_args(self, pricelists: int | None = None) -> list[str]:
        return [
            "--products",
            str(self.products),
            "--markets",
            str(self.markets),
            "--pricelists",
            str(self.pricelists if pricelists is None else pricelists),
            "--languages",
            str(self.languages),
        ]


@dataclass
class Report:
    sizes: Sizes
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    rebuild_seconds: float = 0.0
    upstream_floor_seconds: float = 0.0
    rebuild_jobs: list[dict[str, Any]] = field(default_factory=list)
    upstream: Counter[str] = field(default_factory=Counter)
    expected_pages: int = 0
    stats: dict[str, Stats] = field(default_factory=dict)
    inproc_ms: dict[str, list[float]] = field(default_factory=dict)
    memory: dict[int, dict[str, int]] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    load_before: tuple[float, float, float] = field(default_factory=os.getloadavg)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


class Processes:
    """Everything this run starts, stopped in reverse order whatever happens."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def add(self, name: str, proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.procs.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            embedded.stop(proc, timeout=20)
        self.procs.clear()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.1)


def start_sandbox(procs: Processes, args: list[str], workdir: Path, name: str) -> str:
    port = embedded.free_port()
    procs.add(
        name,
        embedded.start_sandbox(port, SECRET, args, log_path=workdir / f"{name}.log"),
    )
    return f"http://127.0.0.1:{port}"


def start_redis(procs: Processes, workdir: Path, name: str) -> str:
    port = embedded.free_port()
    path = workdir / name
    path.mkdir()
    procs.add(name, embedded.start_redis(port, str(path)))
    return f"redis://127.0.0.1:{port}/0"


def bff_env(redis_url: str, sandbox_url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "DJANGO_DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "CENTRA_API_URL": f"{sandbox_url}/api/checkout/",
        "CENTRA_SHARED_SECRET": SECRET,
        "STOREFRONT_VAR_DIR": str(workdir / "var"),
        "CATALOG_REBUILD_CRON": "off",
    }


def sandbox_control(base: str, method: str, path: str, **kwargs: Any) -> Any:
    resp = requests.request(
        method,
        f"{base}/sandbox/{path}",
        headers={"Authorization": f"Bearer {SECRET}"},
        timeout=60,
        **kwargs,
    )
    resp.raise_for_status()
    return resp.json()


# -- phase 1: the full rebuild -----------------------------------------------------------------


def upstream_floor(report: Report, sandbox: str, sizes: Sizes, page_size: int = 500) -> None:
    """How long the sandbox alone takes to serve the pages a rebuild asks for, to the same
    parallelism (one client per market), with nothing done with the answers: the part of the
    rebuild's time that is Centra's."""
    import threading

    shop = requests.get(f"{sandbox}/api/checkout/languages", timeout=30).json()
    languages = [lang["language"] for lang in shop["languages"]]
    markets = [str(i) for i in range(1, sizes.markets + 1)]
    errors: list[BaseException] = []

    def fetch(market: str) -> None:
        s = requests.Session()
        s.headers.update({"Authorization": f"Bearer {SECRET}", "API-token": "none"})
        try:
            for n, language in enumerate(languages):
                skip, count = 0, 1
                while skip < count:
                    resp = s.post(
                        f"{sandbox}/api/checkout/products",
                        json={
                            "market": market,
                            "pricelist": "all",
                            "language": language,
                            "skipFirst": skip,
                            "limit": page_size,
                            "relatedProducts": n == 0,
                        },
                        timeout=120,
                    )
                    resp.raise_for_status()
                    count = int(resp.json()["productCount"])
                    skip += page_size
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=fetch, args=(m,)) for m in markets]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    report.upstream_floor_seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    log(
        "upstream floor: the sandbox serves the rebuild's pages in "
        f"{report.upstream_floor_seconds:.1f} s"
    )


def rebuild_all(report: Report, env: dict[str, str], sandbox: str, redis_url: str) -> None:
    sandbox_control(sandbox, "DELETE", "requests")
    log("rebuilding every market (manage.py catalog_rebuild --wait)")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "catalog_rebuild", "--wait", "--timeout", "600"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=660,
        check=False,
    )
    report.rebuild_seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"rebuild failed:\n{done.stdout}\n{done.stderr}")
    r = redis.Redis.from_url(redis_url)
    for market, job_id in re.findall(r"market (\S+): job (\w+)", done.stdout):
        record: dict[bytes, bytes] = r.hgetall(f"catalog:job:{job_id}")  # type: ignore[assignment]
        raw = {k.decode(): v.decode() for k, v in record.items()}
        report.rebuild_jobs.append({"market": market, **raw})
    r.close()
    logged = sandbox_control(sandbox, "GET", "requests")["requests"]
    report.upstream = Counter(f"{e['method']} {e['route']}" for e in logged)
    for job in report.rebuild_jobs:
        report.expected_pages += int(job.get("pages_total", 0))
    log(f"rebuilt in {report.rebuild_seconds:.1f} s; upstream requests: {dict(report.upstream)}")


# -- phase 2: over HTTP ------------------------------------------------------------------------


def start_gunicorn(procs: Processes, env: dict[str, str], workdir: Path) -> str:
    port = embedded.free_port()
    procs.add("gunicorn", embedded.start_gunicorn(port, env, log_path=workdir / "gunicorn.log"))
    return f"http://127.0.0.1:{port}"


def listing_bodies(bff: str, count: int = 12) -> list[dict[str, Any]]:
    """Category listings as a shop shows them: the category, its most common brand as the
    facet filter, sorted by price, 40 per page (facets come with every answer)."""
    s = requests.Session()
    categories = s.get(f"{bff}/api/checkout/categories", timeout=30).json()["categories"]
    bodies = []
    for cat in categories:
        data = s.post(
            f"{bff}/api/checkout/products",
            json={"categories": [cat["category"]], "limit": 1},
            timeout=30,
        ).json()
        if data["productCount"] < 80:
            continue
        brands = next(f for f in data["filter"] if f["field"] == "brands")["values"]
        brand = max(brands, key=lambda v: v["count"])["value"]
        bodies.append(
            {
                "categories": [cat["category"]],
                "brands": [brand],
                "sortOrder": [{"field": "priceAsNumber", "order": "asc"}],
                "limit": 40,
            }
        )
        if len(bodies) >= count:
            break
    if not bodies:
        raise RuntimeError("no category with enough products for the listing benchmark")
    return bodies


def page_requests(bff: str, count: int = 300) -> tuple[list[Request], list[Request]]:
    """HTML pages as a browser asks for them: product pages by their uri, and category pages
    filtered by their most common brand (the page shows every facet with counts)."""
    s = requests.Session()
    data = s.post(f"{bff}/api/checkout/products", json={"limit": count}, timeout=60).json()
    html = {"Accept": "text/html"}
    products: list[Request] = [("GET", "/se/sv/" + p["uri"], None, html) for p in data["products"]]
    categories = {
        c["category"]: c["uri"]
        for c in s.get(f"{bff}/api/checkout/categories").json()["categories"]
    }
    listings: list[Request] = [
        ("GET", f"/se/sv/{categories[b['categories'][0]]}?brand={b['brands'][0]}", None, html)
        for b in listing_bodies(bff)
    ]
    return products, listings


def product_ids(bff: str, count: int = 1000) -> list[str]:
    data = requests.post(f"{bff}/api/checkout/products", json={"limit": count}, timeout=60).json()
    ids = [str(p["product"]) for p in data["products"]]
    random.Random(1).shuffle(ids)
    return ids


def strip_token(body: Any) -> Any:
    if isinstance(body, dict):
        body = dict(body)
        body.pop("token", None)
    return body


def differences(a: Any, b: Any) -> str:
    """Which top-level fields differ (token aside): empty when the answers are equal."""
    a, b = strip_token(a), strip_token(b)
    if a == b:
        return ""
    return ", ".join(_diff_paths(a, b, "")[:8]) or "?"


def _diff_paths(a: Any, b: Any, path: str) -> list[str]:
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff_paths(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _diff_paths(x, y, f"{path}[{i}]")
        return out
    return [f"`{path}` ({json.dumps(a)[:60]} vs {json.dumps(b)[:60]})"]


def same_answers(
    report: Report, bff: str, source: str, slow: str, pid: str, body: dict[str, Any]
) -> None:
    """The figures compare like with like only if both sides give the same JSON. Media URLs
    name the sandbox that made them (host and port), so those are set aside."""

    def get(base: str, method: str, path: str, **kw: Any) -> Any:
        text = requests.request(method, f"{base}/api/checkout/{path}", timeout=30, **kw).text
        return json.loads(text.replace(source, "SANDBOX").replace(slow, "SANDBOX"))

    fast_p, slow_p = (get(base, "GET", f"products/{pid}") for base in (bff, slow))
    fast_l, slow_l = (get(base, "POST", "products", json=body) for base in (bff, slow))
    diff_p, diff_l = differences(fast_p, slow_p), differences(fast_l, slow_l)
    report.checks.append(
        f"`GET products/{pid}` from the BFF and from the 100 ms sandbox: "
        + (f"differ in {diff_p}" if diff_p else "equal (token and media host aside)")
    )
    report.checks.append(
        f"listing `{json.dumps(body)}` from both: "
        + (f"differ in {diff_l}" if diff_l else "equal (token and media host aside)")
        + f"; {fast_l.get('productCount')} products, {len(fast_l.get('filter', []))} facet fields"
    )


def ok(status: int, data: bytes) -> None:
    if status != 200:
        raise RuntimeError(f"status {status}: {data[:300]!r}")


def measure_http(report: Report, bff: str, source: str, slow: str, sizes: Sizes) -> None:
    ids = product_ids(bff)
    bodies = listing_bodies(bff)
    same_answers(report, bff, source, slow, ids[0], bodies[0])
    hello: list[Request] = [json_request("GET", "/bench/hello")]
    product: list[Request] = [json_request("GET", f"/api/checkout/products/{p}") for p in ids]
    listing: list[Request] = [json_request("POST", "/api/checkout/products", b) for b in bodies]

    product_page, category_page = page_requests(bff)

    log("warming up (each gunicorn worker loads the market's index once)")
    for reqs in (hello, product, listing, product_page, category_page):
        run("warm-up", bff, reqs, 400, concurrency=8, check=ok)

    plan: list[tuple[str, str, list[Request], int, int, bool]] = [
        ("hello (floor)", bff, hello, sizes.seq, 1, False),
        ("GET products/{id}, BFF cache", bff, product, sizes.seq, 1, False),
        ("listing, BFF cache", bff, listing, sizes.seq, 1, False),
        ("product page (HTML)", bff, product_page, sizes.seq, 1, False),
        ("category page with facets (HTML)", bff, category_page, sizes.seq, 1, False),
        ("GET products/{id}, sandbox 100 ms", slow, product, sizes.slow_seq, 1, True),
        ("listing, sandbox 100 ms", slow, listing, sizes.slow_seq, 1, True),
        ("hello (floor) x8", bff, hello, sizes.conc, 8, False),
        ("GET products/{id}, BFF cache x8", bff, product, sizes.conc, 8, False),
        ("listing, BFF cache x8", bff, listing, sizes.conc, 8, False),
        ("GET products/{id}, sandbox 100 ms x8", slow, product, sizes.slow_conc, 8, True),
        ("listing, sandbox 100 ms x8", slow, listing, sizes.slow_conc, 8, True),
    ]
    for name, base, reqs, n, conc, shopper in plan:
        stats = run(name, base, reqs, n, concurrency=conc, keep_token=shopper, check=ok)
        report.stats[name] = stats
        log(stats.row() + (f"  X-Cache {stats.headers}" if stats.headers else ""))


# -- phase 3: server time, in process ----------------------------------------------------------


@contextmanager
def django_for(env: dict[str, str]) -> Iterator[None]:
    for key in (
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "CENTRA_API_URL",
        "CENTRA_SHARED_SECRET",
        "STOREFRONT_VAR_DIR",
        "DJANGO_DEBUG",
        "CATALOG_REBUILD_CRON",
        "ALLOWED_HOSTS",
    ):
        os.environ[key] = env[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    import django

    django.setup()
    yield


def measure_inprocess(report: Report, bff: str, sizes: Sizes) -> None:
    from django.test import Client, RequestFactory

    from catalog import reads, shop_reads

    bodies = listing_bodies(bff)
    factory = RequestFactory()
    contexts = []
    for body in bodies:
        request = factory.post("/api/checkout/products", body, content_type="application/json")
        contexts.append((shop_reads.visitor_context(request=request, params=body), body))
    for ctx, body in contexts:  # warm: the process loads the index once
        reads.products_query(context=ctx, body=body)
    service_ms = []
    for i in range(sizes.inproc):
        ctx, body = contexts[i % len(contexts)]
        started = time.perf_counter()
        answer = reads.products_query(context=ctx, body=body)
        service_ms.append((time.perf_counter() - started) * 1000)
        assert answer.cache == "HIT", answer.cache
    report.inproc_ms["listing: products_query service call"] = service_ms

    client = Client(HTTP_HOST="127.0.0.1")
    stack_ms = []
    for i in range(sizes.inproc):
        body = bodies[i % len(bodies)]
        started = time.perf_counter()
        resp = client.post("/api/checkout/products", body, content_type="application/json")
        stack_ms.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200
    report.inproc_ms["listing: whole Django stack (test client, no socket)"] = stack_ms
    hello_ms = []
    for _ in range(sizes.inproc):
        started = time.perf_counter()
        client.get("/bench/hello")
        hello_ms.append((time.perf_counter() - started) * 1000)
    report.inproc_ms["hello: whole Django stack (test client, no socket)"] = hello_ms
    for name, values in report.inproc_ms.items():
        log(f"{name}: p50 {statistics.median(values):.2f} ms, p95 {pct(values, 95):.2f} ms")


def pct(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- phase 4: memory by pricelists -------------------------------------------------------------


def measure_memory(report: Report, workdir: Path, sizes: Sizes) -> None:
    for pricelists in (1, 10):
        # Each pair is stopped after use: two more 10,000-product sandboxes at once would
        # only compete for memory and CPU.
        phase = Processes()
        try:
            measure_memory_once(report, phase, workdir, sizes, pricelists)
        finally:
            phase.stop_all()


def used_memory(r: redis.Redis) -> int:
    info: dict[str, Any] = r.info("memory")  # type: ignore[assignment]
    return int(info["used_memory"])


def measure_memory_once(
    report: Report, procs: Processes, workdir: Path, sizes: Sizes, pricelists: int
) -> None:
    from catalog.rebuild import market_ids, rebuild_market
    from storefront.centra import CentraClient

    sandbox = start_sandbox(
        procs, sizes.sandbox_args(pricelists), workdir, f"sandbox-pl{pricelists}"
    )
    url = start_redis(procs, workdir, f"redis-pl{pricelists}")
    r = redis.Redis.from_url(url)
    empty = used_memory(r)
    client = CentraClient(f"{sandbox}/api/checkout/", SECRET, 2.0, 60.0)
    products = 0
    started = time.perf_counter()
    for market in market_ids(client=client, r=r):
        products += rebuild_market(market=market, client=client, r=r).products
    seconds = time.perf_counter() - started
    used = used_memory(r) - empty
    catalog_bytes = 0
    for key in r.scan_iter("cat:*", count=1000):
        size: int | None = r.memory_usage(key, samples=0)  # type: ignore[assignment]
        catalog_bytes += size or 0
    report.memory[pricelists] = {
        "products": products,
        "used_memory": used,
        "catalog_keys": catalog_bytes,
        "build_seconds": int(seconds),
    }
    log(
        f"{pricelists} pricelist(s): {products} products, used_memory +{used / 2**20:.1f} MiB,"
        f" catalog keys {catalog_bytes / 2**20:.1f} MiB (built in {seconds:.0f} s)"
    )
    r.close()


# -- the report --------------------------------------------------------------------------------


def fmt_load(load: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.1f}" for x in load)


def verdict(ok_: bool) -> str:
    return "**met**" if ok_ else "**not met**"


def render(report: Report, history: list[str]) -> str:
    s = report.stats
    z = report.sizes
    hello = s["hello (floor)"].p50
    prod = s["GET products/{id}, BFF cache"].p50
    listing = s["listing, BFF cache"].p50
    product_page = s["product page (HTML)"].p50
    category_page = s["category page with facets (HTML)"].p50
    slow_prod = s["GET products/{id}, sandbox 100 ms"].p50
    slow_listing = s["listing, sandbox 100 ms"].p50
    service = statistics.median(report.inproc_ms["listing: products_query service call"])
    stack = statistics.median(
        report.inproc_ms["listing: whole Django stack (test client, no socket)"]
    )
    per_product = sum(v for k, v in report.upstream.items() if "{product}" in k)
    pages = report.upstream.get("POST /api/checkout/products", 0)
    mem1, mem10 = report.memory[1], report.memory[10]
    mem_ratio = mem10["used_memory"] / mem1["used_memory"]
    keys_ratio = mem10["catalog_keys"] / mem1["catalog_keys"]
    lines = [
        "# Catalog benchmarks",
        "",
        f"Command: `{COMMAND}` (from the repository root; 5 to 8 minutes; starts and stops",
        "everything it needs on 127.0.0.1). Figures below are from one run; rerun to refresh.",
        "",
        f"- Run: {report.started}, Python {platform.python_version()}, {os.cpu_count()} CPUs "
        f"({platform.machine()}), {platform.system()}. The load client, gunicorn, Redis and "
        "the sandboxes share these CPUs, so concurrent figures are bounded by the machine. "
        f"Load average (1/5/15 min) at the start {fmt_load(report.load_before)}, at the end "
        f"{fmt_load(report.load_after)}: other work on the machine shows up in these figures.",
        f"- Catalog: {z.products:,} products per market (the generator's 'about'), "
        f"{z.markets} markets, {z.pricelists} pricelists, {z.languages} languages.",
        "- BFF: gunicorn, 2 workers x 8 threads (as docker-compose), `DJANGO_DEBUG=false`.",
        "- Client: keep-alive HTTP/1.1 (`bench/load.py`, `http.client`), sequential (c=1) and "
        "8 threads (c=8); latencies are client-side, request sent to body read.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| `GET products/{{id}}` median at most 2x the hello floor | {prod:.2f} ms vs "
        f"{hello:.2f} ms = **{prod / hello:.2f}x** | {verdict(prod <= 2 * hello)} |",
        f"| `GET products/{{id}}` at least 30x faster than the sandbox at 100 ms | "
        f"{slow_prod:.1f} ms / {prod:.2f} ms = **{slow_prod / prod:.0f}x** | "
        f"{verdict(slow_prod >= 30 * prod)} |",
        f"| listing median at most 10 ms server time | service call {service:.2f} ms; whole "
        f"Django stack {stack:.2f} ms | {verdict(stack <= 10)} |",
        f"| listing median at most 4x the floor | {listing:.2f} ms vs {hello:.2f} ms = "
        f"**{listing / hello:.2f}x** | {verdict(listing <= 4 * hello)} |",
        f"| (no target) listing vs the sandbox at 100 ms | {slow_listing:.1f} ms / "
        f"{listing:.2f} ms = {slow_listing / listing:.0f}x faster | |",
        f"| full rebuild of {z.markets} markets x {z.languages} languages under 60 s | "
        f"**{report.rebuild_seconds:.1f} s** (command start to finish); the sandbox alone "
        f"serves the same pages in {report.upstream_floor_seconds:.1f} s | "
        f"{verdict(report.rebuild_seconds < 60)} |",
        f"| no per-product upstream requests | {per_product} `GET products/{{product}}`; "
        f"{pages} `POST products` pages (expected {report.expected_pages}) | "
        f"{verdict(per_product == 0)} |",
        f"| Redis memory with 10 pricelists at most 1.2x that with 1 | used_memory "
        f"**{mem_ratio:.2f}x**; catalog keys {keys_ratio:.2f}x | {verdict(mem_ratio <= 1.2)} |",
        f"| (issue 5) product page HTML median at most 3x the floor | {product_page:.2f} ms = "
        f"**{product_page / hello:.2f}x** | {verdict(product_page <= 3 * hello)} |",
        f"| (issue 5) category page with facets at most 5x the floor | {category_page:.2f} ms "
        f"= **{category_page / hello:.2f}x** | {verdict(category_page <= 5 * hello)} |",
        "",
        "## Latency over HTTP",
        "",
        "| request | c | n | p50 ms | p95 ms | req/s | p50 vs floor | body bytes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, st in s.items():
        floor = s["hello (floor) x8" if st.concurrency > 1 else "hello (floor)"].p50
        lines.append(
            f"| {name} | {st.concurrency} | {st.n} | {st.p50:.2f} | {st.p95:.2f} | "
            f"{st.rps:.0f} | {st.p50 / floor:.1f}x | {st.mean_bytes:,} |"
        )
    caches = {name: st.headers for name, st in s.items() if st.headers}
    lines += [
        "",
        f"`X-Cache` seen on the BFF's answers: {json.dumps(caches)}.",
        "",
        "## Server time of the listing (in process)",
        "",
        "The BFF sends no `Server-Timing` header, so the listing's server time is taken in the "
        "benchmark's own process against the same Redis: the service call "
        "(`catalog.reads.products_query`, context resolved beforehand) and the whole Django "
        "stack through `django.test.Client` (middleware, view, JSON; no socket, no gunicorn).",
        "",
        "| measured | n | p50 ms | p95 ms |",
        "| --- | --- | --- | --- |",
    ]
    for name, values in report.inproc_ms.items():
        lines.append(
            f"| {name} | {len(values)} | {statistics.median(values):.2f} | {pct(values, 95):.2f} |"
        )
    lines += [
        "",
        "## Full rebuild",
        "",
        f"`manage.py catalog_rebuild --wait` with one worker process per market (`--concurrency "
        f"{z.markets}`), sandbox at latency 0, page size {PAGE_SIZE}: "
        f"**{report.rebuild_seconds:.1f} s** "
        "from the command's start (Django start-up included) to the last flip.",
        "",
        f"Upstream floor: the sandbox alone serves the same pages (same parallelism, answers "
        f"read but not parsed) in **{report.upstream_floor_seconds:.1f} s**. The sandbox is a "
        f"single Python process that computes every page (a {PAGE_SIZE}-product page with "
        "`relatedProducts` is several MB of JSON), so on this machine it, not the BFF, sets "
        "most of the rebuild's time.",
        "",
        "| market | products | pages | build s |",
        "| --- | --- | --- | --- |",
    ]
    for job in report.rebuild_jobs:
        lines.append(
            f"| {job['market']} | {job.get('products')} | {job.get('pages_done')}/"
            f"{job.get('pages_total')} | {float(job.get('seconds', 0)):.1f} |"
        )
    lines += [
        "",
        "Upstream requests during the rebuild (the sandbox's request log):",
        "",
        "| request | count |",
        "| --- | --- |",
    ]
    for key, count in sorted(report.upstream.items()):
        lines.append(f"| `{key}` | {count} |")
    lines += [
        "",
        "## Redis memory by pricelists",
        "",
        "The same generator (seed 1, same sizes) with 1 and with 10 pricelists, each built into a "
        "fresh Redis (all markets, one generation each). `used_memory` is the growth over the "
        "empty server; 'catalog keys' is the sum of `MEMORY USAGE` over `cat:*`.",
        "",
        "| pricelists | products (all markets) | used_memory MiB | catalog keys MiB |",
        "| --- | --- | --- | --- |",
    ]
    for n in (1, 10):
        m = report.memory[n]
        lines.append(
            f"| {n} | {m['products']} | {m['used_memory'] / 2**20:.1f} | "
            f"{m['catalog_keys'] / 2**20:.1f} |"
        )
    lines += ["", "## Checks", ""] + [f"- {c}" for c in report.checks]
    lines += [
        "",
        "## Run history",
        "",
        "Every full run adds a row, so that one run on a busy machine is not mistaken for the "
        "rule: the machine is shared, and its load moves these figures by tens of percent.",
        "",
        HISTORY_HEADER,
        HISTORY_RULE,
        *history,
        "",
    ]
    return "\n".join(lines)


HISTORY_HEADER = (
    "| run (UTC) | load 1 min | rebuild s | upstream floor s | product/floor | listing/floor "
    "| listing server ms | sandbox/product | memory 10/1 |"
)
HISTORY_RULE = "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"


def history_row(report: Report) -> str:
    s = report.stats
    hello = s["hello (floor)"].p50
    prod = s["GET products/{id}, BFF cache"].p50
    listing = s["listing, BFF cache"].p50
    stack = statistics.median(
        report.inproc_ms["listing: whole Django stack (test client, no socket)"]
    )
    slow = s["GET products/{id}, sandbox 100 ms"].p50
    memory = report.memory[10]["used_memory"] / report.memory[1]["used_memory"]
    return (
        f"| {report.started[:16]} | {report.load_before[0]:.1f} | {report.rebuild_seconds:.1f} "
        f"| {report.upstream_floor_seconds:.1f} | {prod / hello:.2f}x | {listing / hello:.2f}x "
        f"| {stack:.2f} | {slow / prod:.0f}x | {memory:.2f}x |"
    )


def _out_of_time(signum: int, frame: object) -> None:
    raise TimeoutError("the benchmark ran out of time (--max-seconds)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.catalog", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small catalog, few requests")
    parser.add_argument("--out", default=str(RESULTS), help="where to write the results")
    parser.add_argument("--max-seconds", type=int, default=1800, help="give up after this long")
    args = parser.parse_args(argv)
    sizes = Sizes()
    if args.quick:
        sizes = Sizes(products=1000, seq=300, conc=300, slow_seq=10, slow_conc=16, inproc=200)
    report = Report(sizes)
    # A hard bound on the whole run: whatever hangs, the processes are stopped (finally below).
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(args.max_seconds)
    workdir = Path(tempfile.mkdtemp(prefix="storefront-bench-"))
    (workdir / "var").mkdir()
    procs = Processes()
    log(f"working in {workdir}")
    try:
        redis_url = start_redis(procs, workdir, "redis")
        sandbox = start_sandbox(procs, sizes.sandbox_args(), workdir, "sandbox")
        slow = start_sandbox(
            procs, [*sizes.sandbox_args(), "--latency-ms", "100"], workdir, "sandbox-100ms"
        )
        env = bff_env(redis_url, sandbox, workdir)
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=120,
        )
        procs.add(
            "worker",
            embedded.start_worker(
                env, log_path=workdir / "worker.log", cwd=ROOT, concurrency=sizes.markets
            ),
        )
        wait_until(lambda: b" ready." in (workdir / "worker.log").read_bytes(), 60, "worker ready")
        upstream_floor(report, sandbox, sizes)
        rebuild_all(report, env, sandbox, redis_url)
        bff = start_gunicorn(procs, env, workdir)
        measure_http(report, bff, sandbox, slow, sizes)
        with django_for(env):
            measure_inprocess(report, bff, sizes)
            measure_memory(report, workdir, sizes)
    finally:
        signal.alarm(0)
        procs.stop_all()
    report.load_after = os.getloadavg()
    out = Path(args.out)
    history = [*history_rows(HEADING, out), history_row(report)]
    text = render(report, history)
    print("\n" + text)
    if not args.quick or args.out != str(RESULTS):
        write_section(HEADING, text, out)
        log(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
