from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog import answers, spool
        from storefront.circuit import on_transition

        # When this process finds Centra down (or back), the others' answers follow.
        on_transition(answers.centra_breaker_changed)
        # Webhooks a previous run of this process could not queue are queued now.
        spool.resume()
