"""The sandbox's PNG renditions of its product images, read back with a decoder of our own
(no image library): a valid PNG (signature, chunk CRCs, one IDAT of 600x800 RGB rows) with the
garment in its swatch colour on the view's background."""

from __future__ import annotations

import struct
import zlib

import pytest

from sandbox import images

WIDTH, HEIGHT = images.WIDTH, images.HEIGHT


def decode(png: bytes) -> tuple[dict[bytes, bytes], list[bytes]]:
    """The chunks (type -> data, CRCs checked) and the pixel rows (RGB) of an unfiltered PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    at = 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data), kind
        assert kind not in chunks
        chunks[kind] = data
        at += 12 + length
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[b"IHDR"]
    )
    assert (depth, colour, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + width * 3
    assert len(raw) == stride * height
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)  # filter type none
    return chunks, [row[1:] for row in rows]


def pixel(rows: list[bytes], x: int, y: int) -> str:
    return rows[y][x * 3 : x * 3 + 3].hex()


def test_a_png_rendition_is_a_valid_png_of_the_garment_in_its_colour() -> None:
    # When
    found = images.rendition("1001-1-tshirt-2a5caa.png")

    # Then
    assert found is not None
    png, content_type = found
    assert content_type == "image/png"
    chunks, rows = decode(png)
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (WIDTH, HEIGHT)
    assert pixel(rows, 300, 400) == "2a5caa"  # the body of the t-shirt
    assert pixel(rows, 5, 5) == "f4f1ec"  # the background
    assert pixel(rows, 90, 600) == "f4f1ec"  # beside the body, below the sleeve
    assert len(png) < 40_000


@pytest.mark.parametrize(
    ("name", "inside", "background"),
    [
        ("7-2-dress-ff0000.png", images._shade("ff0000", 0.85), "f4f1ec"),  # back: shaded
        ("7-3-trousers-00ff00.png", "00ff00", "f4f1ec"),  # detail: zoomed in
        ("7-4-bag-000000.png", "000000", "e9eef2"),  # flat: its own background
    ],
)
def test_every_view_is_drawn(name: str, inside: str, background: str) -> None:
    found = images.rendition(name)
    assert found is not None
    _chunks, rows = decode(found[0])
    colours = {pixel(rows, x, y) for y in range(0, HEIGHT, 20) for x in range(0, WIDTH, 20)}
    assert colours == {inside, background}


def test_the_svg_is_still_served_by_its_own_name() -> None:
    svg = images.rendition("1001-1-tshirt-2a5caa.svg")
    bare = images.rendition("1001-1-tshirt-2a5caa")
    assert svg is not None
    assert bare is not None
    assert svg[1] == bare[1] == "image/svg+xml"
    assert svg[0].startswith(b"<svg ")
    assert images.render("1001-1-tshirt-2a5caa.png") is None


@pytest.mark.parametrize(
    "name", ["nope.png", "1-1-robot-000000.png", "1-9-tshirt-000000.png", "1-1-hat-00000g.png"]
)
def test_unknown_names_have_no_rendition(name: str) -> None:
    assert images.rendition(name) is None
