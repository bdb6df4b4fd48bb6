"""Tasks of the project itself."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="storefront.ping")
def ping() -> str:
    """Lets the tests and the dev runner see that a worker is consuming."""
    return "pong"
