"""The Celery app. Configuration comes from Django settings (``CELERY_*``).

Logging: worker and beat log through Django's ``LOGGING`` (the same format, handlers and
correlation id as the web), not Celery's own set-up; inside a task the correlation id is the
task's id, so every line a task logs can be found by it.
"""

from __future__ import annotations

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

from storefront.correlation import reset_correlation_id, set_correlation_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")

app = Celery("storefront")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Leave the root logger's handlers to Django's LOGGING.
app.conf.worker_hijack_root_logger = False
app.autodiscover_tasks()


@setup_logging.connect
def configure_logging_from_django(loglevel: int | str | None = None, **_: Any) -> None:
    """Celery's logging set-up, replaced: with a receiver here it configures nothing itself.
    ``--loglevel`` still sets the level of Celery's own loggers (its "ready." line, task
    received/succeeded), whatever LOG_LEVEL lets through for the application's."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)


# The correlation-id token of each running task, by task id, to restore the previous id when it
# ends (a pool runs one task at a time per process/thread, but eager calls can nest).
_task_tokens: dict[str, object] = {}


@task_prerun.connect
def task_correlation_id_on(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _task_tokens[task_id] = set_correlation_id(task_id)


@task_postrun.connect
def task_correlation_id_off(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is None:
        return
    try:
        reset_correlation_id(token)
    except ValueError:
        # Set in another context (a pool that ran prerun elsewhere): just clear it.
        set_correlation_id(None)
