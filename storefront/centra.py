"""The one Centra Checkout API client. Every app talks to Centra through it.

- one ``requests.Session`` (connection pooling), ``(connect, read)`` timeouts from settings;
- two modes: server-side (``Authorization: Bearer <shared secret>``, and ``API-token: none``
  for catalog fetches so Centra creates no session) and session (the shopper's ``API-token``);
- ``X-Correlation-ID`` passed on (the current request's, or a new one);
- typed errors: :class:`CentraUnavailable` (network errors, timeouts, 5xx, anything that is
  not JSON) and :class:`CentraRejected` (4xx, carrying the status and Centra's body);
- redirects are never followed; the secret is in no log line and no exception message;
- no cookies: Centra's sessions are tokens, and one ``requests.Session`` serves every shopper,
  so a cookie Centra (or a load balancer in front of it) sets must not ride along on the next
  shopper's call. The jar refuses every cookie, and requests are sent prepared
  (``Session.send``), which also skips the session's per-call merging (the hot path of every
  proxied call: ~0.3 ms less per call, measured in ``bench/proxy.py``);
- every dynamic path parameter is percent-encoded as one segment, and ``.``/``..`` are refused
  before any request is made, because urllib3 silently removes dot segments;
- a circuit breaker per client (so per Centra URL in a process, shared by its threads): after
  ``CENTRA_BREAKER_FAILURES`` consecutive :class:`CentraUnavailable` failures calls fail at
  once with ``CentraUnavailable("circuit open")`` and make no request, until one probe after
  ``CENTRA_BREAKER_RESET_SECONDS`` succeeds (:mod:`storefront.circuit`). 4xx answers are
  Centra working: they count as successes.
"""

from __future__ import annotations

import http.cookiejar
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from storefront import metrics
from storefront.circuit import CircuitBreaker, CircuitOpen
from storefront.correlation import current_correlation_id, new_correlation_id
from storefront.jsonio import JsonDict, parse_json

log = logging.getLogger(__name__)

# Sent on every call: requests' defaults (which ``Session.send`` does not add on its own) with
# a JSON Accept. A shopper's User-Agent, where the proxy forwards it, replaces requests' own.
DEFAULT_HEADERS: dict[str, str] = {**requests.utils.default_headers(), "Accept": "application/json"}
# ``API-token: none``: Centra creates and stores no session for the call.
NO_SESSION = "none"


class CentraError(Exception):
    """Base of the client's errors."""


class CentraUnavailable(CentraError):
    """Centra could not give an answer: network error, timeout, 5xx, redirect, not JSON."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class CentraTimeout(CentraUnavailable):
    """The request was sent and no answer came in time: Centra may or may not have done it.
    A caller must not repeat a mutation on its own; it re-reads the state (``GET selection``)
    and lets the shopper decide. Answered as 504 ``{"errors": {"centra": "timeout"}}``."""


class CentraRejected(CentraError):
    """Centra answered 4xx. ``body`` is its JSON answer (with ``errors``), to pass through."""

    def __init__(self, status: int, body: JsonDict, token: str | None, *, content: bytes) -> None:
        errors = body.get("errors")
        self.errors: JsonDict = errors if isinstance(errors, dict) else {"centra": "rejected"}
        super().__init__(f"Centra answered {status}: {sorted(self.errors)}")
        self.status = status
        self.body = body
        self.token = token
        self.content = content  # Centra's answer as sent: UTF-8 JSON that parsed as ``body``


class UnsafePathParameter(ValueError):
    """A path parameter that could move the request to another endpoint."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"path parameter {name!r}: {reason}")
        self.name = name
        self.reason = reason


def path_segment(value: str, name: str = "parameter") -> str:
    """Percent-encode one path parameter as exactly one segment.

    ``quote(value, safe="")`` encodes ``/``, ``?``, ``#``, ``%`` and ``+``; what it cannot
    neutralise is a whole segment of ``.`` or ``..``, which URL normalisation would resolve.
    """
    if not isinstance(value, str) or value == "":
        raise UnsafePathParameter(name, "must be a non-empty string")
    if value in {".", ".."}:
        raise UnsafePathParameter(name, "dot segments are not allowed")
    return quote(value, safe="")


def build_path(template: str, **params: str) -> str:
    """``build_path("vouchers/{voucher}", voucher="TEST+CODE")`` -> ``vouchers/TEST%2BCODE``."""
    encoded = {k: path_segment(v, k) for k, v in params.items()}
    return template.format(**encoded)


@dataclass(frozen=True)
class CentraResponse:
    status: int
    data: JsonDict
    # The answer as Centra sent it: UTF-8 JSON that parsed as ``data``. A proxy passes these
    # bytes on instead of encoding ``data`` again.
    content: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str | None:
        token = self.data.get("token")
        return token if isinstance(token, str) else None


class CentraClient:
    def __init__(
        self,
        base_url: str,
        shared_secret: str,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        pool_size: int = 32,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.breaker = breaker or CircuitBreaker("centra")
        self._secret = shared_secret
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or netrc credentials picked up by accident
        # One jar for all shoppers: it must stay empty (see the module docstring).
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:  # never shows the secret
        return f"CentraClient({self.base_url!r})"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: JsonDict | None = None,
        params: Mapping[str, str] | None = None,
        token: str | None = None,
        server_side: bool = False,
        headers: Mapping[str, str] | None = None,
        correlation_id: str | None = None,
        read_timeout: float | None = None,
    ) -> CentraResponse:
        """Call Centra. ``path`` is relative to the API root and already encoded
        (use :func:`build_path`). ``token`` is the shopper's session token, or ``"none"``."""
        if path.startswith("/") or "://" in path:
            raise UnsafePathParameter("path", "must be relative to the API root")
        for segment in path.split("?")[0].split("/"):
            if segment in {".", ".."}:
                raise UnsafePathParameter("path", "dot segments are not allowed")
        out_headers: dict[str, str] = dict(DEFAULT_HEADERS)
        if headers:
            out_headers.update(headers)
        out_headers["X-Correlation-ID"] = (
            correlation_id or current_correlation_id() or new_correlation_id()
        )
        if token:
            out_headers["API-token"] = token
        if server_side:
            out_headers["Authorization"] = f"Bearer {self._secret}"
        url = self.base_url + path
        try:
            self.breaker.before_call()
        except CircuitOpen:
            raise CentraUnavailable("circuit open") from None
        try:
            result = self._send(method, path, url, json, params, out_headers, read_timeout)
        except CentraUnavailable:
            self.breaker.failure()
            raise
        except CentraRejected:
            self.breaker.success()  # a 4xx is Centra answering
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.success()
        return result

    def _send(
        self,
        method: str,
        path: str,
        url: str,
        json: JsonDict | None,
        params: Mapping[str, str] | None,
        out_headers: dict[str, str],
        read_timeout: float | None,
    ) -> CentraResponse:
        started = time.perf_counter()
        endpoint = path.split("/", 1)[0].split("?", 1)[0] or "root"
        try:
            prepared = requests.Request(
                method, url, headers=out_headers, json=json, params=params
            ).prepare()
            resp = self.session.send(
                prepared,
                timeout=self.timeout if read_timeout is None else (self.timeout[0], read_timeout),
                allow_redirects=False,
            )
        except requests.ConnectTimeout:  # nothing was sent: Centra did nothing
            metrics.UPSTREAM_ERRORS.labels(endpoint=endpoint, reason="connect-timeout").inc()
            raise CentraUnavailable(f"{method} {path}: could not connect in time") from None
        except requests.Timeout:  # sent, and no answer in time: the outcome is unknown
            metrics.UPSTREAM_ERRORS.labels(endpoint=endpoint, reason="timeout").inc()
            raise CentraTimeout(f"{method} {path}: timed out") from None
        except requests.RequestException as e:
            metrics.UPSTREAM_ERRORS.labels(endpoint=endpoint, reason="network").inc()
            raise CentraUnavailable(f"{method} {path}: {type(e).__name__}") from None
        finally:
            metrics.UPSTREAM_SECONDS.labels(endpoint=endpoint).observe(
                time.perf_counter() - started
            )
        return self._interpret(method, path, resp)

    def _interpret(self, method: str, path: str, resp: requests.Response) -> CentraResponse:
        endpoint = path.split("/", 1)[0].split("?", 1)[0] or "root"
        status = resp.status_code
        if status >= 500 or 300 <= status < 400:
            metrics.UPSTREAM_ERRORS.labels(endpoint=endpoint, reason=str(status)).inc()
            raise CentraUnavailable(f"{method} {path}: Centra answered {status}", status)
        content = resp.content
        try:
            data = parse_json(content)
        except ValueError:
            metrics.UPSTREAM_ERRORS.labels(endpoint=endpoint, reason="not-json").inc()
            raise CentraUnavailable(f"{method} {path}: answer is not JSON", status) from None
        if not isinstance(data, dict):
            raise CentraUnavailable(f"{method} {path}: answer is not a JSON object", status)
        if status >= 400:
            token = data.get("token")
            raise CentraRejected(
                status, data, token if isinstance(token, str) else None, content=content
            )
        return CentraResponse(status=status, data=data, headers=dict(resp.headers), content=content)

    def catalog(
        self,
        method: str,
        path: str,
        json: JsonDict | None = None,
        read_timeout: float | None = None,
    ) -> JsonDict:
        """A server-side catalog call: shared secret, no session (``API-token: none``).
        ``read_timeout`` overrides the default for big answers (a rebuild's pages)."""
        return self.request(
            method, path, json=json, token=NO_SESSION, server_side=True, read_timeout=read_timeout
        ).data


_clients: dict[tuple[str, str, float, float, int, float, float], CentraClient] = {}
_clients_lock = threading.Lock()


def get_client() -> CentraClient:
    """The process's client for the current settings (tests may change them)."""
    key = (
        settings.CENTRA_API_URL,
        settings.CENTRA_SHARED_SECRET,
        float(settings.CENTRA_CONNECT_TIMEOUT),
        float(settings.CENTRA_READ_TIMEOUT),
        int(settings.CENTRA_BREAKER_FAILURES),
        float(settings.CENTRA_BREAKER_RESET_SECONDS),
        float(settings.CENTRA_BREAKER_WINDOW_SECONDS),
    )
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                breaker = CircuitBreaker("centra", failures=key[4], reset=key[5], window=key[6])
                client = CentraClient(key[0], key[1], key[2], key[3], breaker=breaker)
                _clients[key] = client
    return client


def reset_breakers() -> None:
    """Close the breaker of every client of the process (tests between cases; a shell)."""
    with _clients_lock:
        clients = list(_clients.values())
    for client in clients:
        client.breaker.force_close()
