from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "storefront"

    def ready(self) -> None:
        # Connects the failed-login counter (user_login_failed) in every process that serves.
        from storefront import stafflogin  # noqa: F401
