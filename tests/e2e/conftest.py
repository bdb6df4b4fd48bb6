"""Browser tests: the BFF under gunicorn on a real port, its cache built from the session's
sandbox, and Debian's Chromium driven by Playwright.

The cache lives in a Redis database of its own (from ``redis_dbs``), built once per session with
the real rebuild service, so gunicorn's workers read exactly what a deployed BFF would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from storefront import embedded, localcache
from tests.conftest import ARTIFACTS, RedisDatabases, SandboxProcess, worker_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Shop:
    url: str  # http://127.0.0.1:<port>
    redis_url: str


@pytest.fixture(scope="session")
def e2e_cache(redis_dbs: RedisDatabases, sandbox: SandboxProcess) -> Iterator[str]:
    """Every market of the sandbox, built into a Redis database of its own (through this
    process's BFF: whoever requests it requests ``services`` first, as ``shop`` does)."""
    from django.conf import settings

    from catalog.rebuild import market_ids, rebuild_market
    from storefront.centra import get_client

    url = redis_dbs.allocate()
    r = redis.Redis.from_url(url)
    previous = settings.REDIS_URL
    settings.REDIS_URL = url
    try:
        client = get_client()
        for market in market_ids(client=client, r=r):
            rebuild_market(market=market, client=client, r=r)
    finally:
        settings.REDIS_URL = previous
        localcache.clear_all()
    yield url
    r.flushdb()


@pytest.fixture(scope="session")
def shop(services: None, redis_url: str, sandbox: SandboxProcess, e2e_cache: str) -> Iterator[Shop]:
    """gunicorn serving the BFF (DEBUG off, as in production) over the built cache."""
    port = embedded.free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = worker_env(
        redis_url,
        sandbox,
        REDIS_URL=e2e_cache,
        DJANGO_DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CATALOG_REBUILD_CRON="off",
    )
    proc = embedded.start_gunicorn(
        port, env, log_path=ARTIFACTS / f"gunicorn-e2e-{port}.log", workers=1, threads=4
    )
    try:
        yield Shop(url=f"http://127.0.0.1:{port}", redis_url=e2e_cache)
    finally:
        embedded.stop(proc)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright; the test is skipped only when it is absent."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def wait_for_language(page: Any, language: str) -> None:
    """Until the page shown is in ``language``. While a navigation replaces the document there
    may be no root element for a moment: that is "not yet", not an error."""
    page.wait_for_function(
        "lang => document.documentElement !== null && document.documentElement.lang === lang",
        arg=language,
    )
