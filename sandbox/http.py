"""HTTP plumbing of the sandbox: routing, server-side auth, session tokens, faults, request log.

Handlers are plain functions registered with :func:`route`. API routes (under
``/api/checkout/``) get Centra's session behaviour: every JSON answer carries the
session ``token`` unless the caller sent ``API-token: none``. Path parameters are
matched on the raw (still percent-encoded) path split on ``/`` and decoded once
per segment, so ``vouchers/TEST%2BCODE`` gives ``TEST+CODE`` and an encoded
``%2F`` can never move a request to another endpoint.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from sandbox.state import Session, Shop

API_PREFIX = "/api/checkout/"
MAX_BODY = 2 * 1024 * 1024


class HttpError(Exception):
    """An answer with status >= 400 and Centra's ``errors`` object (plus optional extra keys)."""

    def __init__(
        self, status: int, errors: dict[str, Any], extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {errors}")
        self.status = status
        self.errors = errors
        self.extra = extra or {}


@dataclass
class Reply:
    """A JSON answer with a status other than 200, or extra headers."""

    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RawReply:
    """A non-JSON answer (images, HTML pages, redirects)."""

    body: bytes
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str  # the raw path as received, without the query string
    route: str  # the pattern that matched, e.g. "/api/checkout/vouchers/{voucher}"
    params: dict[str, str]  # path parameters, percent-decoded once
    query: dict[str, list[str]]
    headers: Message
    raw_body: bytes
    body: Any
    server_side: bool
    session: Session
    correlation_id: str | None


HandlerResult = dict[str, Any] | Reply | RawReply
Handler = Callable[[Request, "Shop"], HandlerResult]


@dataclass
class Route:
    method: str
    pattern: str
    segments: list[str]
    handler: Handler
    control: bool  # /sandbox/... control endpoints: need the shared secret, no faults


ROUTES: list[Route] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register a handler. ``{name}`` in the pattern matches exactly one non-empty segment."""

    def register(fn: Handler) -> Handler:
        ROUTES.append(
            Route(
                method=method.upper(),
                pattern=pattern,
                segments=pattern.strip("/").split("/"),
                handler=fn,
                control=pattern.startswith("/sandbox/"),
            )
        )
        return fn

    return register


def match_route(method: str, raw_path: str) -> tuple[Route | None, dict[str, str], bool]:
    """Find the route for a raw path. Returns (route, params, path_known_for_other_method)."""
    parts = raw_path.strip("/").split("/")
    path_known = False
    for r in ROUTES:
        if len(r.segments) != len(parts):
            continue
        params: dict[str, str] = {}
        for want, got in zip(r.segments, parts, strict=True):
            if want.startswith("{") and want.endswith("}"):
                value = unquote(got, errors="strict") if got else ""
                if not value:
                    break
                params[want[1:-1]] = value
            elif want != got:
                break
        else:
            if r.method == method:
                return r, params, True
            path_known = True
    return None, {}, path_known


# -- small strict validators for JSON bodies: bad input is a 400 with an errors object --------


def _bad(key: str, why: str) -> HttpError:
    return HttpError(400, {key: why})


_INT_TEXT = re.compile(r"-?[0-9]{1,18}")


def field_int(body: dict[str, Any], key: str, default: int | None = None, minimum: int = 0) -> int:
    value = body.get(key, default)
    if value is None:
        raise _bad(key, "required")
    if isinstance(value, bool):
        raise _bad(key, "must be an integer")
    # Numbers as strings are accepted ("5"), but only plain ASCII ones: "--5" and "²" pass
    # str.isdigit() and then break int().
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        value = int(value)
    if not isinstance(value, int):
        raise _bad(key, "must be an integer")
    if value < minimum:
        raise _bad(key, f"must be at least {minimum}")
    return value


def field_str(body: dict[str, Any], key: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if value is None:
        raise _bad(key, "required")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _bad(key, "must be a string")
    return value


def field_bool(body: dict[str, Any], key: str, default: bool = False) -> bool:
    value = body.get(key, default)
    if value in (0, 1, "true", "false", "0", "1") and not isinstance(value, bool):
        return value in (1, "true", "1")
    if not isinstance(value, bool):
        raise _bad(key, "must be a boolean")
    return value


def field_str_list(body: dict[str, Any], key: str) -> list[str] | None:
    """A list of ids or names; numbers are accepted as Centra's examples send them (``[1,2,3]``)."""
    if key not in body or body[key] is None:
        return None
    value = body[key]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise _bad(key, "must be a list")
    out: list[str] = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise _bad(key, "must be a list of strings or integers")
        out.append(str(v))
    return out


def field_dict(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    if key not in body or body[key] is None:
        return None
    value = body[key]
    if not isinstance(value, dict):
        raise _bad(key, "must be an object")
    return value


# -- the server --------------------------------------------------------------------------------


@dataclass
class LoggedRequest:
    method: str
    path: str
    route: str | None
    params: dict[str, str]
    status: int
    headers: dict[str, str]
    at: float


class RequestLog:
    """What reached the sandbox, for tests that must show where a request landed."""

    def __init__(self, size: int = 50_000) -> None:
        self._items: deque[LoggedRequest] = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, item: LoggedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def as_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [vars(i) for i in self._items]


def _token_from_headers(headers: Message) -> str | None:
    token = headers.get("API-token")
    if token:
        return token.strip()
    # Centra also takes the token inside Accept to spare browsers a pre-flight request.
    for part in (headers.get("Accept") or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "api-token" and value.strip():
            return value.strip()
    return None


def dumps(body: Any, pretty: bool = False) -> bytes:
    return json.dumps(body, ensure_ascii=False, indent=2 if pretty else None).encode()


class Handler_(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a keep-alive client waits
    # ~40 ms for the delayed ACK on every answer.
    disable_nagle_algorithm = True
    server: SandboxServer
    server_version = "CentraSandbox/1.0"
    # The request being answered, for its log entry (see _record); set per request.
    _recorded = True
    _logging: tuple[str, Route | None, dict[str, str]] | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces the access log

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def do_OPTIONS(self) -> None:
        self._dispatch()

    # ---------------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        shop = self.server.shop
        split = urlsplit(self.path)
        raw_path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        pretty = "pretty" in query
        correlation_id = self.headers.get("X-Correlation-ID")
        extra_headers: dict[str, str] = {}
        if correlation_id:
            extra_headers["X-Correlation-ID"] = correlation_id[:200]
        status = 500
        matched: Route | None = None
        params: dict[str, str] = {}
        self._recorded = False
        self._logging = (raw_path, None, {})
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0 or length > MAX_BODY:
                raise HttpError(413, {"body": "too large"})
            raw_body = self.rfile.read(length) if length else b""
            try:
                matched, params, known = match_route(self.command, raw_path)
            except UnicodeDecodeError:
                raise HttpError(400, {"path": "not valid UTF-8 after decoding"}) from None
            self._logging = (raw_path, matched, params)
            if matched is None:
                if known:
                    raise HttpError(405, {"method": "not allowed"})
                raise HttpError(404, {"endpoint": "not found"})
            server_side = self._check_secret(matched)
            is_api = matched.pattern.startswith(API_PREFIX)
            if is_api:
                self._inject_faults(shop)
            body = self._parse_body(raw_body)
            session = shop.session_for(_token_from_headers(self.headers) if is_api else "none")
            req = Request(
                method=self.command,
                path=raw_path,
                route=matched.pattern,
                params=params,
                query=query,
                headers=self.headers,
                raw_body=raw_body,
                body=body,
                server_side=server_side,
                session=session,
                correlation_id=correlation_id,
            )
            try:
                with shop.lock:
                    result = matched.handler(req, shop)
            except HttpError as e:
                result = Reply(
                    {"errors": e.errors, **e.extra}, status=e.status, headers=extra_headers
                )
            if isinstance(result, RawReply):
                status = result.status
                self._send(
                    status, result.body, result.content_type, {**extra_headers, **result.headers}
                )
                return
            reply = result if isinstance(result, Reply) else Reply(result)
            body_out = reply.body
            if is_api:
                body_out = shop.catalog.shapes.with_token(session.token, body_out)
            status = reply.status
            self._send(
                status,
                dumps(body_out, pretty),
                "application/json; charset=utf-8",
                {**extra_headers, **reply.headers},
            )
        except HttpError as e:
            status = e.status
            self._send(
                status,
                dumps({"errors": e.errors, **e.extra}, pretty),
                "application/json; charset=utf-8",
                extra_headers,
            )
        except (ConnectionError, TimeoutError):
            status = 499
        except Exception as e:  # a bug in the sandbox: say so as JSON, keep serving
            status = 500
            self._send(
                500,
                dumps({"errors": {"sandbox": f"internal error: {type(e).__name__}"}}),
                "application/json; charset=utf-8",
                extra_headers,
            )
            raise
        finally:
            self._record(status)  # a client gone before its answer (499) is logged here

    def _record(self, status: int) -> None:
        """This request in the shop's log, once, before its answer leaves: a client holding
        the answer finds the request logged, and a log cleared after that answer never gets
        the entry late (it was written after the answer before, so it could)."""
        if self._recorded or self._logging is None:
            return
        self._recorded = True
        raw_path, matched, params = self._logging
        logged = {k: v for k, v in self.headers.items()}
        if "Authorization" in logged:
            logged["Authorization"] = "Bearer ***"
        self.server.shop.request_log.add(
            LoggedRequest(
                method=self.command,
                path=raw_path,
                route=matched.pattern if matched else None,
                params=params,
                status=status,
                headers=logged,
                at=time.time(),
            )
        )

    def _check_secret(self, matched: Route) -> bool:
        """True for a valid server-side call; a wrong secret is a 401, a missing one client-side."""
        auth = self.headers.get("Authorization") or self.headers.get("API-Authorization")
        if not auth:
            if matched.control:
                raise HttpError(401, {"authorization": "shared secret required"})
            return False
        scheme, _, value = auth.strip().partition(" ")
        if not value:
            scheme, value = "Bearer", scheme
        ok = scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), self.server.shop.config.secret.encode()
        )
        if not ok:
            raise HttpError(401, {"authorization": "invalid shared secret"})
        return True

    def _inject_faults(self, shop: Shop) -> None:
        faults = shop.config.faults
        deadline = time.monotonic() + 600
        while faults.stall and time.monotonic() < deadline:
            time.sleep(0.05)
        delay = faults.delay_seconds()
        if delay > 0:
            time.sleep(delay)
        if faults.should_fail():
            raise HttpError(503, {"server": "temporarily unavailable (injected)"})

    def _parse_body(self, raw: bytes) -> Any:
        if not raw.strip():
            return {}
        ctype = (self.headers.get("Content-Type") or "").lower()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, {"body": "not valid UTF-8"}) from None
        # curl's default type is the form one; a body that is plainly JSON is read as JSON.
        if "application/x-www-form-urlencoded" in ctype and not text.lstrip().startswith("{"):
            return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
        try:
            body = json.loads(text)
        except ValueError:
            raise HttpError(400, {"body": "malformed JSON"}) from None
        if not isinstance(body, dict):
            raise HttpError(400, {"body": "must be a JSON object"})
        return body

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
        self._record(status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        super().__init__((shop.config.host, shop.config.port), Handler_)


def new_token() -> str:
    return secrets.token_hex(16)
