"""A stack of the webhook tests' own: Redis, a sandbox that sends webhooks, the BFF under
gunicorn and a real Celery worker, all wired to each other and to nothing else.

The sandbox edits its catalog (so it cannot be the session's), sends signed webhooks to the
BFF's port, the receiver queues them in its own Redis (which is also the worker's broker, so
the session's worker never takes these tasks), and the worker refreshes the cache from this
sandbox. Tests talk to every part over HTTP, as a shop would, and read Redis only to know
when the stack is quiet or what the cache holds.

Shared by ``test_webhook_e2e.py``, ``test_webhook_interleave.py``,
``test_webhook_recovery.py`` and ``bench/webhooks.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import redis
import requests
from celery import Celery

from storefront import embedded
from tests.conftest import start_worker
from tests.support import first_difference, wait_for, without_token

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_SECRET = "webhook-stack-shared-secret"
WEBHOOK_SECRET = "webhook-stack-webhook-secret"
API_KEY = "webhook-stack-api-key"
# as tests/conftest.py, one folder per pytest-xdist worker (not imported: the benchmark runs
# without pytest)
ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS", ROOT / "var" / "test-artifacts")
) / os.environ.get("PYTEST_XDIST_WORKER", "")
T = TypeVar("T")

# Keys that say work is still on its way (see catalog.invalidation and catalog.jobs).
_QUEUE_PATTERNS = ("{webhooks}:pending:*", "{webhooks}:processing:*", "{webhooks}:scheduled")


@dataclass
class Stack:
    redis_url: str
    sandbox_url: str
    bff_url: str
    env: dict[str, str]
    r: redis.Redis
    celery: Celery
    redis_pid: int = 0  # the stack's Redis server, for tests that pause it (SIGSTOP/SIGCONT)
    markets: list[str] = field(default_factory=list)
    _bff: requests.Session = field(default_factory=requests.Session)
    _sandbox: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self._bff.headers["Authorization"] = f"Bearer {API_KEY}"
        self._sandbox.headers["Authorization"] = f"Bearer {SANDBOX_SECRET}"

    def close(self) -> None:
        # Before gunicorn stops: it waits for open keep-alive connections to go idle.
        self._bff.close()
        self._sandbox.close()

    # -- the sandbox: what the merchant does, and what Centra answers ---------------------------

    def edit(self, method: str, path: str, body: Any = None, *, sync: bool = True) -> Any:
        """An edit in "Centra's admin". ``sync``: answer once its webhook was delivered."""
        resp = self._sandbox.request(
            method,
            f"{self.sandbox_url}/sandbox/{path.lstrip('/')}",
            json=body,
            params={"sync": "1"} if sync else None,
            timeout=60,
        )
        assert resp.status_code < 300, (method, path, body, resp.status_code, resp.text)
        return resp.json()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        resp = self._sandbox.request(
            method, f"{self.sandbox_url}/sandbox/{path.lstrip('/')}", json=body, timeout=620
        )
        assert resp.status_code < 300, (method, path, resp.status_code, resp.text)
        return resp.json()

    def centra(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """``(status, JSON)`` of the sandbox's Checkout API, server-side (shared secret)."""
        url = f"{self.sandbox_url}/api/checkout/{path}"
        if method == "GET":
            resp = self._sandbox.get(url, params=body, timeout=30)
        else:
            resp = self._sandbox.request(method, url, json=body or {}, timeout=30)
        return resp.status_code, resp.json()

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "webhooks")["deliveries"])

    # -- the BFF ---------------------------------------------------------------------------------

    def bff(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """``(status, JSON)`` of the BFF's Checkout API, as a trusted caller (API key)."""
        url = f"{self.bff_url}/api/checkout/{path}"
        if method == "GET":
            resp = self._bff.get(url, params=body, timeout=30)
        else:
            resp = self._bff.request(method, url, json=body or {}, timeout=30)
        return resp.status_code, resp.json()

    def product(self, product_id: str, **context: str) -> tuple[int, Any]:
        status, body = self.bff("GET", f"products/{product_id}", context or None)
        return status, body.get("product") if status == 200 else body

    def listing(self, **body: Any) -> dict[str, Any]:
        status, answer = self.bff("POST", "products", {"limit": 1000, **body})
        assert status == 200, answer
        return dict(answer)

    # -- the cache and the queue -----------------------------------------------------------------

    def live_generation(self, market: str) -> int | None:
        raw = self.r.get(f"cat:{{{market}}}:current")
        return int(raw) if raw is not None else None  # type: ignore[arg-type]

    def writes_of(self, market: str, product_id: str) -> int:
        """Single-product writes of a product into the market's live generation (each refresh
        that reached the cache appends its id once to the generation's change log)."""
        generation = self.live_generation(market)
        key = f"cat:{{{market}}}:g{generation}:changes"
        changes: list[bytes] = self.r.lrange(key, 0, -1)  # type: ignore[assignment]
        return sum(1 for raw in changes if raw.decode() == product_id)

    def busy(self) -> list[str]:
        """What is still on its way: Celery messages not yet acknowledged (waiting, running,
        or held for their countdown), webhook ids queued or being refreshed, a flush
        scheduled, rebuild jobs pending or generations being built. Empty when quiet."""
        found = []
        # kombu's Redis transport: the queue is a list named after it; a message a worker
        # has taken stays in "unacked" until it is acknowledged (acks_late: after the task).
        if self.r.llen("celery"):
            found.append("celery")
        if self.r.hlen("unacked"):
            found.append("unacked")
        found += [k.decode() for p in _QUEUE_PATTERNS for k in self.r.scan_iter(match=p)]
        for key in self.r.scan_iter(match="cat:{*}:rebuild:*"):
            name = key.decode()
            if not name.endswith((":lock", ":job")):  # the market's latest job stays recorded
                found.append(name)
        found += [k.decode() for k in self.r.scan_iter(match="cat:{*}:building")]
        return found

    def wait_quiet(self, timeout: float = 90.0) -> None:
        """Every webhook delivered, every refresh and rebuild it caused finished."""
        self.control("POST", "webhooks/flush", {"timeout": timeout})

        # Quiet twice in a row, a little apart: a flush task may sit between taking the
        # events and requesting the rebuild they cause (both leave keys, but not at once).
        def quiet() -> bool:
            if self.busy():
                return False
            time.sleep(0.1)
            return not self.busy()

        wait_for(quiet, timeout=timeout, what=lambda: f"quiet stack: {self.busy()}")  # type: ignore[arg-type]

    def rebuild_all_async(self, reason: str = "schedule") -> None:
        """What beat does: send ``catalog.rebuild_all`` to the stack's broker."""
        self.celery.send_task("catalog.rebuild_all", kwargs={"reason": reason})

    def rebuild_all_wait(self, timeout: float = 120.0) -> None:
        """``manage.py catalog_rebuild --wait`` on this stack (its own process)."""
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "catalog_rebuild", "--wait"],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    # -- the differential comparison ------------------------------------------------------------

    def differences(
        self,
        *,
        product_ids: Sequence[str] = (),
        pricelists: Sequence[str] | None = None,
        languages: Sequence[str] | None = None,
    ) -> list[str]:
        """The same requests to the BFF and to the sandbox; what differs (token apart).

        Every product of every market (listings with facets, in a few pricelists and
        languages), every category listing of the first market, and ``GET products/{id}``
        of ``product_ids`` in every market."""
        _, pl = self.centra("GET", "pricelists")
        _, lg = self.centra("GET", "languages")
        _, ct = self.centra("GET", "categories", {"language": "en"})
        pricelists = pricelists or ["all", *[p["pricelist"] for p in pl["pricelists"]][:2]]
        languages = languages or [lang["language"] for lang in lg["languages"]][:2]
        calls: list[tuple[str, str, dict[str, Any]]] = []
        for market in self.markets:
            for pricelist in pricelists:
                for language in languages:
                    context = {"market": market, "pricelist": pricelist, "language": language}
                    calls.append(("POST", "products", {**context, "limit": 1000}))
            context = {"market": market, "pricelist": pricelists[-1], "language": languages[0]}
            for pid in product_ids:
                calls.append(("GET", f"products/{pid}", context))
            calls.append(("POST", "products", {**context, "onlyAvailable": True, "limit": 1000}))
        first = {"market": self.markets[0], "pricelist": pricelists[-1], "language": languages[-1]}
        for category in ct["categories"]:
            body = {**first, "categories": [category["category"]], "limit": 1000}
            calls.append(("POST", "products", body))
        out = []
        for method, path, body in calls:
            ref_status, ref = self.centra(method, path, body)
            status, got = self.bff(method, path, body)
            if status != ref_status:
                out.append(f"{method} {path} {json.dumps(body)}: {status} != {ref_status}")
                continue
            diff = first_difference(without_token(got), without_token(ref))
            if diff:
                out.append(f"{method} {path} {json.dumps(body)}: {diff}")
        return out


def _celery_app(url: str) -> Celery:
    """A client of the stack's broker only (the process's own app talks to the session's).
    Not the current app: ``shared_task``s (tracking's, the catalog's) are sent through the
    current one, and a stack's app left current would send them to a Redis long stopped."""
    app = Celery("webhook-stack", broker=url, backend=url, set_as_current=False)
    app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"])
    return app


def _start_gunicorn(
    port: int, env: dict[str, str], *, workers: int, threads: int
) -> subprocess.Popen[bytes]:
    return embedded.start_gunicorn(
        port,
        env,
        log_path=ARTIFACTS / f"gunicorn-webhooks-{port}.log",
        workers=workers,
        threads=threads,
        # The bench's 200 concurrent posts queue in the listen backlog, not refused.
        extra_args=["--backlog", "2048"],
    )


@contextmanager
def webhook_stack(
    name: str,
    sandbox_args: Sequence[str] = (),
    *,
    build: bool = True,
    gunicorn_workers: int = 2,
    gunicorn_threads: int = 8,
    **env: str,
) -> Iterator[Stack]:
    """Start the whole stack; with ``build``, the cache of every market is built first."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        redis_port = embedded.free_port()
        redis_proc = embedded.start_redis(
            redis_port, tempfile.mkdtemp(prefix="storefront-webhooks-redis-")
        )
        cleanup.callback(embedded.stop, redis_proc)
        url = f"redis://127.0.0.1:{redis_port}/0"
        # The BFF's port first: the sandbox is started knowing where to send its webhooks.
        bff_port = embedded.free_port()
        sandbox_port = embedded.free_port()
        sandbox_proc = embedded.start_sandbox(
            sandbox_port,
            SANDBOX_SECRET,
            [
                "--webhook-url",
                f"http://127.0.0.1:{bff_port}/webhooks/centra",
                "--webhook-secret",
                WEBHOOK_SECRET,
                *sandbox_args,
            ],
            log_path=ARTIFACTS / f"sandbox-webhooks-{sandbox_port}.log",
        )
        cleanup.callback(embedded.stop, sandbox_proc)
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "storefront.settings",
            "PYTHONPATH": str(ROOT),
            "REDIS_URL": url,
            "CELERY_BROKER_URL": url,
            "CELERY_RESULT_BACKEND": url,
            "CENTRA_API_URL": f"{sandbox_url}/api/checkout/",
            "CENTRA_SHARED_SECRET": SANDBOX_SECRET,
            "CENTRA_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STOREFRONT_API_KEYS": API_KEY,
            "STOREFRONT_VAR_DIR": str(ARTIFACTS / "var"),
            "WEBHOOK_COALESCE_SECONDS": "0.2",
            "DJANGO_DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CATALOG_REBUILD_CRON": "off",
            # The stack's own: webhooks it could not queue are never replayed into another's
            "WEBHOOK_SPOOL_DIR": tempfile.mkdtemp(prefix="storefront-webhooks-spool-"),
            **env,
        }
        gunicorn = _start_gunicorn(
            bff_port, full_env, workers=gunicorn_workers, threads=gunicorn_threads
        )
        cleanup.callback(embedded.stop, gunicorn)
        app = _celery_app(url)
        cleanup.callback(app.close)
        worker = start_worker(full_env, f"worker-{name}", app)
        cleanup.callback(embedded.stop, worker, 20)
        r = redis.Redis.from_url(url)
        cleanup.callback(r.close)
        stack = Stack(
            redis_url=url,
            sandbox_url=sandbox_url,
            bff_url=f"http://127.0.0.1:{bff_port}",
            env=full_env,
            r=r,
            celery=app,
            redis_pid=redis_proc.pid,
        )
        cleanup.callback(stack.close)
        _, markets = stack.centra("GET", "markets")
        stack.markets = [m["market"] for m in markets["markets"]]
        if build:
            stack.rebuild_all_wait()
        yield stack
