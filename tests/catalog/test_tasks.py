"""The Celery entry points: delivery settings, the beat schedule, retries, the fan-out."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import requests
from celery.schedules import crontab
from django.conf import settings

from catalog import job_records
from catalog.tasks import RebuildTask, rebuild_all_task, rebuild_market_task
from storefront.celery import app as celery_app
from storefront.centra import CentraUnavailable
from tests.catalog.own_stack import ROOT, own_stack, stop_worker
from tests.conftest import SandboxProcess
from tests.support import wait_for


def test_rebuild_tasks_survive_a_lost_worker_and_stay_below_the_visibility_timeout() -> None:
    for task in (rebuild_market_task, rebuild_all_task):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert CentraUnavailable in task.autoretry_for
        assert task.max_retries
        assert task.retry_backoff
        assert task.retry_jitter
    assert isinstance(rebuild_market_task, RebuildTask)
    conf = celery_app.conf
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert conf.task_soft_time_limit < conf.task_time_limit < visibility
    assert conf.worker_prefetch_multiplier == 1
    # a lock is never held longer than a task may run... plus nothing: it ends with the task
    assert conf.task_time_limit <= settings.CATALOG_REBUILD_LOCK_SECONDS


def test_beat_schedule_runs_the_fan_out_nightly() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["catalog-rebuild-all"]
    assert entry["task"] == rebuild_all_task.name
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    minute, hour = settings.CATALOG_REBUILD_CRON.split()[:2]
    assert schedule.minute == {int(minute)}
    assert schedule.hour == {int(hour)}
    assert entry["task"] in celery_app.tasks


@pytest.mark.parametrize(
    ("cron", "accepted"),
    [("*/15 2-5 * * 1-5", True), ("off", True), ("61 3 * * *", False), ("3 * *", False)],
)
def test_cron_setting_is_validated_at_start(cron: str, accepted: bool) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        env={"CATALOG_REBUILD_CRON": cron, **_without("CATALOG_REBUILD_CRON")},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode == 0) is accepted, done.stderr
    if not accepted:
        assert "CATALOG_REBUILD_CRON" in done.stderr


def _without(name: str) -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != name}


@pytest.mark.worker
def test_rebuild_all_task_fans_out_one_job_per_market(
    celery_worker: Any, sandbox: SandboxProcess, redis_client: Any
) -> None:
    # given the sandbox's markets
    markets = requests.get(
        f"{sandbox.api}markets", headers={"Authorization": f"Bearer {sandbox.secret}"}, timeout=10
    ).json()["markets"]
    expected = sorted(str(m["market"]) for m in markets)

    # when the schedule's task runs
    started = rebuild_all_task.delay(reason="test").get(timeout=60)

    # then every market got a job, and every job finishes
    assert sorted(s["market"] for s in started) == expected
    for s in started:
        job = wait_for(
            lambda s=s: _finished(redis_client, s["job"]), timeout=120, what=f"job {s['job']}"
        )
        assert job.state == "done", job.error
        assert job.pages_done == job.pages_total > 0


def _finished(r: Any, job_id: str) -> job_records.Job | None:
    job = job_records.job_get(job_id=job_id, r=r)
    return job if job is not None and job.state in {"done", "failed"} else None


@pytest.mark.worker
def test_retries_on_centra_unavailable_end_in_success(own_servers: None) -> None:
    with own_stack(["--products", "60", "--markets", "1", "--languages", "1"]) as stack:
        # given a queued rebuild and a Centra that fails every call
        job_id = stack.enqueue("1")
        faults = stack.sandbox.control("PUT", "faults", json={"errorRate": 1.0})
        assert faults.status_code == 200
        worker = stack.start_worker("retries")
        try:
            # when the worker tries, fails and schedules a retry with backoff
            retrying = wait_for(
                lambda: _retrying(stack, job_id), timeout=60, what="a retry to be scheduled"
            )
            assert "retrying after" in (retrying.error or "")
            # and Centra heals
            healed = stack.sandbox.control("PUT", "faults", json={"errorRate": 0})
            assert healed.status_code == 200

            # then a later attempt succeeds and the job is done, its lock and key released
            done = stack.wait_job(job_id, "done", timeout=120)
            assert done.attempts >= 2
            assert done.error is None
            assert done.pages_done == done.pages_total > 0
            # (released right after the job is marked done)
            wait_for(
                lambda: (
                    stack.r.get(job_records.lock_key("1")) is None
                    and stack.r.get(job_records.pending_key("1")) is None
                ),
                timeout=10,
                what="lock and pending key released",
            )
        finally:
            stop_worker(worker)


def _retrying(stack: Any, job_id: str) -> job_records.Job | None:
    job = stack.job(job_id)
    if job is not None and job.state == "failed":
        raise AssertionError(f"gave up instead of retrying: {job.error}")
    return job if job is not None and job.attempts >= 1 and job.state == "queued" else None
