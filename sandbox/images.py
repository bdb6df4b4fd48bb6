"""Product images: a simple garment silhouette in the swatch colour, as SVG and as PNG.

Image names carry everything needed to draw them (``<product>-<n>-<shape>-<hex>``), so an
image stays servable whatever happens to the product later, and no lookup is needed. The
``media`` URLs name the SVG (``.svg``); the same name with ``.png`` is a raster rendition of
it (the silhouette filled, without outline or caption), for what takes no SVG: ``og:image``,
structured data. The PNG is drawn in pure Python (a scanline fill, ``zlib`` and ``struct``).
"""

from __future__ import annotations

import math
import re
import struct
import zlib
from functools import lru_cache

WIDTH = 600
HEIGHT = 800

# Silhouettes on a 600x800 canvas, as SVG path data.
SHAPES: dict[str, str] = {
    "tshirt": "M180 140 L250 110 Q300 150 350 110 L420 140 L520 250 L450 300 L420 270 "
    "L420 660 L180 660 L180 270 L150 300 L80 250 Z",
    "shirt": "M190 130 L260 100 L300 160 L340 100 L410 130 L500 300 L500 640 L450 640 L440 330 "
    "L420 300 L420 680 L180 680 L180 300 L160 330 L150 640 L100 640 L100 300 Z",
    "sweater": "M180 130 L250 110 Q300 140 350 110 L420 130 L500 320 L490 660 L440 660 L430 330 "
    "L420 680 L180 680 L170 330 L160 660 L110 660 L100 320 Z",
    "dress": "M230 110 L270 110 Q300 140 330 110 L370 110 L380 300 L470 690 L130 690 L220 300 Z",
    "trousers": "M190 110 L410 110 L440 700 L330 700 L300 300 L270 700 L160 700 Z",
    "bag": "M170 300 L430 300 L460 650 L140 650 Z M230 300 Q230 170 300 170 Q370 170 370 300 "
    "L350 300 Q350 190 300 190 Q250 190 250 300 Z",
    "hat": "M160 470 Q160 230 300 230 Q440 230 440 470 Z M130 470 L470 470 L470 530 L130 530 Z",
    "shoe": "M110 520 L140 380 L250 380 Q300 460 390 470 L490 500 Q520 520 510 580 L110 580 Z",
}
VIEWS = {1: "front", 2: "back", 3: "detail", 4: "flat"}
_NAME = re.compile(r"^(\d+)-(\d+)-([a-z]+)-([0-9a-f]{6})(?:\.(svg|png))?$")
SVG = "image/svg+xml"
PNG = "image/png"
# Line segments per quadratic curve when the PNG is drawn.
CURVE_STEPS = 12


def _shade(hexcode: str, factor: float) -> str:
    """The colour made darker (factor < 1) or lighter (factor > 1), for outlines and views."""
    rgb = [int(hexcode[i : i + 2], 16) for i in (0, 2, 4)]
    if factor < 1:
        rgb = [round(c * factor) for c in rgb]
    else:
        rgb = [round(c + (255 - c) * (factor - 1)) for c in rgb]
    return "".join(f"{max(0, min(255, c)):02x}" for c in rgb)


def _drawing(name: str) -> tuple[str, str, str, str, str, str, str] | None:
    """(product, view, path, fill, outline, background, viewBox) of an image name; None when
    the name is not one of ours."""
    m = _NAME.match(name)
    if m is None:
        return None
    product, view_no, shape, hexcode = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    path = SHAPES.get(shape)
    if path is None or view_no not in VIEWS:
        return None
    view = VIEWS[view_no]
    fill = _shade(hexcode, 0.85) if view == "back" else hexcode
    outline = _shade(hexcode, 0.6) if hexcode != "000000" else "555555"
    background = "f4f1ec" if view != "flat" else "e9eef2"
    # The detail view zooms into the upper middle of the garment.
    view_box = "150 100 300 400" if view == "detail" else f"0 0 {WIDTH} {HEIGHT}"
    return product, view, path, fill, outline, background, view_box


def render(name: str) -> bytes | None:
    """The SVG for an image name, or None when the name is not one of ours."""
    drawing = _drawing(name) if not name.endswith(".png") else None
    if drawing is None:
        return None
    product, view, path, fill, outline, background, view_box = drawing
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="{view_box}">'
        f"<title>Product {product}, {view}</title>"
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#{background}"/>'
        f'<path d="{path}" fill="#{fill}" stroke="#{outline}" stroke-width="6" '
        f'stroke-linejoin="round" fill-rule="evenodd"/>'
        f'<text x="{WIDTH // 2}" y="{HEIGHT - 40}" font-family="sans-serif" font-size="28" '
        f'text-anchor="middle" fill="#777777">{view}</text>'
        "</svg>"
    )
    return svg.encode()


def rendition(name: str) -> tuple[bytes, str] | None:
    """The image and its content type: PNG for a name ending ``.png``, else SVG; None when the
    name is not one of ours."""
    if name.endswith(".png"):
        png = render_png(name)
        return (png, PNG) if png is not None else None
    svg = render(name)
    return (svg, SVG) if svg is not None else None


# -- the PNG rendition -------------------------------------------------------------------------


def _polygons(path: str) -> list[list[tuple[float, float]]]:
    """The closed outlines of SVG path data made of M, L, Q and Z (quadratic curves as line
    segments)."""
    tokens = re.findall(r"[MLQZ]|-?\d+(?:\.\d+)?", path)
    polygons: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    command = ""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.isalpha():
            command = token
            i += 1
            if command == "Z" and current:
                polygons.append(current)
                current = []
            continue
        if command == "Q":
            cx, cy, x, y = (float(t) for t in tokens[i : i + 4])
            x0, y0 = current[-1]
            for step in range(1, CURVE_STEPS + 1):
                t = step / CURVE_STEPS
                a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
                current.append((a * x0 + b * cx + c * x, a * y0 + b * cy + c * y))
            i += 4
            continue
        point = (float(tokens[i]), float(tokens[i + 1]))
        if command == "M" and current:
            polygons.append(current)
            current = []
        current.append(point)
        i += 2
    if current:
        polygons.append(current)
    return polygons


def _spans(polygons: list[list[tuple[float, float]]], view_box: str) -> list[list[tuple[int, int]]]:
    """Per pixel row, the [start, end) pixel spans inside the shape (even-odd rule)."""
    vx, vy, vw, vh = (float(v) for v in view_box.split())
    sx, sy = vw / WIDTH, vh / HEIGHT
    edges = [
        (poly[k], poly[(k + 1) % len(poly)])
        for poly in polygons
        for k in range(len(poly))
        if poly[k][1] != poly[(k + 1) % len(poly)][1]
    ]
    rows: list[list[tuple[int, int]]] = []
    for py in range(HEIGHT):
        y = vy + (py + 0.5) * sy
        xs = sorted(
            x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            for (x0, y0), (x1, y1) in edges
            if (y0 <= y < y1) or (y1 <= y < y0)
        )
        row: list[tuple[int, int]] = []
        for left, right in zip(xs[::2], xs[1::2], strict=False):
            start = max(0, math.ceil((left - vx) / sx - 0.5))
            end = min(WIDTH, math.ceil((right - vx) / sx - 0.5))
            if end > start:
                row.append((start, end))
        rows.append(row)
    return rows


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(rows: list[bytes], width: int, height: int) -> bytes:
    """A PNG (8-bit RGB) of ``height`` rows of ``width`` RGB pixels each."""
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 (none) per row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


@lru_cache(maxsize=128)
def render_png(name: str) -> bytes | None:
    """The PNG rendition of an image name (600x800, the silhouette filled in its colour on the
    view's background), or None when the name is not one of ours."""
    drawing = _drawing(name)
    if drawing is None:
        return None
    _product, _view, path, fill, _outline, background, view_box = drawing
    back = bytes.fromhex(background)
    paint = bytes.fromhex(fill)
    blank = back * WIDTH
    rows: list[bytes] = []
    for spans in _spans(_polygons(path), view_box):
        if not spans:
            rows.append(blank)
            continue
        row = bytearray(blank)
        for start, end in spans:
            row[start * 3 : end * 3] = paint * (end - start)
        rows.append(bytes(row))
    return png_bytes(rows, WIDTH, HEIGHT)
