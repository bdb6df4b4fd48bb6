"""The Fastly and Cloudflare purgers against a local stand-in of their APIs, which checks the
request shape their documentation gives, and the purge task's sending side:

* Fastly: ``POST /service/{service_id}/purge``, ``Fastly-Key``, ``Surrogate-Key: k1 k2``
  (at most 256 keys a call).
* Cloudflare: ``POST /client/v4/zones/{zone_id}/purge_cache``, ``Authorization: Bearer``,
  JSON ``{"tags": [...]}`` (at most 30 a call), answered ``{"success": true, ...}``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from storefront.edge import purgers


@dataclass
class StandIn:
    url: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"success": True, "errors": []})


@pytest.fixture
def stand_in(own_servers: None) -> Iterator[StandIn]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    info = StandIn(url=f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            info.calls.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(raw) if raw else None,
                }
            )
            out = json.dumps(info.body).encode()
            self.send_response(info.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield info
    server.shutdown()
    server.server_close()


def test_fastly_purges_by_surrogate_key_in_batches_of_256(stand_in: StandIn) -> None:
    purger = purgers.purger(f"fastly://fastly-token@SvcID123?api={stand_in.url}")
    keys = [f"p{n}" for n in range(300)]
    purger.purge(keys)
    assert [c["path"] for c in stand_in.calls] == ["/service/SvcID123/purge"] * 2
    first, second = stand_in.calls
    assert first["headers"]["fastly-key"] == "fastly-token"
    assert first["headers"]["surrogate-key"].split() == keys[:256]
    assert second["headers"]["surrogate-key"].split() == keys[256:]
    assert "authorization" not in first["headers"]


def test_cloudflare_purges_by_tags_in_batches_of_30(stand_in: StandIn) -> None:
    purger = purgers.purger(f"cloudflare://cf-token@zone42?api={stand_in.url}")
    keys = [f"c{n}" for n in range(31)]
    purger.purge(keys)
    assert [c["path"] for c in stand_in.calls] == ["/client/v4/zones/zone42/purge_cache"] * 2
    first, second = stand_in.calls
    assert first["headers"]["authorization"] == "Bearer cf-token"
    assert first["headers"]["content-type"] == "application/json"
    assert first["body"] == {"tags": keys[:30]}
    assert second["body"] == {"tags": keys[30:]}


def test_an_edge_that_refuses_fails_the_purge_for_a_retry(stand_in: StandIn) -> None:
    stand_in.status = 403
    with pytest.raises(purgers.PurgeFailed, match="403"):
        purgers.purger(f"fastly://t@svc?api={stand_in.url}").purge(["p1"])
    stand_in.status = 200
    stand_in.body = {"success": False, "errors": [{"code": 1134, "message": "limit"}]}
    with pytest.raises(purgers.PurgeFailed, match="did not confirm"):
        purgers.purger(f"cloudflare://t@zone?api={stand_in.url}").purge(["p1"])


def test_an_edge_that_does_not_answer_fails_the_purge(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EDGE_PURGE_TIMEOUT = 1
    with pytest.raises(purgers.PurgeFailed):
        purgers.purger("http://127.0.0.1:1/").purge(["p1"])
