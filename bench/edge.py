"""Edge cache benchmark (issue 17): an edge hit against an origin hit of the same page, and
how soon a merchant's edit shows through the edge.

Command: ``.venv/bin/python -m bench.edge`` from the repository root (needs varnishd:
``apt-get install varnish varnish-modules``). It starts its own stack
(``tests/edge/edge_stack.py``: Redis, a sandbox sending signed webhooks, the BFF under gunicorn,
a Celery worker, varnishd on ``edge/default.vcl``, the worker purging it), stops it at the end,
prints the figures and replaces its section of ``bench/RESULTS.md``.

(a) One product page (HTML), fetched ``--requests`` times one after another on a kept-alive
    connection: through the edge (a hit after the first) and straight from gunicorn (the
    origin's own warm answer, built pages cached in process). Ratio: origin / edge.
(b) Edit to edge: a price edit in the sandbox (its edit API, answered at once, as the admin
    does), then the page's JSON model fetched through the edge every few milliseconds until
    it shows the new price. Each edit a product of its own, its page cached at the edge
    before. The same for edits watched straight at the origin, in the same run, as the
    baseline: what the webhook path costs without an edge (ratio: edge / origin). Target:
    p95 <= 500 ms from the edit.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")

import requests

from bench.results import write_section
from tests.edge.edge_stack import EdgeStack, edge_stack, prices_of, varnish_missing_reason

HEADING = "# Edge cache (issue 17)"
COMMAND = ".venv/bin/python -m bench.edge"
SEK = {"market": "1", "pricelist": "1", "language": "en"}
JSON = {"Accept": "application/json"}
TARGET_P95_MS = 500.0
POLL_SECONDS = 0.005
GIVE_UP_SECONDS = 20.0


def log(message: str) -> None:
    print(f"[bench.edge {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_gets(session: requests.Session, url: str, n: int) -> tuple[list[float], list[str]]:
    times, edges = [], []
    for _ in range(n):
        started = time.perf_counter()
        resp = session.get(url, timeout=30)
        resp.content  # noqa: B018 - read the whole body
        times.append((time.perf_counter() - started) * 1000)
        edges.append(resp.headers.get("X-Edge", "-"))
    return times, edges


def edit_to_shown(e: EdgeStack, product: dict[str, Any], base: str, bump: int) -> float | None:
    """ms from a price edit to ``base`` + the product's page showing it; None: gave up."""
    pid, path = product["product"], product["path"]
    session = requests.Session()
    session.get(base + path, headers=JSON, timeout=30)  # cached (at the edge) before the edit
    new_price = product["priceAsNumber"] + bump
    started = time.perf_counter()
    e.stack.edit("PUT", f"products/{pid}/price", {"pricelist": "1", "price": new_price}, sync=False)
    while time.perf_counter() - started < GIVE_UP_SECONDS:
        if prices_of(session.get(base + path, headers=JSON, timeout=30).json(), pid) == [new_price]:
            return (time.perf_counter() - started) * 1000
        time.sleep(POLL_SECONDS)
    return None


def run(e: EdgeStack, requests_n: int, edits: int) -> dict[str, Any]:
    _, listing = e.stack.centra("POST", "products", {**SEK, "limit": 1000})
    products = [p for p in listing["products"] if p["price"]]
    for p in products:
        p["path"] = e.page_path("/" + p["uri"])
    page = products[0]["path"]
    log(f"(a) {requests_n} requests of {page}, edge and origin")
    edge_session, origin_session = requests.Session(), requests.Session()
    timed_gets(edge_session, e.edge_url + page, 20)  # warm both
    timed_gets(origin_session, e.origin_url + page, 20)
    edge_ms, edge_states = timed_gets(edge_session, e.edge_url + page, requests_n)
    origin_ms, _ = timed_gets(origin_session, e.origin_url + page, requests_n)
    hits = edge_states.count("HIT")

    log(f"(b) {edits} edits watched at the edge, {edits // 2} at the origin")
    edge_fresh: list[float] = []
    origin_fresh: list[float] = []
    gave_up = 0
    pool = iter(products[1:])
    for n in range(edits + edits // 2):
        product = next(pool, None)
        if product is None:
            break
        e.stack.wait_quiet()
        via_edge = n % 3 != 2  # two at the edge for one at the origin, interleaved
        took = edit_to_shown(e, product, e.edge_url if via_edge else e.origin_url, 100 + n)
        if took is None:
            gave_up += 1
        else:
            (edge_fresh if via_edge else origin_fresh).append(took)
    return {
        "page": page,
        "edge_ms": edge_ms,
        "origin_ms": origin_ms,
        "hits": hits,
        "requests": requests_n,
        "edge_fresh": edge_fresh,
        "origin_fresh": origin_fresh,
        "gave_up": gave_up,
    }


def report(r: dict[str, Any], started: str, load: tuple[float, float, float]) -> str:
    e50, e95 = percentile(r["edge_ms"], 0.5), percentile(r["edge_ms"], 0.95)
    o50, o95 = percentile(r["origin_ms"], 0.5), percentile(r["origin_ms"], 0.95)
    f50, f95 = percentile(r["edge_fresh"], 0.5), percentile(r["edge_fresh"], 0.95)
    b50, b95 = percentile(r["origin_fresh"], 0.5), percentile(r["origin_fresh"], 0.95)
    met = "met" if f95 <= TARGET_P95_MS else "NOT met"
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `{COMMAND}` (`--requests N --edits N`). Its own stack: Redis, sandbox with "
            "signed webhooks, gunicorn (2 workers x 8 threads), one Celery worker, varnishd "
            "7 on `edge/default.vcl` purged by the worker (`EDGE_PURGE_REPEAT_SECONDS=1`).",
            "",
            f"Run: {started}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"load (1/5/15 min) at the start {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}. "
            f"Page `{r['page']}` (HTML).",
            "",
            "| measure | p50 ms | p95 ms | mean ms | ratio |",
            "| --- | --- | --- | --- | --- |",
            f"| (a) edge hit ({r['hits']}/{r['requests']} HIT) | {e50:.2f} | {e95:.2f} | "
            f"{statistics.fmean(r['edge_ms']):.2f} | 1.00x |",
            f"| (a) origin hit, same URL, bypassing the edge | {o50:.2f} | {o95:.2f} | "
            f"{statistics.fmean(r['origin_ms']):.2f} | {o50 / e50:.1f}x the edge (p50) |",
            f"| (b) edit to edge, {len(r['edge_fresh'])} edits | {f50:.0f} | {f95:.0f} | "
            f"{statistics.fmean(r['edge_fresh']):.0f} | {f50 / b50:.2f}x the origin (p50) |",
            f"| (b) edit to origin (no edge, baseline), {len(r['origin_fresh'])} edits | "
            f"{b50:.0f} | {b95:.0f} | {statistics.fmean(r['origin_fresh']):.0f} | 1.00x |",
            "",
            f"Target: edit to edge p95 <= {TARGET_P95_MS:.0f} ms: {f95:.0f} ms, {met}. "
            f"Edits given up after {GIVE_UP_SECONDS:.0f} s: {r['gave_up']}. The edit-to-shown "
            "time includes the sandbox's 50 ms webhook batching window, the receiver, the "
            "worker's refresh and (at the edge) the purge task and the refetch.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.edge", description=__doc__)
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--edits", type=int, default=20)
    p.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    args = p.parse_args(argv)
    missing = varnish_missing_reason()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    started = datetime.now(UTC).isoformat(timespec="minutes")
    load = os.getloadavg()
    with edge_stack("bench-edge", ("--products", str(max(60, args.edits * 2)))) as e:
        results = run(e, args.requests, args.edits)
    section = report(results, started, load)
    print(section)
    if not args.no_write:
        write_section(HEADING, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
