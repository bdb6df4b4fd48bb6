"""The correlation id of the request being served, passed on to Centra on every call."""

from __future__ import annotations

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
