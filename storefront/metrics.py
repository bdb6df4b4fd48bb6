"""Prometheus metrics. Served at /metrics. With several gunicorn workers set
``PROMETHEUS_MULTIPROC_DIR`` so every worker's samples are collected."""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

UPSTREAM_SECONDS = Histogram(
    "storefront_centra_request_seconds",
    "Time of calls to Centra",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UPSTREAM_ERRORS = Counter(
    "storefront_centra_errors_total", "Calls to Centra that failed", ["endpoint", "reason"]
)


def _metrics_refusal(request: HttpRequest) -> HttpResponse | None:
    """None when this caller may read the metrics (see METRICS_TOKEN in settings)."""
    token = settings.METRICS_TOKEN
    if not token:
        if settings.PRODUCTION:
            return JsonResponse({"errors": {"endpoint": "not found"}}, status=404)
        return None
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    response = JsonResponse({"errors": {"authorization": "metrics token required"}}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@csrf_exempt  # read-only: any other method is a 405 with Allow, not a CSRF 403
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    refusal = _metrics_refusal(request)
    if refusal is not None:
        return refusal
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
