"""The shop's page tests read a built catalog cache (``tests.catalog.cache_fixtures``, a plugin
of the root conftest) and call the checkout proxy's sessions."""

from tests.checkout.fixtures import (  # noqa: F401 - fixtures, used by name
    _proxy_settings,
    bff_server,
    own_sandbox,
    use_own_sandbox,
)
from tests.shop.page_helpers import page_cache, shop  # noqa: F401 - fixtures, used by name
