"""storefront: a backend-for-frontend over Centra's Checkout API."""

from storefront.celery import app as celery_app

__all__ = ("celery_app",)
