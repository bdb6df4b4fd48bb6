"""Local receivers for the sinks (a session's worth: three small threaded HTTP servers), and
the shop's page fixtures (a sandbox and catalog cache of the module's own) for the end-to-end
test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.checkout.fixtures import (  # noqa: F401 - fixtures, used by name
    _proxy_settings,
    own_sandbox,
    use_own_sandbox,
)
from tests.shop.page_helpers import page_cache, shop  # noqa: F401 - fixtures, used by name
from tests.tracking.receivers import receiver
from tests.tracking.sinks_config import Receivers


@pytest.fixture(scope="session")
def receivers() -> Iterator[Receivers]:
    with ExitStack() as stack:
        yield Receivers(
            ga4=stack.enter_context(receiver()),
            meta=stack.enter_context(receiver()),
            webhook=stack.enter_context(receiver()),
        )


@pytest.fixture
def sinks(receivers: Receivers, settings: Any) -> Iterator[Receivers]:
    """This process's sinks on the receivers, which start empty and answering."""
    receivers.clear()
    for name, value in receivers.env().items():
        setattr(settings, name, value)
    settings.TRACKING_META_TEST_EVENT_CODE = ""
    yield receivers
    receivers.clear()
