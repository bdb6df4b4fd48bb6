"""The webhook tests' stack (``tests.catalog.webhook_stack``: Redis, a sandbox that edits its
catalog and sends signed webhooks, the BFF under gunicorn, a real Celery worker) with a real
varnishd in front of the BFF, running ``edge/default.vcl``, and the worker purging it
(``EDGE_PURGE_URLS``). Shared by ``tests/edge`` and ``bench/edge.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from storefront import embedded
from storefront.edge import varnish
from tests.catalog.webhook_stack import ARTIFACTS, Stack, webhook_stack


@dataclass
class EdgeStack:
    stack: Stack
    edge_url: str  # varnishd, in front of stack.bff_url
    varnish_pid: int

    @property
    def origin_url(self) -> str:
        return self.stack.bff_url

    def page_path(self, bare: str) -> str:
        """The locale-prefixed path of a bare catalog path: where the origin redirects a
        visitor without choices (the default country's prefix)."""
        resp = requests.get(self.origin_url + bare, allow_redirects=False, timeout=30)
        if resp.status_code in (301, 302, 303, 307, 308):
            location = urlsplit(resp.headers["Location"])
            return location.path + (f"?{location.query}" if location.query else "")
        return bare


def prices_of(model: Any, pid: str) -> list[float]:
    """Every ``priceAsNumber`` of product ``pid`` in a page's JSON model."""
    found: list[float] = []
    if isinstance(model, dict):
        if str(model.get("product")) == pid and "priceAsNumber" in model:
            found.append(model["priceAsNumber"])
        for value in model.values():
            found += prices_of(value, pid)
    elif isinstance(model, list):
        for value in model:
            found += prices_of(value, pid)
    return found


def varnish_missing_reason() -> str | None:
    if varnish.varnishd_binary() is None:
        return (
            "varnishd is not installed and could not be (./dev test installs Debian's varnish "
            "and varnish-modules with apt when run as root)"
        )
    return None


@contextmanager
def edge_stack(
    name: str, sandbox_args: Sequence[str] = ("--products", "40"), **env: str
) -> Iterator[EdgeStack]:
    """The stack with varnishd in front; the worker purges it. Varnish starts after the BFF
    (it needs the BFF's port), so the first build's purges are retried until it listens."""
    edge_port = embedded.free_port()
    purge_env = {
        "EDGE_PURGE_URLS": f"http://127.0.0.1:{edge_port}/",
        "EDGE_PURGE_REPEAT_SECONDS": env.pop("EDGE_PURGE_REPEAT_SECONDS", "1"),
        **env,
    }
    with webhook_stack(name, sandbox_args, **purge_env) as stack:  # type: ignore[arg-type]
        backend_port = int(stack.bff_url.rsplit(":", 1)[1])
        log: Path = ARTIFACTS / f"varnish-{edge_port}.log"
        proc = varnish.start_varnish(edge_port, backend_port, log_path=log)
        try:
            yield EdgeStack(
                stack=stack, edge_url=f"http://127.0.0.1:{edge_port}", varnish_pid=proc.pid
            )
        finally:
            embedded.stop(proc)
