"""Sending to the sinks for real: local receivers over HTTP, the session's Redis for the
de-duplication keys, the dead-letter list in the database, and the task's retries (run eagerly
here; tests/tracking/test_purchase_e2e.py runs them in a real worker)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import redis
from django.test import Client

from tests.tracking.protocol import check_ga4, check_meta, check_webhook
from tests.tracking.samples import answer, visitor
from tests.tracking.sinks_config import (
    GA4_ID,
    GA4_SECRET,
    META_PIXEL,
    META_TOKEN,
    META_VERSION,
    SECRETS,
    WEBHOOK_SECRET,
    Receivers,
)
from tracking import dedupe
from tracking.delivery import SinkRejected, SinkUnavailable, deliver
from tracking.events import Purchase, purchase_event
from tracking.models import FailedEvent
from tracking.tasks import send_task


def event(order: str) -> Purchase:
    body = answer("oas")
    body["order"]["order"] = order
    built = purchase_event(body, visitor=visitor(), now=1_800_000_000)
    assert built is not None
    return built


def test_each_sink_gets_one_correct_request_per_order(
    sinks: Receivers, scratch_redis: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    purchase = event("5001")
    for sink in ("ga4", "meta", "webhook"):
        assert deliver(sink=sink, event=purchase, holder="task-1", r=scratch_redis) == "sent"
        # the same order again (another task, or this one redelivered after it was sent)
        assert deliver(sink=sink, event=purchase, holder="task-2", r=scratch_redis) == "duplicate"
        assert deliver(sink=sink, event=purchase, holder="task-1", r=scratch_redis) == "duplicate"

    (ga4,) = sinks.ga4.requests
    assert check_ga4(ga4, measurement_id=GA4_ID, api_secret=GA4_SECRET)["transaction_id"] == "5001"
    (meta,) = sinks.meta.requests
    checked = check_meta(meta, pixel_id=META_PIXEL, token=META_TOKEN, version=META_VERSION)
    assert checked["event_id"] == "5001"
    (hook,) = sinks.webhook.requests
    assert check_webhook(hook, secret=WEBHOOK_SECRET)["order"] == "5001"
    # No secret, token or contact detail in what was logged
    for secret in (*SECRETS, "te.st@example.com", "Te.St@Example.com"):
        assert secret not in caplog.text


def test_a_failed_attempt_keeps_the_claim_for_its_own_retry_only(
    sinks: Receivers, scratch_redis: redis.Redis
) -> None:
    purchase = event("5002")
    sinks.webhook.fail_next = 1
    with pytest.raises(SinkUnavailable, match="HTTP 503"):
        deliver(sink="webhook", event=purchase, holder="task-1", r=scratch_redis)
    # another task for the order sends nothing while the first one is retrying
    assert deliver(sink="webhook", event=purchase, holder="task-2", r=scratch_redis) == "duplicate"
    # the first one's retry sends it
    assert deliver(sink="webhook", event=purchase, holder="task-1", r=scratch_redis) == "sent"
    assert [r.status for r in sinks.webhook.requests] == [503, 200]
    assert dedupe.was_sent(scratch_redis, "webhook", "5002")


def test_a_refusal_is_not_worth_retrying(sinks: Receivers, scratch_redis: redis.Redis) -> None:
    sinks.meta.fail_next, sinks.meta.fail_status = 1, 400
    with pytest.raises(SinkRejected, match="HTTP 400"):
        deliver(sink="meta", event=event("5003"), holder="task-1", r=scratch_redis)


def test_an_unreachable_sink_is_retried_later(
    sinks: Receivers, scratch_redis: redis.Redis, settings: Any
) -> None:
    settings.TRACKING_WEBHOOK_URL = "http://127.0.0.1:1/closed"
    with pytest.raises(SinkUnavailable) as raised:
        deliver(sink="webhook", event=event("5004"), holder="task-1", r=scratch_redis)
    assert "127.0.0.1" not in str(raised.value)  # never the URL (GA4's and Meta's hold secrets)


def test_a_sink_not_configured_here_sends_nothing(
    sinks: Receivers, scratch_redis: redis.Redis, settings: Any
) -> None:
    settings.TRACKING_GA4_API_SECRET = ""
    assert deliver(sink="ga4", event=event("5005"), holder="t", r=scratch_redis) == "off"
    assert sinks.ga4.requests == []


@pytest.mark.django_db
def test_the_task_retries_then_gives_up_into_the_dead_letter_list(
    sinks: Receivers, scratch_redis: redis.Redis, admin_client: Client, settings: Any
) -> None:
    # Given a webhook receiver that never answers well
    sinks.webhook.fail_next = 1000
    purchase = event("5006")
    # When the task runs (eagerly: its retries follow at once)
    result = send_task.apply(kwargs={"sink": "webhook", "event": purchase}, task_id="dead-1")
    # Then it tried 1 + max_retries times, and gave up
    assert result.failed()
    assert len(sinks.webhook.requests) == send_task.max_retries + 1
    failed = FailedEvent.objects.get(order="5006")
    assert (failed.sink, failed.error, failed.attempts) == (
        "webhook",
        "HTTP 503",
        send_task.max_retries + 1,
    )
    assert failed.event == purchase  # hashed contact details only
    # And an admin sees it in the list
    page = admin_client.get("/admin/tracking/failedevent/")
    assert page.status_code == 200
    assert "5006" in page.content.decode()
    assert "HTTP 503" in page.content.decode()

    # When the receiver is back and the admin sends it again
    sinks.webhook.clear()
    settings.TRACKING_QUEUE = "tracking-test-no-worker"
    from tracking import tasks

    sent: list[dict[str, Any]] = []
    real = tasks.send_task.apply_async

    def run_now(*, kwargs: dict[str, Any], queue: str) -> Any:
        sent.append(kwargs)
        return tasks.send_task.apply(kwargs=kwargs, task_id="again-1")

    tasks.send_task.apply_async = run_now  # type: ignore[method-assign]
    try:
        done = admin_client.post(
            "/admin/tracking/failedevent/",
            {"action": "send_again", "_selected_action": [failed.pk]},
        )
    finally:
        tasks.send_task.apply_async = real  # type: ignore[method-assign]
    # Then it is sent once, and leaves the list
    assert done.status_code == 302
    assert len(sent) == 1
    assert len(sinks.webhook.accepted()) == 1
    assert not FailedEvent.objects.filter(order="5006").exists()


@pytest.mark.django_db
def test_a_refused_event_goes_to_the_dead_letter_list_at_once(
    sinks: Receivers, scratch_redis: redis.Redis
) -> None:
    sinks.ga4.fail_next, sinks.ga4.fail_status = 1000, 403
    result = send_task.apply(kwargs={"sink": "ga4", "event": event("5007")}, task_id="dead-2")
    assert result.failed()
    assert len(sinks.ga4.requests) == 1
    assert FailedEvent.objects.get(order="5007").error == "HTTP 403"
