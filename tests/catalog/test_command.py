"""``manage.py catalog_rebuild``: queue, and with ``--wait`` a progress bar to the end."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from io import StringIO
from typing import Any

import pytest
import redis
from django.core.management import CommandError, call_command

from catalog import job_records, job_runner
from storefront import embedded
from tests.catalog.own_stack import ROOT
from tests.conftest import SandboxProcess, worker_env
from tests.support import wait_for


@pytest.mark.worker
def test_wait_shows_progress_until_the_market_is_rebuilt(
    celery_worker: Any, redis_client: Any
) -> None:
    out = StringIO()
    call_command("catalog_rebuild", "--market", "2", "--wait", "--timeout", "120", stdout=out)
    text = out.getvalue()
    job_id = re.search(r"market 2: job (\w+)", text)
    assert job_id, text
    bars = re.findall(r"market +2 +\[([#-]+)\] +(\d+)/(\d+) +pages +(\w+)", text)
    assert bars, text
    bar, done, total, state = bars[-1]
    assert state == "done"
    assert done == total
    assert int(total) > 0
    assert set(bar) == {"#"}
    assert "catalog rebuilt" in text
    job = job_records.job_get(job_id=job_id.group(1), r=redis_client)
    assert job is not None
    assert job.state == "done"


@pytest.mark.worker
def test_without_market_every_market_is_queued(celery_worker: Any, redis_client: Any) -> None:
    out = StringIO()
    call_command("catalog_rebuild", stdout=out)
    started = dict(re.findall(r"market (\w+): job (\w+)", out.getvalue()))
    assert sorted(started) == ["1", "2", "3"]
    for job_id in started.values():
        job = wait_for(
            lambda job_id=job_id: _finished(redis_client, job_id), timeout=180, what=job_id
        )
        assert job.state == "done", job.error


def _finished(r: Any, job_id: str) -> job_records.Job | None:
    job = job_records.job_get(job_id=job_id, r=r)
    return job if job is not None and job.state in {"done", "failed"} else None


def test_an_unknown_market_is_an_error(services: None) -> None:
    with pytest.raises(CommandError, match="unknown market"):
        call_command("catalog_rebuild", "--market", "99", stdout=StringIO())


def test_wait_exits_non_zero_when_the_rebuild_fails(sandbox: SandboxProcess) -> None:
    # A Redis (and so a broker) of its own and no worker: the job stays queued until this test
    # fails it, as a worker giving up would.
    port = embedded.free_port()
    server = embedded.start_redis(port, tempfile.mkdtemp(prefix="storefront-cmd-redis-"))
    url = f"redis://127.0.0.1:{port}/0"
    r = redis.Redis.from_url(url)
    try:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "catalog_rebuild", "--market", "1", "--wait"],
            env=worker_env(url, sandbox),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        job_id = wait_for(lambda: r.get(job_records.pending_key("1")), timeout=60, what="the job")
        job_runner.job_failed(job_id=job_id.decode(), market="1", error="Centra is gone", r=r)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode != 0
        assert "Centra is gone" in stdout
        assert "rebuild failed for market 1" in stderr
    finally:
        r.close()
        embedded.stop(server)


def test_wait_gives_up_after_the_timeout(sandbox: SandboxProcess) -> None:
    port = embedded.free_port()
    server = embedded.start_redis(port, tempfile.mkdtemp(prefix="storefront-cmd-redis-"))
    try:
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "catalog_rebuild",
                "--market",
                "1",
                "--wait",
                "--timeout",
                "1",
            ],
            env=worker_env(f"redis://127.0.0.1:{port}/0", sandbox),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode != 0
        assert "gave up waiting" in done.stderr
        assert "queued" in done.stdout
    finally:
        embedded.stop(server)
