"""The Centra-outage fixtures, for the modules of this directory that request them."""

from tests.reliability.centra_outage import (  # noqa: F401 - fixtures, used by name
    faults,
    faulty,
    outage_bff,
)
