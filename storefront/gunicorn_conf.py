"""gunicorn's settings for the BFF: one file for every way it runs (the image's CMD,
docker-compose, ``./dev start``, the tests and the benchmarks), loaded as
``gunicorn -c python:storefront.gunicorn_conf``. Callers override only what they must
(``embedded.start_gunicorn`` passes ``--bind`` and, when asked, ``--workers``/``--threads``).
"""

from __future__ import annotations

import os
from typing import Any

wsgi_app = "storefront.wsgi"
bind = ["0.0.0.0:8000"]

# The 2-core target: one worker per core, 8 threads each. Requests are I/O-bound (Redis,
# Centra), so threads, not processes, carry the concurrency.
workers = 2
threads = 8
worker_class = "gthread"
# Above the slowest Centra call (connect + read timeouts, see settings), so a request waiting on
# Centra is answered by the breaker, not killed mid-call by the arbiter.
timeout = 30
# SIGTERM on deploy: requests in flight get this long to finish.
graceful_timeout = 20
keepalive = 5
# The workers' heartbeat files: on a container's overlay filesystem an fsync-ing disk can
# stall them past ``timeout`` and get healthy workers killed; tmpfs cannot.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - tmpfs

# Access log on stdout, with the correlation id the middleware echoes back, so a line here
# can be joined to the application's and Centra's logs of the same request.
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms cid=%({x-correlation-id}o)s ua="%(a)s"'
errorlog = "-"
# No control socket: nothing here uses gunicornc, and its default path (~/.gunicorn) is one
# per user, which the several servers of a test run or benchmark would fight over.
control_socket_disable = True
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's Prometheus samples stop counting as live gauges (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
