"""Server-to-server purchase tracking (issue 18): one ``purchase`` event per order, sent from a
Celery task to each configured sink (GA4 Measurement Protocol, Meta Conversions API, a signed
webhook), only for visitors who consented.

The one entry point for the rest of the BFF is :func:`tracking.services.purchase_completed`.
"""
