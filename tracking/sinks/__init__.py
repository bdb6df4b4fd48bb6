"""The sinks a purchase is sent to, each off until configured (settings ``TRACKING_*``).

A sink is a module with ``NAME``, ``configured()`` and ``request(event)``: a pure function from
the event to the HTTP request to make (:class:`SinkRequest`). Sending, retrying and
de-duplicating are the same for all of them (:mod:`tracking.delivery`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType


@dataclass(frozen=True)
class SinkRequest:
    url: str  # may hold a secret in its query (GA4's api_secret, Meta's token): never logged
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def all_sinks() -> dict[str, ModuleType]:
    from tracking.sinks import ga4, meta, webhook

    return {m.NAME: m for m in (ga4, meta, webhook)}


def configured_sinks() -> list[str]:
    return [name for name, sink in all_sinks().items() if sink.configured()]
