"""Assembles the sandbox: imports every route module (they register on import) and serves."""

from __future__ import annotations

# Route modules register their handlers on import; the order does not matter.
import sandbox.accounts_api
import sandbox.catalog_api
import sandbox.control_api
import sandbox.edit_api
import sandbox.location_api
import sandbox.payment_api
import sandbox.product_edit_api
import sandbox.selection_api
import sandbox.webhook_api  # noqa: F401
from sandbox.config import SandboxConfig
from sandbox.generator import generate
from sandbox.http import SandboxServer
from sandbox.state import Shop


def create_server(config: SandboxConfig) -> SandboxServer:
    return SandboxServer(Shop(config, generate(config)))
