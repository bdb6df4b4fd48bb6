"""Webhooks the receiver could not queue (Redis down): kept on disk, queued when Redis answers.

Redis "down" here is a port nothing listens on (refused at once); the stalled server, with
the whole stack, is ``tests/reliability/test_redis_stall.py``. The queue is then read in a
Redis database of the test's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.test import Client

from catalog import invalidation, spool
from catalog.webhooks import expected_signature
from storefront import embedded
from tests.conftest import ARTIFACTS
from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]
SECRET = "spool-webhook-secret"


def signed_post(events: dict[str, list[str]]) -> Any:
    body = b"payload=" + quote(json.dumps(events), safe="").encode()
    t = int(time.time())
    return Client().post(
        "/webhooks/centra",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_CENTRA_SIGNATURE=f"t={t},v1={expected_signature(SECRET, t, body)}",
    )


def pending(r: redis.Redis) -> dict[str, set[str]]:
    return {
        key: {m.decode() for m in r.smembers(invalidation.PENDING + key)}  # type: ignore[union-attr]
        for key in invalidation.ACTIONABLE
        if r.scard(invalidation.PENDING + key)
    }


@pytest.fixture
def spool_here(tmp_path: Path, settings: Any, scratch_redis: redis.Redis) -> Path:
    settings.WEBHOOK_SPOOL_DIR = tmp_path / "spool"
    settings.CENTRA_WEBHOOK_SECRETS = [SECRET]
    return tmp_path / "spool"


def redis_down(settings: Any) -> str:
    """Point the BFF at a port nothing listens on; returns the working URL to restore."""
    working: str = settings.REDIS_URL
    settings.REDIS_URL = f"redis://127.0.0.1:{embedded.free_port()}/0"
    return working


def test_a_webhook_redis_cannot_queue_is_a_503_kept_and_queued_once_redis_answers(
    spool_here: Path,
    settings: Any,
    scratch_redis: redis.Redis,
) -> None:
    working = redis_down(settings)
    # When a webhook comes while Redis is down
    resp = signed_post({"products": ["1001", "1002"], "brands": ["3"]})
    # Then the answer is 503 with errors (Centra may retry), never a 500
    assert resp.status_code == 503
    assert resp.json() == {"errors": {"queue": "unavailable, retry later"}}
    assert resp["Retry-After"] == "5"
    # and what the refresh acts on is kept on disk
    kept = [json.loads(p.read_text()) for p in spool_here.glob("*.json")]
    assert [k["events"] for k in kept] == [{"products": ["1001", "1002"]}]
    assert pending(scratch_redis) == {}
    # When Redis answers again, the kept event is queued (by the process's own thread) as
    # if it had just been received, and the file is gone
    settings.REDIS_URL = working
    wait_for(lambda: pending(scratch_redis), timeout=10, what="the kept event queued")
    assert pending(scratch_redis) == {"products": {"1001", "1002"}}
    wait_for(lambda: not list(spool_here.glob("*.json")), timeout=15, what="the file gone")


def test_kept_events_survive_a_restart_of_the_process(
    spool_here: Path,
    settings: Any,
    scratch_redis: redis.Redis,
) -> None:
    working = redis_down(settings)
    assert signed_post({"products": ["7"], "categories": ["5"]}).status_code == 503
    assert signed_post({"pricelists": ["2"]}).status_code == 503
    assert len(list(spool_here.glob("*.json"))) == 2
    # When a new process starts (this one never queued them: its Redis is still down), it
    # queues what the previous one kept, oldest first, before anything else happens
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, time, pathlib, os; django.setup();"
            "spool = pathlib.Path(os.environ['WEBHOOK_SPOOL_DIR']);"
            "deadline = time.monotonic() + 30\n"
            "while list(spool.glob('*.json')) and time.monotonic() < deadline: time.sleep(0.05)",
        ],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "storefront.settings",
            "PYTHONPATH": str(ROOT),
            "REDIS_URL": working,
            "CELERY_BROKER_URL": working,
            "WEBHOOK_SPOOL_DIR": str(spool_here),
            "STOREFRONT_VAR_DIR": str(ARTIFACTS / "var"),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    assert not list(spool_here.glob("*.json"))
    assert pending(scratch_redis) == {
        "products": {"7"},
        "categories": {"5"},
        "pricelists": {"2"},
    }


def test_past_its_bound_the_spool_asks_for_every_market(
    spool_here: Path,
    settings: Any,
    scratch_redis: redis.Redis,
) -> None:
    settings.WEBHOOK_SPOOL_MAX_FILES = 2
    working = redis_down(settings)
    for i in range(4):
        assert signed_post({"products": [str(i)]}).status_code == 503
    names = sorted(p.name for p in spool_here.glob("*.json"))
    assert len(names) == 3  # two events, then "every market"
    assert spool.OVERFLOW in names
    settings.REDIS_URL = working
    wait_for(lambda: not list(spool_here.glob("*.json")), timeout=10, what="the spool queued")
    # the refresh rebuilds every market for a market id no market has
    assert pending(scratch_redis) == {"products": {"0", "1"}, "markets": {spool.EVERY_MARKET}}


def test_unactionable_events_need_no_keeping(spool_here: Path, settings: Any) -> None:
    redis_down(settings)
    resp = signed_post({"brands": ["1"], "warehouses": ["2"]})
    assert resp.status_code == 503
    assert not spool_here.exists() or not list(spool_here.glob("*.json"))
