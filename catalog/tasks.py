"""Celery entry points of the catalog. Each loads what it needs and calls a service.

Delivery: ``acks_late`` with ``reject_on_worker_lost`` (set globally and repeated here because
they matter most here): a worker process killed mid-rebuild puts its message back, and the
redelivered task takes over its own market lock (see ``catalog.jobs``). Time limits come from
settings and sit below the broker's visibility timeout. Every task is safe to run twice: a
rebuild writes a new generation aside and flips, and a finished job is not run again.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from catalog import jobs
from catalog.rebuild import CatalogMismatch
from storefront.centra import CentraUnavailable

log = logging.getLogger(__name__)


class RebuildTask(Task):
    """Retries with exponential backoff and full jitter while Centra is unavailable, and keeps
    the job record in step with what Celery decides."""

    # CatalogMismatch: Centra's catalog changed under the build (counts moved between pages);
    # building again is the fix. CatalogRefused (a build that looks broken) is not retried:
    # the same catalog would be refused again; the job fails with the reason.
    autoretry_for = (CentraUnavailable, CatalogMismatch)
    retry_backoff = 2  # countdowns drawn from 0-2 s, 0-4 s, 0-8 s, ... (full jitter)
    retry_backoff_max = 120
    retry_jitter = True
    max_retries = 6
    acks_late = True
    reject_on_worker_lost = True

    def on_retry(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        jobs.job_retrying(job_id=kwargs["job_id"], error=str(exc))

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        jobs.job_failed(
            job_id=kwargs["job_id"], market=kwargs["market"], error=f"{type(exc).__name__}: {exc}"
        )


@shared_task(base=RebuildTask, name="catalog.rebuild_market")
def rebuild_market_task(*, job_id: str, market: str) -> dict[str, Any] | None:
    """Rebuild one market's catalog (job ``job_id``, created by ``jobs.enqueue_rebuild``)."""
    outcome = jobs.run_rebuild(job_id=job_id, market=market)
    if isinstance(outcome, jobs.Busy):
        jobs.requeue_later(job_id=job_id, market=market, holder=outcome.holder)
        return None
    if outcome is None:
        return None
    return {
        "market": outcome.market,
        "generation": outcome.generation,
        "products": outcome.products,
    }


@shared_task(
    name="catalog.rebuild_all",
    autoretry_for=(CentraUnavailable,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
    reject_on_worker_lost=True,
)
def rebuild_all_task(reason: str = "schedule") -> list[dict[str, str]]:
    """Fan out: one rebuild job per market (the beat schedule's safety net)."""
    return [{"market": m, "job": j} for m, j in jobs.rebuild_all(reason=reason)]
