"""The purge interface, and its three implementations, chosen by each ``EDGE_PURGE_URLS``
entry's scheme:

* ``http://host:port/`` (or https): Varnish with the ``xkey`` vmod, as ``edge/default.vcl``
  sets it up: ``PURGE /`` with the keys space-separated in an ``xkey-purge`` header (the vmod's
  documented form); the VCL lets only local and private addresses purge.
* ``fastly://<api token>@<service id>``: Fastly's surrogate-key purge, ``POST
  /service/{service_id}/purge`` with ``Surrogate-Key: k1 k2`` and ``Fastly-Key: <token>``, at
  most 256 keys a call.
* ``cloudflare://<api token>@<zone id>``: Cloudflare's cache-tag purge, ``POST
  /client/v4/zones/{zone_id}/purge_cache`` with ``{"tags": [...]}`` and ``Authorization:
  Bearer <token>``, at most 30 tags a call.

``?api=http://127.0.0.1:9999`` on a Fastly or Cloudflare URL sends to another API base (the
tests' stand-in). A purge that did not take (refused, an error status, no answer) raises
:class:`PurgeFailed`; the task retries it. A URL's :func:`label` names it without its secret
(task arguments and logs show labels only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

import requests
from django.conf import settings

from storefront.edge.keys import batches

log = logging.getLogger(__name__)

FASTLY_API = "https://api.fastly.com"
CLOUDFLARE_API = "https://api.cloudflare.com"
VARNISH_HEADER = "xkey-purge"
# Varnish's request header limit is 8 KiB (http_req_hdr_len): a purge header stays well below.
VARNISH_MAX_CHARS = 4000
FASTLY_MAX_KEYS = 256
CLOUDFLARE_MAX_TAGS = 30


class PurgeFailed(Exception):
    """An edge did not confirm a purge; retrying is safe (a purge is idempotent)."""


class Purger(Protocol):
    @property
    def label(self) -> str:
        """The edge's URL without its secret."""

    def purge(self, keys: list[str]) -> None:
        """Throw away everything tagged with any of ``keys``, or raise PurgeFailed."""


def _post(method: str, url: str, **kwargs: object) -> requests.Response:
    try:
        resp = requests.request(
            method,
            url,
            timeout=float(settings.EDGE_PURGE_TIMEOUT),
            allow_redirects=False,
            **kwargs,  # type: ignore[arg-type]
        )
    except requests.RequestException as e:
        raise PurgeFailed(f"{type(e).__name__}: {e}") from None
    if resp.status_code >= 300:
        raise PurgeFailed(f"HTTP {resp.status_code}: {resp.text[:200]}")
    return resp


@dataclass(frozen=True)
class VarnishPurger:
    url: str
    label: str

    def purge(self, keys: list[str]) -> None:
        for batch in batches(keys, max_keys=1000, max_chars=VARNISH_MAX_CHARS):
            _post("PURGE", self.url, headers={VARNISH_HEADER: " ".join(batch)})


@dataclass(frozen=True)
class FastlyPurger:
    service_id: str
    token: str
    api: str
    label: str

    def purge(self, keys: list[str]) -> None:
        url = f"{self.api}/service/{quote(self.service_id, safe='')}/purge"
        for batch in batches(keys, max_keys=FASTLY_MAX_KEYS):
            _post(
                "POST",
                url,
                headers={
                    "Fastly-Key": self.token,
                    "Surrogate-Key": " ".join(batch),
                    "Accept": "application/json",
                },
            )


@dataclass(frozen=True)
class CloudflarePurger:
    zone_id: str
    token: str
    api: str
    label: str

    def purge(self, keys: list[str]) -> None:
        url = f"{self.api}/client/v4/zones/{quote(self.zone_id, safe='')}/purge_cache"
        for batch in batches(keys, max_keys=CLOUDFLARE_MAX_TAGS):
            resp = _post(
                "POST",
                url,
                headers={"Authorization": f"Bearer {self.token}"},
                json={"tags": batch},
            )
            try:
                ok = resp.json().get("success") is True
            except ValueError:
                ok = False
            if not ok:
                raise PurgeFailed(f"Cloudflare did not confirm: {resp.text[:200]}")


def label(url: str) -> str:
    """``url`` without its secret: kind, host (or service/zone id) and path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def purger(url: str) -> Purger:
    """The purger one ``EDGE_PURGE_URLS`` entry names; ValueError for one it cannot read."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError(f"edge purge URL without a host: {label(url)}")
        return VarnishPurger(url=url, label=label(url))
    api = parse_qs(parts.query).get("api", [""])[-1].rstrip("/")
    # Not .hostname/.username: they lower-case, and Fastly's service ids are mixed case.
    userinfo, _, target = parts.netloc.rpartition("@")
    token = unquote(userinfo)
    if not token or not target:
        raise ValueError(f"edge purge URL needs <token>@<id>: {label(url)}")
    if scheme == "fastly":
        return FastlyPurger(service_id=target, token=token, api=api or FASTLY_API, label=label(url))
    if scheme == "cloudflare":
        return CloudflarePurger(
            zone_id=target, token=token, api=api or CLOUDFLARE_API, label=label(url)
        )
    raise ValueError(f"unknown edge purge kind {scheme!r} (http, https, fastly, cloudflare)")


def configured() -> list[Purger]:
    """Every edge of ``EDGE_PURGE_URLS``; one that cannot be read is logged and left out."""
    out: list[Purger] = []
    for url in settings.EDGE_PURGE_URLS:
        try:
            out.append(purger(url))
        except ValueError as e:
            log.error("EDGE_PURGE_URLS: %s", e)
    return out
