"""Prometheus metrics of purchase tracking, served with the rest at /metrics
(:mod:`storefront.metrics`, the default registry; with several processes,
``PROMETHEUS_MULTIPROC_DIR`` collects the worker's samples too)."""

from __future__ import annotations

from prometheus_client import Counter

PURCHASES = Counter(
    "storefront_tracking_purchases_total",
    "Completed payments seen by tracking, by what became of them: queued, no_consent (nothing "
    "sent), duplicate (already queued for that order), error (not queued; logged)",
    ["outcome"],
)
EVENTS = Counter(
    "storefront_tracking_events_total",
    "Purchase events per sink: sent, retried (an attempt failed and is tried again later), "
    "failed (given up: in the dead-letter list), duplicate (that order was already sent)",
    ["sink", "outcome"],
)
