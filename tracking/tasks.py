"""Celery entry points of purchase tracking.

``tracking.purchase`` takes one order's event (queued by the web process after the shopper's
answer is decided) and queues one ``tracking.send`` per configured sink, so a sink that is down
is retried on its own and never holds up or repeats the others.

``tracking.send`` is ``acks_late`` (a worker killed mid-send puts it back) and retries
:class:`~tracking.delivery.SinkUnavailable` with exponential backoff and full jitter; a
rejection, or the last failed retry, lands in the dead-letter list (``FailedEvent``, shown in
the admin). Both are safe to run twice: the per-sink claim of :mod:`tracking.dedupe` lets only
the first task of an order send it, and its own retries and redeliveries (same task id) go on.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import DatabaseError

from tracking import delivery
from tracking.events import Purchase
from tracking.metrics import EVENTS
from tracking.sinks import configured_sinks

log = logging.getLogger(__name__)

PURCHASE_TASK = "tracking.purchase"
SEND_TASK = "tracking.send"


class SendTask(Task):
    autoretry_for = (delivery.SinkUnavailable,)
    retry_backoff = settings.TRACKING_RETRY_BACKOFF
    retry_backoff_max = settings.TRACKING_RETRY_BACKOFF_MAX
    retry_jitter = True
    max_retries = settings.TRACKING_MAX_RETRIES
    acks_late = True
    reject_on_worker_lost = True

    def on_retry(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        sink = kwargs.get("sink", "?")
        EVENTS.labels(sink, "retried").inc()
        log.warning(
            "tracking: order %s to %s failed (%s); trying again",
            kwargs.get("event", {}).get("order"),
            sink,
            exc,
        )

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        sink = kwargs.get("sink", "?")
        event = kwargs.get("event", {})
        EVENTS.labels(sink, "failed").inc()
        # SinkError texts are safe; anything else is named by its class only.
        error = str(exc) if isinstance(exc, delivery.SinkError) else type(exc).__name__
        log.error("tracking: order %s to %s given up: %s", event.get("order"), sink, error)
        record_failure(sink=sink, event=event, error=error, attempts=self.request.retries + 1)


def record_failure(*, sink: str, event: dict[str, Any], error: str, attempts: int) -> None:
    from tracking.models import FailedEvent

    try:
        FailedEvent.objects.create(
            sink=sink,
            order=str(event.get("order", ""))[:64],
            event=event,
            error=error[:200],
            attempts=attempts,
        )
    except DatabaseError as e:  # the database is down too: the log line above is what remains
        log.error("tracking: dead letter not stored (%s)", type(e).__name__)


def queue_send(*, sink: str, event: Purchase) -> None:
    send_task.apply_async(kwargs={"sink": sink, "event": event}, queue=settings.TRACKING_QUEUE)


@shared_task(name=PURCHASE_TASK, acks_late=True, reject_on_worker_lost=True)
def purchase_task(*, event: Purchase) -> list[str]:
    """One ``tracking.send`` per configured sink; the sinks' names."""
    sinks = configured_sinks()
    for sink in sinks:
        queue_send(sink=sink, event=event)
    return sinks


@shared_task(base=SendTask, bind=True, name=SEND_TASK)
def send_task(self: Task, *, sink: str, event: Purchase) -> str:
    """Send one order's event to one sink (see the module docstring)."""
    return delivery.deliver(sink=sink, event=event, holder=str(self.request.id))
