"""``python -m sandbox --host 127.0.0.1 --port 8001``: run the Centra Checkout API sandbox."""

from __future__ import annotations

import signal
import sys
import time

from sandbox.app import create_server
from sandbox.config import config_from_args


def main(argv: list[str] | None = None) -> int:
    config = config_from_args(argv)
    started = time.monotonic()
    server = create_server(config)
    cat = server.shop.catalog
    print(
        f"sandbox: {cat.summary()} generated in {time.monotonic() - started:.1f}s; "
        f"API at {config.base_url}/api/checkout/ speaking the {config.dialect} dialect",
        flush=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
