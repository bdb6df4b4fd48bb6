"""A real client of the sandbox whose catalog answers a test alters: Centra answering in ways
the sandbox does not on its own (a product moved between pages, a count that changed, a shape
nobody documented)."""

from __future__ import annotations

from typing import Any

from storefront.centra import CentraClient


class AlteredCentra(CentraClient):
    def catalog(
        self,
        method: str,
        path: str,
        json: dict[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> dict[str, Any]:
        data = super().catalog(method, path, json, read_timeout)
        self.alter(path, json or {}, data)
        return data

    def alter(self, path: str, body: dict[str, Any], data: dict[str, Any]) -> None:
        """Change ``data``, the answer to ``path`` with ``body``, in place."""
