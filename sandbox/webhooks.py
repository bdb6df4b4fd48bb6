"""The sandbox's webhook sender: Centra's webhook plugin, as the Checkout API mode sends it.

An edit hands its events (``{"products": ["1001", "1002"], "markets": ["2"]}``) to
:meth:`WebhookSender.enqueue` and answers at once. A background thread collects events over a
short window (50 ms from the first event of a batch), merges them per key without duplicate
ids, splits the batch so no key holds more than 100 ids in one call, and POSTs each call to the
configured URL: ``Content-Type: application/x-www-form-urlencoded``, body
``payload=<urlencoded JSON>`` and ``X-Centra-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
of "<t>.<raw body>" with the secret>``. The raw body is built once and those exact bytes are
signed and sent.

The sender never takes the shop lock: it reads only its own state and the webhook fields of
the config, and those are changed through :meth:`WebhookSender.configure` under its own lock.
Every call is recorded (sent, failed, dropped, duplicated, or not sent for want of a URL) for
``GET /sandbox/webhooks``.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from sandbox.config import SandboxConfig

if TYPE_CHECKING:
    from sandbox.state import Shop

TIMEOUT_SECONDS = 5.0  # Centra gives up on a webhook call after 5 s
DEFAULT_WINDOW_MS = 50.0
DEFAULT_MAX_IDS = 100  # Centra's default: up to 100 ids per key in one call
MAX_RECORDS = 10_000
RETRY_BACKOFF_SECONDS = 0.1  # doubled for each further retry, at most MAX_BACKOFF_SECONDS
MAX_BACKOFF_SECONDS = 2.0
SIGNATURE_HEADER = "X-Centra-Signature"

Events = dict[str, list[str]]


# -- the wire format ---------------------------------------------------------------------------


def encode_body(payload: Mapping[str, Any]) -> bytes:
    """The raw form body ``payload=<urlencoded JSON>``; compact JSON, as in Centra's example
    (``{"x":"test"}`` -> ``payload=%7B%22x%22%3A%22test%22%7D``)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return urlencode({"payload": text}).encode("ascii")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 with the secret over ``"<t>.<raw body>"``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def split_events(events: Mapping[str, Iterable[str]], max_ids: int) -> list[Events]:
    """The calls for one batch: call ``n`` holds ids ``n*max_ids .. (n+1)*max_ids - 1`` of
    every key, so each key has at most ``max_ids`` ids per call and keys share calls."""
    lists = {key: list(ids) for key, ids in events.items() if ids}
    calls = max((-(-len(ids) // max_ids) for ids in lists.values()), default=0)
    out: list[Events] = []
    for n in range(calls):
        call = {
            key: ids[n * max_ids : (n + 1) * max_ids]
            for key, ids in lists.items()
            if ids[n * max_ids : (n + 1) * max_ids]
        }
        out.append(call)
    return out


# -- the sender --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What one batch is delivered with (read once per batch, so a batch is consistent)."""

    url: str | None
    secret: str
    retries: int
    drop_rate: float
    duplicate_rate: float
    max_ids: int


class WebhookSender:
    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._cond = threading.Condition()
        # Pending events: key -> ids as dict keys (an ordered set: first-seen order, no dups).
        self._pending: dict[str, dict[str, None]] = {}
        self._batch_started: float | None = None  # monotonic time of the batch's first event
        self._busy = False  # the thread is delivering a batch it took out of _pending
        self._flushers = 0  # flush() calls waiting: the window is skipped while > 0
        self._thread: threading.Thread | None = None
        self._records: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)
        self._next_call = 1
        self.window_ms = DEFAULT_WINDOW_MS
        self.max_ids = DEFAULT_MAX_IDS
        # Drop and duplicate decisions come from a generator seeded by --seed, so a run with
        # the same edits in the same batches drops and duplicates the same calls.
        self._rng = random.Random(f"sandbox-webhooks-{config.seed}")

    # -- configuration -------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        c = self._config
        with self._cond:
            return {
                "url": c.webhook_url,
                "secret": c.webhook_secret,
                "retries": c.webhook_retries,
                "dropRate": c.webhook_drop_rate,
                "duplicateRate": c.webhook_duplicate_rate,
                "windowMs": self.window_ms,
                "maxIds": self.max_ids,
                "timeoutSeconds": TIMEOUT_SECONDS,
            }

    def configure(self, changes: Mapping[str, Any]) -> None:
        """Apply validated changes, keyed as in :meth:`settings` (``url`` may be None: no URL).
        A batch already being delivered keeps the settings it started with."""
        c = self._config
        with self._cond:
            for key, value in changes.items():
                if key == "url":
                    c.webhook_url = value
                elif key == "secret":
                    c.webhook_secret = value
                elif key == "retries":
                    c.webhook_retries = value
                elif key == "dropRate":
                    c.webhook_drop_rate = value
                elif key == "duplicateRate":
                    c.webhook_duplicate_rate = value
                elif key == "windowMs":
                    self.window_ms = value
                elif key == "maxIds":
                    self.max_ids = value
                elif key == "seed":
                    self._rng = random.Random(f"sandbox-webhooks-{value}")
                else:
                    raise KeyError(key)
            self._cond.notify_all()  # a shorter window takes effect for the waiting batch

    # -- queueing ------------------------------------------------------------------------------

    def enqueue(self, events: Mapping[str, Iterable[str]]) -> None:
        """Queue events for the next batch; returns at once (no network I/O here)."""
        with self._cond:
            for key, ids in events.items():
                for i in ids:
                    self._pending.setdefault(key, {})[str(i)] = None
            if self._pending and self._batch_started is None:
                self._batch_started = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sandbox-webhooks", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def pending(self) -> Events:
        with self._cond:
            return {key: list(ids) for key, ids in self._pending.items()}

    def flush(self, timeout: float) -> bool:
        """Deliver everything queued now (skipping the window) and wait until it is done,
        retries and duplicates included. False when ``timeout`` seconds were not enough."""
        with self._cond:
            self._flushers += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(
                    lambda: not self._pending and not self._busy, timeout=timeout
                )
            finally:
                self._flushers -= 1

    # -- records -------------------------------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(r) for r in self._records]

    def clear_records(self) -> None:
        with self._cond:
            self._records.clear()

    def _record(
        self,
        base: dict[str, Any],
        *,
        outcome: str,
        attempt: int = 1,
        status: int | None = None,
        error: str | None = None,
        signature: str | None = None,
        timestamp: int | None = None,
        dropped: bool = False,
        duplicate: bool = False,
    ) -> None:
        record = {
            **base,
            "attempt": attempt,
            "outcome": outcome,
            "status": status,
            "error": error,
            "signature": signature,
            "timestamp": timestamp,
            "dropped": dropped,
            "duplicate": duplicate,
            "at": time.time(),
        }
        with self._cond:
            self._records.append(record)

    # -- the thread ----------------------------------------------------------------------------

    def _take_batch(self) -> tuple[Settings, list[tuple[int, Events]]]:
        """Wait for events and for the batch window to pass (or a flush); take the batch as
        numbered calls, with the settings it is delivered with."""
        with self._cond:
            while True:
                if self._pending and self._batch_started is not None:
                    if self._flushers:
                        break
                    left = self._batch_started + self.window_ms / 1000.0 - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                else:
                    self._cond.wait()
            batch = {key: list(ids) for key, ids in self._pending.items()}
            self._pending = {}
            self._batch_started = None
            self._busy = True
            c = self._config
            settings = Settings(
                url=c.webhook_url or None,
                secret=c.webhook_secret,
                retries=max(0, c.webhook_retries),
                drop_rate=c.webhook_drop_rate,
                duplicate_rate=c.webhook_duplicate_rate,
                max_ids=max(1, self.max_ids),
            )
            calls: list[tuple[int, Events]] = []
            for payload in split_events(batch, settings.max_ids):
                calls.append((self._next_call, payload))
                self._next_call += 1
            return settings, calls

    def _run(self) -> None:
        while True:
            settings, calls = self._take_batch()
            try:
                for number, payload in calls:
                    try:
                        self._deliver(number, payload, settings)
                    except Exception as e:  # a bug here must not stop every later webhook
                        error = f"{type(e).__name__}: {e}"
                        self._record(
                            {"call": number, "payload": payload}, outcome="error", error=error
                        )
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _deliver(self, number: int, payload: Events, s: Settings) -> None:
        body = encode_body(payload)
        base = {"call": number, "payload": payload, "body": body.decode("ascii"), "url": s.url}
        if s.url is None:
            self._record(base, attempt=0, outcome="no-url")
            return
        # Both draws are made for every call, whatever the outcome, so the sequence of
        # decisions depends only on the number of calls.
        with self._cond:
            drop = self._rng.random() < s.drop_rate
            duplicate = self._rng.random() < s.duplicate_rate
        timestamp = int(time.time())
        header = signature_header(s.secret, timestamp, body)
        if drop:
            self._record(
                base, outcome="dropped", signature=header, timestamp=timestamp, dropped=True
            )
            return
        for attempt in range(1, s.retries + 2):
            if attempt > 1:
                # A retry is a new request: signed again with the current time, so a
                # receiver's timestamp tolerance sees a fresh call. The body is unchanged.
                time.sleep(min(MAX_BACKOFF_SECONDS, RETRY_BACKOFF_SECONDS * 2 ** (attempt - 2)))
                timestamp = int(time.time())
                header = signature_header(s.secret, timestamp, body)
            status, error = post(s.url, body, header)
            ok = status is not None and 200 <= status < 300
            self._record(
                base,
                attempt=attempt,
                outcome="delivered" if ok else "failed",
                status=status,
                error=error,
                signature=header,
                timestamp=timestamp,
            )
            if ok:
                break
        if duplicate:
            # A replay: the very same bytes and signature as the last request, sent once
            # more (and not retried itself).
            status, error = post(s.url, body, header)
            ok = status is not None and 200 <= status < 300
            self._record(
                base,
                outcome="delivered" if ok else "failed",
                status=status,
                error=error,
                signature=header,
                timestamp=timestamp,
                duplicate=True,
            )


def post(url: str, body: bytes, header: str) -> tuple[int | None, str | None]:
    """One POST with a 5 s socket timeout; (status, None) or (None, network error).
    ``http.client`` rather than urllib: a redirect must not be followed as a GET."""
    parts = urlsplit(url)
    conn_cls = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn = conn_cls(parts.hostname or "", parts.port, timeout=TIMEOUT_SECONDS)
        try:
            conn.request(
                "POST",
                path,
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    SIGNATURE_HEADER: header,
                    "User-Agent": "CentraSandbox-Webhook/1.0",
                },
            )
            response = conn.getresponse()
            response.read()
            return response.status, None
        finally:
            conn.close()
    except (OSError, http.client.HTTPException, ValueError) as e:
        return None, f"{type(e).__name__}: {e}"


# -- one sender per shop -----------------------------------------------------------------------

_senders: weakref.WeakKeyDictionary[Shop, WebhookSender] = weakref.WeakKeyDictionary()
_senders_lock = threading.Lock()


def sender_for(shop: Shop) -> WebhookSender:
    """The shop's sender (created on first use; the thread starts with the first event)."""
    with _senders_lock:
        sender = _senders.get(shop)
        if sender is None:
            sender = _senders[shop] = WebhookSender(shop.config)
        return sender
