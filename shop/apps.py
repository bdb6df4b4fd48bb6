from django.apps import AppConfig


class ShopConfig(AppConfig):
    """Everything a shopper's browser sees: pages, their frame, forms, templates and text."""

    name = "shop"
    default_auto_field = "django.db.models.BigAutoField"
