"""Chunked request bodies on proxied calls (issue 13, item 7), through real gunicorn.

Django reads a body by its Content-Length only, so a chunked body used to reach Centra as an
empty one (``Content-Length: 0``): a mutating call went on without its body. The proxy now
reads the chunked body whole, within ``CHECKOUT_MAX_BODY_BYTES`` (413 beyond), and a body that
is cut off or malformed is a 400: nothing of it reaches Centra.

The requests are written byte by byte on a socket, so the framing is exactly the test's.
"""

from __future__ import annotations

import json
import socket
import uuid

from tests.checkout import fixtures
from tests.checkout.fixtures import BffServer, sandbox_log

_proxy_settings = fixtures._proxy_settings
own_sandbox = fixtures.own_sandbox
bff_server = fixtures.bff_server

VOUCHER = "PERCENT10"  # one of the sandbox's codes


def send_raw(server: BffServer, head: str, body: bytes, *, half_close: bool = False) -> bytes:
    """Send ``head`` (request line and headers, CRLF-separated, no blank line) and ``body``
    as they are; with ``half_close`` the client then stops sending (a body cut off) and only
    reads. Returns the whole answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\nConnection: close\r\n\r\n" + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def status_and_json(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body.strip() else {}


def chunked(*parts: bytes) -> bytes:
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"


def session_token(server: BffServer) -> str:
    head = f"GET /api/checkout/selection HTTP/1.1\r\nHost: 127.0.0.1:{server.port}"
    status, body = status_and_json(send_raw(server, head, b""))
    assert status == 200
    token = body["token"]
    assert isinstance(token, str)
    return token


def post_head(server: BffServer, path: str, token: str, cid: str, *extra: str) -> str:
    return "\r\n".join(
        [
            f"POST /api/checkout/{path} HTTP/1.1",
            f"Host: 127.0.0.1:{server.port}",
            "Content-Type: application/json",
            f"API-token: {token}",
            f"X-Correlation-ID: {cid}",
            *extra,
        ]
    )


def reached_centra(server: BffServer, cid: str) -> list[dict[str, object]]:
    return [e for e in sandbox_log(server.sandbox) if e["headers"].get("X-Correlation-ID") == cid]


def test_a_chunked_body_reaches_centra_whole(bff_server: BffServer) -> None:
    # Given a session, and a voucher sent as a chunked body in three chunks
    token = session_token(bff_server)
    cid = uuid.uuid4().hex
    body = json.dumps({"voucher": VOUCHER}).encode()
    framed = chunked(body[:5], body[5:9], body[9:])

    # When it is posted
    head = post_head(bff_server, "vouchers", token, cid, "Transfer-Encoding: chunked")
    status, answer = status_and_json(send_raw(bff_server, head, framed))

    # Then Centra got the body (not an empty one: "voucher required") and applied the code
    assert status == 200, answer
    vouchers = answer["selection"]["discounts"]["vouchers"]  # type: ignore[index]
    assert [v["voucher"] for v in vouchers] == [VOUCHER]
    (entry,) = reached_centra(bff_server, cid)
    assert "Transfer-Encoding" not in entry["headers"]  # type: ignore[operator]


def test_a_chunked_body_over_the_limit_is_413_and_goes_nowhere(bff_server: BffServer) -> None:
    token = session_token(bff_server)
    cid = uuid.uuid4().hex
    # 80 KiB, over CHECKOUT_MAX_BODY_BYTES (64 KiB), in 1 KiB chunks with no length anywhere
    body = json.dumps({"voucher": VOUCHER, "pad": "x" * 80 * 1024}).encode()
    framed = chunked(*(body[i : i + 1024] for i in range(0, len(body), 1024)))
    head = post_head(bff_server, "vouchers", token, cid, "Transfer-Encoding: chunked")

    status, answer = status_and_json(send_raw(bff_server, head, framed))

    assert status == 413
    assert answer == {"errors": {"body": "larger than 65536 bytes"}}
    assert reached_centra(bff_server, cid) == []


def test_a_chunked_body_cut_off_is_400_and_goes_nowhere(bff_server: BffServer) -> None:
    token = session_token(bff_server)
    cid = uuid.uuid4().hex
    body = json.dumps({"voucher": VOUCHER}).encode()
    # The chunk promises 64 bytes, 10 come, then the client stops sending
    framed = b"40\r\n" + body[:10]
    head = post_head(bff_server, "vouchers", token, cid, "Transfer-Encoding: chunked")

    status, answer = status_and_json(send_raw(bff_server, head, framed, half_close=True))

    assert status == 400
    assert answer == {"errors": {"body": "the chunked body is malformed or incomplete"}}
    assert reached_centra(bff_server, cid) == []


def test_a_chunked_body_without_its_last_chunk_is_400(bff_server: BffServer) -> None:
    token = session_token(bff_server)
    cid = uuid.uuid4().hex
    body = json.dumps({"voucher": VOUCHER}).encode()
    framed = f"{len(body):x}\r\n".encode() + body + b"\r\n"  # no "0" chunk: it never ends
    head = post_head(bff_server, "vouchers", token, cid, "Transfer-Encoding: chunked")

    status, answer = status_and_json(send_raw(bff_server, head, framed, half_close=True))

    assert status == 400
    assert "body" in answer["errors"]  # type: ignore[operator]
    assert reached_centra(bff_server, cid) == []


def test_another_transfer_coding_is_refused_before_any_call(bff_server: BffServer) -> None:
    token = session_token(bff_server)
    cid = uuid.uuid4().hex
    body = json.dumps({"voucher": VOUCHER}).encode()
    head = post_head(bff_server, "vouchers", token, cid, "Transfer-Encoding: gzip, chunked")

    status, _ = status_and_json(send_raw(bff_server, head, chunked(body)))

    # gunicorn itself refuses a coding it cannot decode (501); we refuse anything but chunked
    assert status in {411, 501}
    assert reached_centra(bff_server, cid) == []


def test_a_server_that_does_not_end_the_body_gets_411() -> None:
    """Django's own servers pass a chunked body on undecoded, with no end of the stream
    promised (no ``wsgi.input_terminated``): the proxy cannot know where the body ends, so it
    asks for a length instead of guessing."""
    from django.test import Client

    from tests.checkout.fixtures import FRONTEND

    answer = Client(HTTP_ORIGIN=FRONTEND).generic(
        "POST",
        "/api/checkout/vouchers",
        chunked(json.dumps({"voucher": VOUCHER}).encode()),
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert answer.status_code == 411
    assert answer.json() == {"errors": {"body": "send a Content-Length"}}
