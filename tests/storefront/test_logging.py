"""Every log line carries a correlation id (LOGGING's console handler, as configured by
settings): the request's inside a request, the task's id inside a Celery task, "-" elsewhere.
And Celery logs through that same configuration instead of setting up its own."""

from __future__ import annotations

import io
import logging
import weakref
from collections.abc import Iterator

import pytest
from celery.signals import setup_logging
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from storefront.celery import app, configure_logging_from_django
from storefront.correlation import CorrelationIdFilter, current_correlation_id
from storefront.middleware import CorrelationIdMiddleware

log = logging.getLogger("storefront.tests.logging")


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What LOGGING's console handler (on the root logger) writes during the test."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler)
        and any(isinstance(f, CorrelationIdFilter) for f in h.filters)
    ]
    assert handlers, "LOGGING's console handler is not on the root logger"
    handler = handlers[0]
    out = io.StringIO()
    previous = handler.setStream(out)
    level = log.level
    log.setLevel(logging.INFO)
    try:
        yield out
    finally:
        handler.setStream(previous)  # type: ignore[arg-type]
        log.setLevel(level)


@app.task(name="tests.storefront.log_inside_a_task")
def log_inside_a_task() -> str | None:
    log.info("inside the task")
    return current_correlation_id()


def serve(cid: str, view: object) -> HttpResponse:
    middleware = CorrelationIdMiddleware(view)  # type: ignore[arg-type]
    return middleware(RequestFactory().get("/x", HTTP_X_CORRELATION_ID=cid))


def test_a_line_logged_inside_a_request_carries_its_correlation_id(console: io.StringIO) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        log.info("inside the request")
        return HttpResponse("ok")

    response = serve("req-1234", view)
    assert response["X-Correlation-ID"] == "req-1234"
    line = next(x for x in console.getvalue().splitlines() if "inside the request" in x)
    assert "[req-1234]" in line
    assert "storefront.tests.logging" in line


def test_a_line_logged_outside_a_request_or_task_says_so(console: io.StringIO) -> None:
    log.info("at start-up")
    line = next(x for x in console.getvalue().splitlines() if "at start-up" in x)
    assert "[-]" in line


def test_a_line_logged_inside_a_task_carries_the_task_id(console: io.StringIO) -> None:
    result = log_inside_a_task.apply()
    assert result.get() == result.id
    line = next(x for x in console.getvalue().splitlines() if "inside the task" in x)
    assert f"[{result.id}]" in line
    assert current_correlation_id() is None  # restored when the task ends


def test_a_task_run_inside_a_request_hands_the_request_its_id_back(
    console: io.StringIO,
) -> None:
    seen: dict[str, str | None] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["task"] = log_inside_a_task.apply().get()
        seen["after"] = current_correlation_id()
        return HttpResponse("ok")

    serve("req-outer", view)
    assert seen["task"] not in {None, "req-outer"}
    assert seen["after"] == "req-outer"


def test_celery_logs_through_djangos_logging_config() -> None:
    assert app.conf.worker_hijack_root_logger is False
    # With a receiver, Celery's own logging set-up does nothing: ours applies LOGGING.
    receivers = [r() if isinstance(r, weakref.ref) else r for _, r in setup_logging.receivers]
    assert configure_logging_from_django in receivers
