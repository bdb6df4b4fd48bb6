from tests.checkout.fixtures import (  # noqa: F401 - fixtures, used by name
    _proxy_settings,
    bff_server,
    own_sandbox,
    use_own_sandbox,
)
