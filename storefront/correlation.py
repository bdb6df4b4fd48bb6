"""The correlation id of the request (or Celery task) being served: passed on to Centra on
every call, and put on every log record by ``CorrelationIdFilter`` (see LOGGING in settings)."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)
# Hostile input: only a short, plain token is passed on; anything else is replaced.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def clean_correlation_id(value: str | None) -> str:
    if value and _VALID.match(value):
        return value
    return new_correlation_id()


def current_correlation_id() -> str | None:
    return _current.get()


def set_correlation_id(value: str | None) -> object:
    return _current.set(value)


def reset_correlation_id(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


# What log lines show outside any request or task (start-up, beat's ticks, gunicorn's arbiter).
NO_CORRELATION_ID = "-"


class CorrelationIdFilter(logging.Filter):
    """Puts the current correlation id on every record as ``correlation_id``. Installed on the
    handlers (not on loggers), so records of every logger that reaches them get it, Django's,
    Celery's and third-party libraries' included."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _current.get() or NO_CORRELATION_ID
        return True
