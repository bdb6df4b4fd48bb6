"""The one Centra client: modes, correlation id, encoding, typed errors, no secret leaks.

Error paths the sandbox cannot produce (a redirect, an HTML answer, a silent server) are
served by tiny real HTTP servers on loopback rather than by mocking ``requests``.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from storefront.centra import (
    CentraClient,
    CentraRejected,
    CentraUnavailable,
    UnsafePathParameter,
    build_path,
    path_segment,
)
from storefront.correlation import reset_correlation_id, set_correlation_id
from tests.conftest import SandboxProcess


@pytest.fixture
def client(sandbox: SandboxProcess) -> CentraClient:
    return CentraClient(sandbox.api, sandbox.secret, connect_timeout=2, read_timeout=10)


def sandbox_log(sandbox: SandboxProcess) -> list[dict[str, object]]:
    """The API calls the sandbox saw (its control calls, like this one, left out)."""
    entries = sandbox.control("GET", "requests").json()["requests"]
    return [e for e in entries if str(e["path"]).startswith("/api/checkout/")]


def last_request(sandbox: SandboxProcess) -> dict[str, object]:
    return sandbox_log(sandbox)[-1]


# -- encoding -----------------------------------------------------------------------------------


def test_voucher_with_plus_is_encoded_as_one_segment() -> None:
    assert build_path("vouchers/{voucher}", voucher="TEST+CODE") == "vouchers/TEST%2BCODE"


def test_slash_and_query_characters_stay_inside_the_segment() -> None:
    assert build_path("vouchers/{voucher}", voucher="../orders") == "vouchers/..%2Forders"
    assert path_segment("a?b#c%d e") == "a%3Fb%23c%25d%20e"


@pytest.mark.parametrize("value", [".", "..", ""])
def test_dot_segments_and_empty_values_are_refused(value: str) -> None:
    with pytest.raises(UnsafePathParameter):
        path_segment(value)


@given(st.text(min_size=1, max_size=60))
def test_any_text_encodes_to_one_segment_that_decodes_back(value: str) -> None:
    if value in {".", ".."}:
        return
    encoded = path_segment(value)
    assert "/" not in encoded
    assert encoded not in {".", ".."}
    assert unquote(encoded, errors="strict") == value


def test_encoded_voucher_reaches_the_sandbox_as_sent(
    client: CentraClient, sandbox: SandboxProcess
) -> None:
    # whatever the sandbox answers (no selection yet), the path it saw is the encoded one
    with pytest.raises((CentraRejected, CentraUnavailable)):
        client.request("DELETE", build_path("vouchers/{voucher}", voucher="TEST+CODE"))
    assert last_request(sandbox)["path"] == "/api/checkout/vouchers/TEST%2BCODE"


def test_dot_dot_never_leaves_the_process(client: CentraClient, sandbox: SandboxProcess) -> None:
    before = len(sandbox_log(sandbox))
    with pytest.raises(UnsafePathParameter):
        client.request("DELETE", build_path("vouchers/{voucher}", voucher=".."))
    with pytest.raises(UnsafePathParameter):
        client.request("POST", "../orders")
    with pytest.raises(UnsafePathParameter):
        client.request("GET", "/api/checkout/orders")
    assert len(sandbox_log(sandbox)) == before


# -- modes and headers ----------------------------------------------------------------------------


def test_server_side_catalog_call_sends_the_secret_and_no_session(
    client: CentraClient, sandbox: SandboxProcess
) -> None:
    data = client.catalog("POST", "products", {"limit": 2})
    assert len(data["products"]) == 2
    assert data.get("token") is None  # API-token: none (today's Centra: null; the seeds: no key)
    seen = last_request(sandbox)["headers"]
    assert isinstance(seen, dict)
    assert seen["Authorization"] == "Bearer ***"  # the sandbox masks what it logs
    assert seen["API-token"] == "none"


def test_session_mode_sends_the_shoppers_token_and_not_the_secret(
    client: CentraClient, sandbox: SandboxProcess
) -> None:
    first = client.request("POST", "products", json={"limit": 1})
    assert first.token
    second = client.request("POST", "products", json={"limit": 1}, token=first.token)
    assert second.token == first.token
    seen = last_request(sandbox)["headers"]
    assert isinstance(seen, dict)
    assert "Authorization" not in seen
    assert seen["API-token"] == first.token


def test_correlation_id_of_the_current_request_is_passed_on(
    client: CentraClient, sandbox: SandboxProcess
) -> None:
    token = set_correlation_id("req-123")
    try:
        resp = client.request("GET", "countries", token="none")
    finally:
        reset_correlation_id(token)
    assert resp.headers["X-Correlation-ID"] == "req-123"


def test_a_correlation_id_is_generated_when_there_is_none(client: CentraClient) -> None:
    resp = client.request("GET", "countries", token="none")
    assert len(resp.headers["X-Correlation-ID"]) >= 16


# -- error mapping ------------------------------------------------------------------------------


def test_4xx_is_rejected_with_status_and_errors(client: CentraClient) -> None:
    with pytest.raises(CentraRejected) as info:
        client.request("GET", build_path("products/{id}", id="999999999"), token="none")
    assert info.value.status == 404
    assert info.value.errors
    assert info.value.body["errors"] == info.value.errors


def test_wrong_secret_is_rejected_and_the_secret_is_not_in_the_message(
    sandbox: SandboxProcess, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "wrong-secret-value-1234"
    client = CentraClient(sandbox.api, secret)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CentraRejected) as info:
        client.catalog("POST", "products", {"limit": 1})
    assert info.value.status == 401
    assert "errors" in info.value.body
    assert secret not in str(info.value)
    assert secret not in repr(client)
    assert secret not in caplog.text


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = CentraClient(f"http://127.0.0.1:{port}/api/checkout/", "s3cr3t-value")
    with pytest.raises(CentraUnavailable) as info:
        client.catalog("GET", "countries")
    assert "s3cr3t-value" not in str(info.value)


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # accepts connections into the backlog, never answers
        port = listener.getsockname()[1]
        client = CentraClient(f"http://127.0.0.1:{port}/", "x", connect_timeout=1, read_timeout=0.3)
        with pytest.raises(CentraUnavailable, match="timed out"):
            client.catalog("GET", "countries")


def test_injected_5xx_is_unavailable_with_the_status(own_servers: None) -> None:
    from storefront import embedded
    from tests.conftest import start_sandbox_process

    info, proc = start_sandbox_process(["--error-rate", "1", "--products", "10"])
    try:
        client = CentraClient(info.api, info.secret)
        with pytest.raises(CentraUnavailable) as err:
            client.catalog("GET", "countries")
        assert err.value.status == 503
    finally:
        embedded.stop(proc)  # type: ignore[arg-type]


# Answers with a JSON content type that a strict parser must refuse, so that what the client
# accepts can be passed on byte for byte (storefront.centra.parse_json).
NOT_STRICT_JSON = {
    "nan": b'{"price": NaN}',
    "infinity": b'{"price": -Infinity}',
    "bom": b'\xef\xbb\xbf{"a": 1}',
    "latin1": '{"name": "caf\u00e9"}'.encode("latin-1"),
    "utf16": '{"a": 1}'.encode("utf-16"),
}
# Sent exactly as it is: spacing, key order and escapes are Centra's, not ours.
AS_SENT = b'{ "b" : 1,"a":"\\u00e9 \xc3\xa9 \\u2028",  "c": [1.50, 2e3] }\n'


class _Odd(BaseHTTPRequestHandler):
    def _json(self, body: bytes, *headers: tuple[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        name = self.path.rsplit("/", 1)[-1]
        if name in NOT_STRICT_JSON:
            return self._json(NOT_STRICT_JSON[name])
        if name == "as-sent":
            return self._json(AS_SENT)
        if name == "cookie":
            # Sets a cookie, and says which one it was sent (a load balancer's affinity cookie
            # is the real-world case).
            sent = self.headers.get("Cookie")
            return self._json(
                json.dumps({"cookieSent": sent}).encode(),
                ("Set-Cookie", "AWSALB=shopper-a; Path=/"),
                ("Set-Cookie", "PHPSESSID=shopper-a; Path=/; HttpOnly"),
            )
        if self.path.endswith("redirect"):
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<html>maintenance</html>" if self.path.endswith("html") else b"[1, 2]"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def odd_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Odd)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["redirect", "html", "list"])
def test_redirects_and_non_json_answers_are_unavailable(odd_server: str, path: str) -> None:
    client = CentraClient(odd_server, "x")
    with pytest.raises(CentraUnavailable):
        client.request("GET", path)


def test_redirects_are_not_followed(odd_server: str) -> None:
    client = CentraClient(odd_server, "x")
    with pytest.raises(CentraUnavailable, match="302"):
        client.request("GET", "redirect")


def test_requests_exceptions_never_reach_callers(odd_server: str) -> None:
    client = CentraClient(odd_server, "x", read_timeout=0.5)
    try:
        client.request("GET", "redirect")
    except requests.RequestException:  # pragma: no cover - the failure this test looks for
        pytest.fail("a requests exception escaped the client")
    except CentraUnavailable:
        pass


@pytest.mark.parametrize("path", sorted(NOT_STRICT_JSON))
def test_json_that_could_not_be_passed_on_as_it_is_is_unavailable(
    odd_server: str, path: str
) -> None:
    """NaN/Infinity, a BOM or another encoding than UTF-8: not JSON to a browser's parser."""
    client = CentraClient(odd_server, "x")
    with pytest.raises(CentraUnavailable, match="not JSON"):
        client.request("GET", path)


def test_the_answer_is_kept_byte_for_byte(odd_server: str) -> None:
    answer = CentraClient(odd_server, "x").request("GET", "as-sent")
    assert answer.content == AS_SENT
    assert answer.data == {"b": 1, "a": "\u00e9 \u00e9 \u2028", "c": [1.5, 2000.0]}


def test_cookies_of_one_answer_never_ride_along_on_the_next_call(odd_server: str) -> None:
    """One client serves every shopper: a cookie Centra (or a load balancer) sets for one
    shopper's call must not be sent with the next shopper's."""
    client = CentraClient(odd_server, "x")
    first = client.request("GET", "cookie", token="shopper-a-token")
    second = client.request("GET", "cookie", token="shopper-b-token")
    assert first.data == second.data == {"cookieSent": None}
    assert len(client.session.cookies) == 0
