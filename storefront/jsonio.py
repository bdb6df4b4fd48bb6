"""The one strict JSON reader for everything the BFF parses from outside: request bodies (the
catalog API, the proxy, webhooks) and Centra's answers.

Strict: UTF-8 only (no BOM, no other encoding), no ``NaN``/``Infinity`` (what parses here can be
passed on byte for byte as ``application/json``), and nesting at most :data:`MAX_DEPTH` deep,
so a 2 KB body of 1,000 nested arrays is a clear ``ValueError`` (a 400 for a client) instead
of a ``RecursionError`` deep in a parser or in the code that walks the result. Size limits are
the callers' (each knows its own), applied before the bytes get here.
"""

from __future__ import annotations

import json
from typing import Any

# A JSON object as parsed: the one alias the whole BFF uses (the sandbox has its own).
JsonDict = dict[str, Any]

MAX_DEPTH = 32  # Centra's deepest answers nest about 8 levels; requests fewer


class JsonTooDeep(ValueError):
    pass


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(content: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strict JSON; ValueError (``UnicodeDecodeError`` and :class:`JsonTooDeep` are ones)
    for anything else."""
    try:
        data = json.loads(content.decode("utf-8"), parse_constant=_no_constants)
    except RecursionError:
        raise JsonTooDeep(f"nested deeper than {max_depth} levels") from None
    if isinstance(data, dict | list):
        _check_depth(data, max_depth)
    return data


def _check_depth(data: dict[str, Any] | list[Any], max_depth: int) -> None:
    """Iterative, so checking cannot itself run out of stack."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            raise JsonTooDeep(f"nested deeper than {max_depth} levels")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
