"""``edge/default.vcl``'s rules one by one, with a real varnishd in front of a stand-in origin
that answers what each test sets and records what reached it: cookies untouched where the
edge passes and never sent where it caches, no ``Set-Cookie`` answer stored, ``Cache-Control``
honoured, stale answers served while the origin fails (grace), purges by surrogate key.
(``test_varnish_edge.py`` runs the same VCL in front of the real BFF.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from storefront import embedded
from storefront.edge import varnish
from tests.conftest import ARTIFACTS
from tests.edge.edge_stack import varnish_missing_reason
from tests.support import wait_for

pytestmark = pytest.mark.skipif(
    varnish_missing_reason() is not None, reason=str(varnish_missing_reason())
)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"v1"
    headers: dict[str, str] = field(
        default_factory=lambda: {"Cache-Control": "public, max-age=0, s-maxage=3600"}
    )


@dataclass
class Origin:
    answers: dict[str, Answer] = field(default_factory=dict)
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Cookie
    down: bool = False

    def requests_for(self, path: str) -> list[tuple[str, str, str | None]]:
        return [s for s in self.seen if s[1] == path]


@dataclass
class Edge:
    url: str
    origin: Origin

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.url + path, allow_redirects=False, timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def edge(own_servers: None) -> Iterator[Edge]:
    origin = Origin()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/healthz":
                origin.seen.append((self.command, self.path, self.headers.get("Cookie")))
            answer = origin.answers.get(self.path.split("?")[0], Answer())
            if origin.down:
                answer = Answer(status=503, body=b"down", headers={"Cache-Control": "no-store"})
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = embedded.free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc = varnish.start_varnish(
        port, server.server_address[1], log_path=ARTIFACTS / f"varnish-rules-{port}.log"
    )
    yield Edge(url=f"http://127.0.0.1:{port}", origin=origin)
    embedded.stop(proc)
    server.shutdown()
    server.server_close()


def test_a_locale_page_is_cached_without_any_cookie_reaching_the_origin(edge: Edge) -> None:
    path = "/se/sv/womens/jeans"
    first = edge.get(path, cookies={"country": "DE", "centra_token": "t" * 32})
    second = edge.get(path, cookies={"cart_count": "3"})
    assert (first.headers["X-Edge"], second.headers["X-Edge"]) == ("MISS", "HIT")
    assert edge.origin.requests_for(path) == [("GET", path, None)]
    for home in ("/se/sv", "/se/sv/", "/se/sv?page=2", "/no/nb-no/search?q=x"):
        assert edge.get(home).headers["X-Edge"] == "MISS", home
        assert edge.get(home).headers["X-Edge"] == "HIT", home


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/womens/jeans",
        "/cart",
        "/checkout",
        "/account/orders",
        "/password-reset",
        "/_/context",
        "/api/checkout/selection",
        "/api/checkout/products",
        "/admin/",
        "/webhooks/centra",
        "/sweden/sv",  # not a locale prefix
    ],
)
def test_everything_else_passes_with_its_cookies_untouched(edge: Edge, path: str) -> None:
    cookies = {"centra_token": "t" * 32, "sessionid": "s1"}
    for _ in range(2):
        assert edge.get(path, cookies=cookies).headers["X-Edge"] == "PASS"
    seen = edge.origin.requests_for(path)
    assert len(seen) == 2
    assert all(s[2] is not None and "centra_token=" + "t" * 32 in s[2] for s in seen)


def test_posts_pass_even_to_a_cacheable_path(edge: Edge) -> None:
    path = "/se/sv/posted"
    requests.post(edge.url + path, data={"a": "1"}, timeout=10)
    requests.post(edge.url + path, data={"a": "1"}, timeout=10)
    assert [s[0] for s in edge.origin.requests_for(path)] == ["POST", "POST"]


def test_an_answer_with_set_cookie_is_never_stored(edge: Edge) -> None:
    path = "/se/sv/sets-a-cookie"
    edge.origin.answers[path] = Answer(
        headers={"Cache-Control": "public, s-maxage=3600", "Set-Cookie": "who=first; Path=/"}
    )
    first, second = edge.get(path), edge.get(path)
    assert len(edge.origin.requests_for(path)) == 2
    assert second.headers["X-Edge"] != "HIT"
    assert first.headers["Set-Cookie"].startswith("who=first")


@pytest.mark.parametrize("cache_control", ["private, no-store", "no-cache", "public, s-maxage=0"])
def test_the_origins_cache_control_is_honoured(edge: Edge, cache_control: str) -> None:
    path = f"/se/sv/cc-{abs(hash(cache_control))}"
    edge.origin.answers[path] = Answer(headers={"Cache-Control": cache_control})
    edge.get(path)
    edge.get(path)
    assert len(edge.origin.requests_for(path)) == 2


def test_the_catalog_api_is_cached_per_country_cookie_and_passes_a_session(edge: Edge) -> None:
    path = "/api/checkout/products/1001"
    edge.origin.answers[path] = Answer(headers={})  # the API sends no Cache-Control
    assert edge.get(path, cookies={"country": "SE", "x": "1"}).headers["X-Edge"] == "MISS"
    assert edge.get(path, cookies={"country": "SE", "x": "2"}).headers["X-Edge"] == "HIT"
    assert edge.get(path, cookies={"country": "DE"}).headers["X-Edge"] == "MISS"
    assert (
        edge.get(path, cookies={"country": "SE", "centra_token": "t" * 32}).headers["X-Edge"]
        == "PASS"
    )
    assert edge.get(path, headers={"API-token": "t" * 32}).headers["X-Edge"] == "PASS"
    assert edge.get(path, headers={"Authorization": "Bearer key"}).headers["X-Edge"] == "PASS"
    # Only the country and language cookies reached the origin, never the rest
    cached = [s[2] for s in edge.origin.requests_for(path)][:2]
    assert cached == ["country=SE", "country=DE"]


def test_a_purge_by_surrogate_key_drops_exactly_the_tagged_pages(edge: Edge) -> None:
    tagged, other = "/se/sv/tagged", "/se/sv/other"
    edge.origin.answers[tagged] = Answer(
        headers={"Cache-Control": "public, s-maxage=3600", "Surrogate-Key": "p1001 c31 m1"}
    )
    edge.origin.answers[other] = Answer(
        headers={"Cache-Control": "public, s-maxage=3600", "Surrogate-Key": "p1002 c32 m1"}
    )
    for path in (tagged, other):
        edge.get(path)
        assert edge.get(path).headers["X-Edge"] == "HIT"
    purged = requests.request("PURGE", edge.url + "/", headers={"xkey-purge": "c31 p9"}, timeout=10)
    assert purged.status_code == 200
    assert edge.get(tagged).headers["X-Edge"] == "MISS"
    assert edge.get(other).headers["X-Edge"] == "HIT"
    requests.request("PURGE", edge.url + "/", headers={"xkey-purge": "m1"}, timeout=10)
    assert edge.get(tagged).headers["X-Edge"] == edge.get(other).headers["X-Edge"] == "MISS"


def test_a_stale_page_is_served_while_the_origin_fails(edge: Edge) -> None:
    path = "/se/sv/grace"
    edge.origin.answers[path] = Answer(body=b"old", headers={"Cache-Control": "public, s-maxage=1"})
    assert edge.get(path).content == b"old"
    edge.origin.down = True
    try:
        # Expired, the origin answers 503: the stale copy is served (and kept)
        def expired_and_served() -> bool:
            resp = edge.get(path)
            assert (resp.status_code, resp.content) == (200, b"old")
            return int(resp.headers["Age"]) >= 3

        wait_for(expired_and_served, timeout=10, what="a stale answer past its lifetime")

        # Long past the short grace of a healthy origin, once the probe finds it down
        def still_served_stale() -> bool:
            resp = edge.get(path)
            assert (resp.status_code, resp.content) == (200, b"old")
            return int(resp.headers["Age"]) > 15

        wait_for(still_served_stale, timeout=40, what="a stale answer 15 s past its lifetime")
    finally:
        edge.origin.down = False
