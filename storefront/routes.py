"""The proxy's path rules: the route table's entries, their parameters, and matching a request
path against them (no I/O, no Django request needed).

Why the *raw* path: the server decodes ``%2F`` to ``/`` in ``PATH_INFO``, so a voucher
``SUMMER/10`` sent as ``vouchers/SUMMER%2F10`` would look like two segments there. gunicorn
passes the request target as received in ``RAW_URI`` (other servers: ``REQUEST_URI``); we split
that on ``/`` and decode each segment exactly once. Where neither is present (the Django test
client, some servers) we fall back to the decoded ``PATH_INFO``: then an encoded slash inside a
parameter splits it, such a request matches no route or a parameter rule refuses it, and it is
a 4xx; it can never reach another endpoint, but such a voucher cannot be used there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from storefront.api import ProxyError
from storefront.centra import build_path

PROXY_PREFIX = "/api/checkout/"
MAX_PARAMETER_LENGTH = 256


# -- parameters and routes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """The rule one path parameter must pass, checked on its decoded value."""

    pattern: re.Pattern[str]
    rule: str  # said back to the client when the value is refused
    max_length: int = MAX_PARAMETER_LENGTH
    # The rule as the OpenAPI schema states it (an ECMA-262 pattern of the whole value) where
    # the pattern above cannot be written as one; every value it admits must pass the rule
    # (storefront.schema). None: the pattern itself, anchored.
    schema_pattern: str | None = None

    @property
    def ecma_pattern(self) -> str:
        return self.schema_pattern or f"^(?:{self.pattern.pattern})$"

    def refuse(self, value: str) -> str | None:
        """Why ``value`` is refused, or None when it passes."""
        if len(value) > self.max_length:
            return f"too long (at most {self.max_length} characters)"
        # Control characters (CR, LF, NUL, ...) and odd spaces have no place in any Centra id.
        if not value.isprintable():
            return "must not contain control characters"
        if value in {".", ".."}:
            return "dot segments are not allowed"
        if not self.pattern.fullmatch(value):
            return self.rule
        return None


def param(
    regex: str, rule: str, max_length: int = MAX_PARAMETER_LENGTH, schema_pattern: str | None = None
) -> Param:
    # fullmatch, never "$": "$" also matches before a trailing newline.
    return Param(re.compile(regex), rule, max_length, schema_pattern)


@dataclass(frozen=True)
class Route:
    """One allowlisted call: ``Route("DELETE", "vouchers/{voucher}", {"voucher": VOUCHER})``.

    ``changes_selection``: refused while a payment result of the session is in flight.
    ``payment_result``: marks the session as having a payment result in flight.
    ``auth_email``: an authentication call, rate-limited per address and per email, the email
    taken from ``"param:<name>"`` or ``"body:<key>"``.
    ``body``: keys the JSON body must have, each a string passing its rule.
    ``trusted_only``: a call of Centra's server mode (shared secret): only for callers with one
    of our API keys; a browser gets a 403.
    ``trusted_keys``: body keys that only Centra's server mode honours (``market``,
    ``pricelist``): passed on for trusted callers, dropped from anyone else's body.
    ``centra_body``: what Centra itself requires of the body (a JSON Schema object), stated in
    the OpenAPI schema only: Centra judges it, and its 400 passes through.
    """

    method: str
    template: str
    params: Mapping[str, Param] = field(default_factory=dict)
    changes_selection: bool = False
    payment_result: bool = False
    auth_email: str | None = None
    body: Mapping[str, Param] = field(default_factory=dict)
    trusted_only: bool = False
    trusted_keys: frozenset[str] = frozenset()
    centra_body: Mapping[str, Any] = field(default_factory=dict)
    segments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        segments = tuple(self.template.split("/"))
        names = [s[1:-1] for s in segments if s.startswith("{")]
        if sorted(names) != sorted(self.params):
            raise ValueError(
                f"{self.template}: parameters {names} need rules {sorted(self.params)}"
            )
        object.__setattr__(self, "segments", segments)

    @property
    def mutates(self) -> bool:
        return self.method != "GET"


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    params: dict[str, str]  # decoded once
    path: str  # the upstream path, rebuilt from the template, each parameter one segment


@dataclass(frozen=True)
class Segment:
    raw: str
    value: str | None  # decoded once; None when the escapes are not UTF-8


def request_segments(meta: Mapping[str, Any], path_info: str) -> list[Segment]:
    """The path below ``/api/checkout/`` as segments, from the raw request target when the
    server gives it (see the module docstring)."""
    raw = meta.get("RAW_URI") or meta.get("REQUEST_URI")
    if raw:
        if "://" in raw.split("?", 1)[0]:  # absolute-form request target
            raw = urlsplit(raw).path
        raw_path = raw.split("?", 1)[0].split("#", 1)[0]
        # A well-formed request target is printable ASCII; anything else is refused whole.
        if not all("!" <= c <= "~" for c in raw_path):
            raise ProxyError(400, {"path": "must be printable ASCII, percent-encoded"})
        prefix = (meta.get("SCRIPT_NAME") or "") + PROXY_PREFIX
        if not raw_path.startswith(prefix):
            raise ProxyError(404, {"endpoint": "not found"})
        segments = []
        for part in raw_path[len(prefix) :].split("/"):
            try:
                value: str | None = unquote(part, errors="strict")
            except UnicodeDecodeError:
                value = None
            segments.append(Segment(part, value))
        return segments
    if not path_info.startswith(PROXY_PREFIX):
        raise ProxyError(404, {"endpoint": "not found"})
    return [Segment(p, p) for p in path_info[len(PROXY_PREFIX) :].split("/")]


def _shape_matches(route: Route, segments: Sequence[Segment]) -> bool:
    if len(route.segments) != len(segments):
        return False
    for want, got in zip(route.segments, segments, strict=True):
        # Literal segments compare raw: "%73election" is not "selection" to us.
        if not want.startswith("{") and want != got.raw:
            return False
    return True


def route_match(routes: Sequence[Route], method: str, segments: Sequence[Segment]) -> RouteMatch:
    """The route for this request, or a 404 (unknown path), 405 (known path, other method) or
    400 (a parameter refused). Raises :class:`ProxyError`."""
    shaped = [r for r in routes if _shape_matches(r, segments)]
    if not shaped:
        raise ProxyError(404, {"endpoint": "not found"})
    route = next((r for r in shaped if r.method == method), None)
    if route is None:
        allowed = ", ".join(sorted({r.method for r in shaped}))
        raise ProxyError(405, {"method": f"{method} not allowed"}, {"Allow": allowed})
    params: dict[str, str] = {}
    errors: dict[str, str] = {}
    for want, got in zip(route.segments, segments, strict=True):
        if not want.startswith("{"):
            continue
        name = want[1:-1]
        if got.value is None:
            errors[name] = "not valid UTF-8 after decoding"
            continue
        why = route.params[name].refuse(got.value) if got.value else "must not be empty"
        if why:
            errors[name] = why
        else:
            params[name] = got.value
    if errors:
        raise ProxyError(400, errors)
    return RouteMatch(route=route, params=params, path=build_path(route.template, **params))
