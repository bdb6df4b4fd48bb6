from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "checkout"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from checkout.session import selection_follows_choice
        from storefront.context import visitor_chose

        visitor_chose.connect(selection_follows_choice, dispatch_uid="checkout.follows_choice")
