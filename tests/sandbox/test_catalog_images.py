"""Product images served by the sandbox itself."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import requests

from tests.conftest import SandboxProcess
from tests.sandbox import TIMEOUT, products


def test_every_media_url_is_a_served_svg(sandbox: SandboxProcess) -> None:
    # given the media of a few products
    urls = [u for p in products(sandbox, {"limit": 5})["products"] for u in p["media"]["standard"]]
    assert urls
    for url in urls:
        # when
        assert url.startswith(f"{sandbox.url}/images/")
        r = requests.get(url, timeout=TIMEOUT)
        # then
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "image/svg+xml"
        root = ET.fromstring(r.content)  # noqa: S314 - our own generated SVG
        assert root.tag.endswith("svg")
        assert root.get("width") == "600"
        assert root.get("height") == "800"


def test_image_is_drawn_in_the_swatch_colour(sandbox: SandboxProcess) -> None:
    product = products(sandbox, {"limit": 1})["products"][0]
    r = requests.get(product["media"]["standard"][0], timeout=TIMEOUT)
    assert f'fill="#{product["swatch"]["hex"]}"' in r.text


def test_unknown_image_is_a_404(sandbox: SandboxProcess) -> None:
    for name in ["nope.svg", "1-1-robot-000000.svg", "1-9-tshirt-000000.svg", "..%2Fx"]:
        r = requests.get(f"{sandbox.url}/images/{name}", timeout=TIMEOUT)
        assert r.status_code == 404, name


def test_every_media_url_has_a_png_rendition(sandbox: SandboxProcess) -> None:
    # given the media of a few products
    product_list = products(sandbox, {"limit": 3})["products"]
    urls = [u for p in product_list for u in p["media"]["standard"]]
    for url in urls:
        # when the same name is asked for as .png
        r = requests.get(url.removesuffix(".svg") + ".png", timeout=TIMEOUT)
        # then a PNG of the same size, cached like the SVG
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "image/png"
        assert r.headers["Cache-Control"] == "public, max-age=86400, immutable"
        assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert r.content[12:24] == b"IHDR" + (600).to_bytes(4, "big") + (800).to_bytes(4, "big")
    assert requests.get(f"{sandbox.url}/images/nope.png", timeout=TIMEOUT).status_code == 404
