"""Assembles the sandbox: imports every route module (they register on import) and serves."""

from __future__ import annotations

# Route modules register their handlers on import; the order does not matter.
import sandbox.accounts_api
import sandbox.catalog_api
import sandbox.checkout_api
import sandbox.control_api
import sandbox.edit_api  # noqa: F401
from sandbox.config import SandboxConfig
from sandbox.http import SandboxServer
from sandbox.state import Shop


def create_server(config: SandboxConfig) -> SandboxServer:
    return SandboxServer(Shop(config))
