"""The Centra-outage fixtures, for the modules of this directory that request them."""

from tests.reliability.centra_outage import (  # noqa: F401 - fixtures, used by name
    faults,
    faulty,
    outage_bff,
)
from tests.shop.page_helpers import page_cache  # noqa: F401 - a fixture, used by name
