"""Hostile input: schemathesis against the BFF's own OpenAPI schema (``/api/schema/``), a
hypothesis fuzz of whole webhook requests, and oversize bodies refused with 413.

Two schemathesis runs, both bounded and derandomized. In-process over WSGI, every operation
with a few generated requests. Over HTTP, the CLI (``st run``) against the BFF under gunicorn,
as the red team ran it: every check, the examples, coverage (undeclared methods such as TRACE
included) and fuzzing phases, positive and negative data, for every operation of the schema
(catalog, checkout, accounts, staff API, webhook, health). Centra's own refusals of well-formed
input (406, 410) are declared in ``schemathesis_proxy.toml``. Proxied calls reach a sandbox of
this module's own, so the shared one's sessions and stock are left alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.webhooks import expected_signature
from storefront import embedded
from storefront.wsgi import application
from tests.catalog.cache_fixtures import BuiltCache
from tests.checkout.fixtures import gunicorn_env, start_gunicorn
from tests.conftest import SandboxProcess, start_sandbox_process

pytestmark = pytest.mark.django_db
ORIGIN = "http://shop.example"
WEBHOOK_SECRET = "fuzz-webhook-secret"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The proxied operations get every check (None: all of schemathesis's, as configured there).
PROXY_TAGS = {"checkout", "accounts"}
PROXY_CONFIG = Path(__file__).with_name("schemathesis_proxy.toml")


@pytest.fixture(scope="module")
def fuzz_sandbox() -> Iterator[SandboxProcess]:
    info, proc = start_sandbox_process(["--products", "40"])
    yield info
    embedded.stop(proc)  # type: ignore[arg-type]


@pytest.fixture
def fuzz_bff(
    cache: BuiltCache,
    fuzz_sandbox: SandboxProcess,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> BuiltCache:
    """The BFF with a built catalog, the proxy on the own sandbox, no rate limits (every call
    comes from one address), no rebuilds requested by cold reads."""
    monkeypatch.setattr("catalog.jobs.request_rebuild", lambda *, market, reason: None)
    settings.CENTRA_API_URL = fuzz_sandbox.api
    settings.CENTRA_SHARED_SECRET = fuzz_sandbox.secret
    settings.CENTRA_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.FRONTEND_ORIGINS = [ORIGIN]
    settings.RATE_LIMIT_PROXY = ""
    settings.RATE_LIMIT_AUTH = ""
    # Every failed staff login here comes from one address: left on, the limit would lock the
    # staff API for the tests after this one (it has tests of its own; its 429 is in the schema)
    settings.RATE_LIMIT_STAFF_LOGIN = ""
    return cache


FUZZ_SETTINGS = hsettings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def fuzzed(strategy: Any, checks: list[Any] | None) -> Any:
    """A hypothesis test calling the app with each case of ``strategy``, ``checks`` applied."""

    @given(case=strategy)
    @FUZZ_SETTINGS
    def run(case: Any) -> None:
        case.call_and_validate(headers={"Origin": ORIGIN}, checks=checks)

    return run


def test_the_api_answers_hostile_input_within_its_schema(fuzz_bff: BuiltCache) -> None:
    """Every operation of the schema, a few generated requests each, positive and negative
    (schemathesis's own pytest plugin is not used: its lazy loader does not run under
    pytest 9). The proxied operations get every check; the others the four basic ones."""
    config = schemathesis.config.SchemathesisConfig.from_path(PROXY_CONFIG)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        proxied = bool(PROXY_TAGS & set(operation.tags or ()))
        modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if proxied else [None]
        for mode in modes:
            strategy = operation.as_strategy(mode) if mode else operation.as_strategy()

            try:
                fuzzed(strategy, None if proxied else CHECKS)()
            except Unsatisfiable:
                if mode is not GenerationMode.NEGATIVE:
                    raise
                # no parameters and no body (GET selection): nothing to make invalid
            except Exception as e:  # collect them all, then fail once with the list
                failures.append(f"{operation.label}: {type(e).__name__}: {str(e)[:600]}")
    assert operations >= 45
    assert not failures, "\n\n".join(failures)


@pytest.fixture(scope="module")
def fuzz_server(
    redis_url: str, fuzz_sandbox: SandboxProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The BFF under gunicorn (as deployed) on this module's sandbox, no rate limits, with a
    migrated database of its own (the staff API's Basic credentials are looked up there)."""
    database = tmp_path_factory.mktemp("fuzz-db") / "db.sqlite3"
    env = gunicorn_env(
        redis_url, fuzz_sandbox, FRONTEND_ORIGINS=ORIGIN, DATABASE_URL=f"sqlite:///{database}"
    )
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    port, proc = start_gunicorn(env)
    yield f"http://127.0.0.1:{port}"
    embedded.stop(proc)


def test_schemathesis_with_every_check_finds_nothing_in_any_operation(
    fuzz_server: str, tmp_path: Path
) -> None:
    """The red team's run, bounded: ``st run --checks all`` with the examples, coverage and
    fuzzing phases (positive and negative data, undeclared methods), over HTTP."""
    st = Path(sys.executable).with_name("st")
    run = subprocess.run(
        [
            str(st),
            "--config-file",
            str(PROXY_CONFIG),
            "run",
            f"{fuzz_server}/api/schema/",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing",
            "--header",
            f"Origin: {ORIGIN}",
            "--max-examples",
            "20",
            "--seed",
            "13",
            "--generation-deterministic",
            "--workers",
            "1",
            "--continue-on-failure",
            "--no-color",
        ],
        cwd=tmp_path,  # its .schemathesis cache stays out of the tree
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    selected = re.search(r"Operations:\s+(\d+) selected", output)
    tested = re.search(r"Tested: (\d+)", output)
    assert selected, output[-3000:]
    assert tested, output[-3000:]
    # every operation of the schema was reached
    assert int(tested.group(1)) == int(selected.group(1)) >= 50, output[-3000:]


# -- oversize bodies -----------------------------------------------------------------------------


def test_oversize_proxy_bodies_are_413_before_any_upstream_call(
    fuzz_bff: BuiltCache, settings: Any
) -> None:
    settings.CHECKOUT_MAX_BODY_BYTES = 1024
    settings.CENTRA_API_URL = "http://127.0.0.1:9/api/checkout/"  # nothing may be called
    body = b'{"address": "' + b"x" * 2048 + b'"}'
    resp = Client(HTTP_ORIGIN=ORIGIN).generic(
        "PUT", "/api/checkout/payment-fields", body, content_type="application/json"
    )
    assert resp.status_code == 413
    assert set(resp.json()["errors"]) == {"body"}


@pytest.mark.parametrize("path", ["products", "uri", "categories"])
def test_oversize_catalog_queries_are_413_before_parsing(
    fuzz_bff: BuiltCache, settings: Any, path: str
) -> None:
    settings.CATALOG_MAX_BODY_BYTES = 1024
    body = b'{"search": "' + b"x" * 2048 + b'"}'
    resp = Client().post(f"/api/checkout/{path}", body, content_type="application/json")
    assert resp.status_code == 413
    assert resp.json() == {"errors": {"body": "larger than 1024 bytes"}}


def test_oversize_webhooks_are_413_before_parsing(fuzz_bff: BuiltCache, settings: Any) -> None:
    settings.WEBHOOK_MAX_BYTES = 1024
    body = b"payload=" + b"%7B" * 1000
    resp = Client().post(
        "/webhooks/centra",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_CENTRA_SIGNATURE="t=1,v1=00",
    )
    assert resp.status_code == 413
    assert resp.json() == {"errors": {"body": "larger than 1024 bytes"}}


# -- whole webhook requests ------------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(
    ["HTTP_X_CENTRA_SIGNATURE", "HTTP_X_FORWARDED_FOR", "HTTP_ACCEPT", "HTTP_CONTENT_ENCODING"]
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/json",
        "multipart/form-data; boundary=x",
        "text/plain",
        "",
    ]
)


@st.composite
def webhook_requests(draw: st.DrawFn) -> tuple[str, bytes, str, dict[str, str]]:
    body = draw(
        st.one_of(
            st.binary(max_size=400),
            st.text(max_size=200).map(lambda t: ("payload=" + t).encode()),
        )
    )
    headers = draw(st.dictionaries(HEADER_NAMES, st.text(max_size=120), max_size=3))
    if draw(st.booleans()):  # a well-formed signature over the hostile body
        t = int(time.time()) + draw(st.integers(-600, 600))
        headers["HTTP_X_CENTRA_SIGNATURE"] = (
            f"t={t},v1={expected_signature(WEBHOOK_SECRET, t, body)}"
        )
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]))
    return method, body, draw(CONTENT_TYPES), headers


@given(request=webhook_requests())
@hsettings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_whole_webhook_requests_never_get_a_5xx(
    fuzz_bff: BuiltCache, request: tuple[str, bytes, str, dict[str, str]]
) -> None:
    method, body, content_type, headers = request
    safe_headers = {k: v for k, v in headers.items() if v.isprintable() and v.isascii()}
    resp = Client().generic(
        method, "/webhooks/centra", body, content_type=content_type, **safe_headers
    )
    assert resp.status_code < 500, (resp.status_code, resp.content[:200])
    if resp.status_code >= 400 and resp.status_code != 405:
        assert "errors" in resp.json()
