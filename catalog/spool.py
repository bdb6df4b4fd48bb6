"""Webhook events the receiver could not queue in Redis, kept on disk until it can.

Centra's webhook plugin gives up after one try unless its retries are on, so an event the
receiver cannot queue (Redis stalled or down) would otherwise be lost until the nightly
rebuild, leaving e.g. an old price on show. The receiver writes such an event here first
(:func:`keep`), then answers 503 (a retry is welcome; the de-duplication handles a repeat).
A background thread of the process (:func:`resume`) queues every kept event as soon as Redis
answers again, exactly as if it had been queued on receipt, and deletes the file once it
is; the worker then refreshes what the events name.

- One file per event, written to a temporary name and renamed into place, so a crash never
  leaves half an event; files are taken oldest first; each one is locked while it is
  queued, so two processes sharing the directory do not both queue it (and if they ever
  did, a refresh is idempotent).
- At most ``WEBHOOK_SPOOL_MAX_FILES`` files. Past that, one more file says "every market":
  its replay rebuilds them all, so nothing is lost silently, only coarsened.
- What survives: the directory is on the web process's disk (``WEBHOOK_SPOOL_DIR``, under
  ``STOREFRONT_VAR_DIR`` by default), so kept events survive a restart or crash of the process
  (``CatalogConfig.ready`` resumes the replay). They do not survive the loss of that disk (a
  replaced container without a volume): then Centra's own retries, if turned on, and the
  nightly rebuild remain.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from kombu.exceptions import OperationalError
from prometheus_client import Counter, Gauge

from catalog import invalidation
from storefront.redis_client import get_redis

log = logging.getLogger(__name__)

SPOOLED = Counter(
    "storefront_webhook_spooled_total",
    "Webhook events kept on disk because Redis could not queue them, by outcome",
    ["outcome"],  # kept, overflow, replayed
)
SPOOL_FILES = Gauge(
    "storefront_webhook_spool_files",
    "Webhook events waiting on disk for Redis",
    multiprocess_mode="max",
)
# The replay of the overflow file: a market id no market has makes the refresh rebuild every
# market (catalog.refresh.apply_events).
EVERY_MARKET = "*"
OVERFLOW = "overflow.json"
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0)  # between attempts while Redis does not answer

_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def spool_dir() -> Path:
    path = Path(settings.WEBHOOK_SPOOL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _files(path: Path) -> list[Path]:
    """Kept events, oldest first (names start with the time they were kept)."""
    return sorted(p for p in path.iterdir() if p.suffix == ".json")


def _write(path: Path, name: str, data: dict[str, Any]) -> None:
    temporary = path / f".{name}.{uuid.uuid4().hex}.tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path / name)


def keep(events: dict[str, list[str]]) -> bool:
    """Keep ``events`` (their actionable keys) until Redis answers, and make sure they will be
    queued then. False when the disk refused too (the caller's 503 is then all there is)."""
    actionable = {k: v for k, v in events.items() if k in invalidation.ACTIONABLE and v}
    if not actionable:
        return True  # nothing the refresh would act on
    path = spool_dir()
    try:
        count = len(_files(path))
        if count >= int(settings.WEBHOOK_SPOOL_MAX_FILES):
            _write(path, OVERFLOW, {"events": {"markets": [EVERY_MARKET]}, "at": time.time()})
            SPOOLED.labels(outcome="overflow").inc()
            log.error("webhook spool full (%s files): every market will be rebuilt", count)
        else:
            name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
            _write(path, name, {"events": actionable, "at": time.time()})
            SPOOLED.labels(outcome="kept").inc()
            count += 1
        SPOOL_FILES.set(count)
    except OSError:
        log.exception("webhook spool: could not keep an event")
        return False
    resume()
    return True


def resume() -> None:
    """Start the replay thread of this process unless it runs or nothing is kept."""
    global _thread
    with _thread_lock:
        # A running thread checks for files under this lock before it ends: it sees ours.
        if _thread is not None or not _files(spool_dir()):
            return
        _thread = threading.Thread(target=_replay_loop, name="webhook-spool", daemon=True)
        _thread.start()


def replay_once(r: redis.Redis | None = None) -> int:
    """Queue every kept event; returns how many were queued. Raises ``redis.RedisError`` (or
    the broker's ``OperationalError``) when Redis does not answer: what is left stays kept."""
    r = r or get_redis()
    path = spool_dir()
    queued = 0
    for file in _files(path):
        try:
            handle = open(file, encoding="utf-8")  # noqa: SIM115 - held while queued
        except FileNotFoundError:
            continue  # another process queued it meanwhile
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # another process is queueing it right now
            if not os.path.exists(file):
                continue  # queued and deleted while we waited for the lock
            try:
                data = json.load(handle)
                events = {str(k): [str(i) for i in v] for k, v in data["events"].items()}
                kept_at = float(data["at"])
            except (ValueError, KeyError, TypeError, AttributeError):
                log.error("webhook spool: unreadable %s set aside", file.name)
                os.replace(file, file.with_suffix(".unreadable"))
                continue
            # Queued again even if a first attempt got through before Redis stalled: the
            # refresh is idempotent, a lost event is not.
            invalidation.queue_events(r, events)
            file.unlink()
            queued += 1
            SPOOLED.labels(outcome="replayed").inc()
            log.info("webhook spool: queued %s (kept %.1f s)", file.name, time.time() - kept_at)
    SPOOL_FILES.set(len(_files(path)))
    return queued


def _replay_loop() -> None:
    global _thread
    attempt = 0
    while True:
        try:
            replay_once()
        except (redis.RedisError, OperationalError) as exc:
            delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            attempt += 1
            log.debug("webhook spool: Redis not answering (%s), again in %s s", exc, delay)
            time.sleep(delay)
            continue
        except Exception:  # the replay thread must outlive any one bad file or bug: log, go on
            log.exception("webhook spool: replay failed; again in 5 s")
            time.sleep(5)
            continue
        attempt = 0
        with _thread_lock:
            try:
                left = _files(spool_dir())
            except OSError:
                left = []
            if not left:
                _thread = None
                return
