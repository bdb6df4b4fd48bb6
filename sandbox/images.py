"""Product images: a simple garment silhouette in the swatch colour, as SVG.

Image names carry everything needed to draw them (``<product>-<n>-<shape>-<hex>``), so an
image stays servable whatever happens to the product later, and no lookup is needed.
"""

from __future__ import annotations

import re

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
_NAME = re.compile(r"^(\d+)-(\d+)-([a-z]+)-([0-9a-f]{6})(?:\.svg)?$")


def _shade(hexcode: str, factor: float) -> str:
    """The colour made darker (factor < 1) or lighter (factor > 1), for outlines and views."""
    rgb = [int(hexcode[i : i + 2], 16) for i in (0, 2, 4)]
    if factor < 1:
        rgb = [round(c * factor) for c in rgb]
    else:
        rgb = [round(c + (255 - c) * (factor - 1)) for c in rgb]
    return "".join(f"{max(0, min(255, c)):02x}" for c in rgb)


def render(name: str) -> bytes | None:
    """The SVG for an image name, or None when the name is not one of ours."""
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
