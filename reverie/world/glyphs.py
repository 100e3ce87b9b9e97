"""Glyphs: one visually distinct shape per category, drawn with PIL ImageDraw primitives.

Each glyph is data: a list of primitives in unit coordinates (0..1 across the glyph's square box). ``hole`` primitives
are painted in the background colour and always lie inside the box, so a glyph never touches pixels outside its box.
"""

from __future__ import annotations

import math

from PIL import ImageDraw

from reverie.world.grid import Box

RGB = tuple[int, int, int]
Prim = tuple[str, tuple]  # (kind, args): kind in rect, ellipse, poly, pie, hole_rect, hole_ellipse


def _regular_star(points: int, inner: float) -> list[tuple[float, float]]:
    out = []
    for k in range(2 * points):
        radius = 0.5 if k % 2 == 0 else 0.5 * inner
        angle = -math.pi / 2 + k * math.pi / points
        out.append((0.5 + radius * math.cos(angle), 0.53 + radius * math.sin(angle)))
    return out


def _crescent() -> list[tuple[float, float]]:
    """Outer circle (centre 0.5, r 0.5) minus a circle (centre 0.8, r 0.45): outer arc left, inner arc back."""
    ix = (0.25 - 0.2025 + 0.64 - 0.25) / 0.6  # x where the two circles meet
    iy = math.sqrt(0.25 - (ix - 0.5) ** 2)
    a0 = math.atan2(iy, ix - 0.5)
    b0 = math.atan2(iy, ix - 0.8)
    n = 14
    outer = [a0 + (2 * math.pi - 2 * a0) * k / n for k in range(n + 1)]
    inner = [(2 * math.pi - b0) - (2 * math.pi - 2 * b0) * k / n for k in range(n + 1)]
    pts = [(0.5 + 0.5 * math.cos(a), 0.5 + 0.5 * math.sin(a)) for a in outer]
    pts += [(0.8 + 0.45 * math.cos(b), 0.5 + 0.45 * math.sin(b)) for b in inner]
    return pts


def _x_cross(t: float) -> list[tuple[float, float]]:
    """A diagonal cross whose arms have half-width ``t`` (unit coordinates)."""
    return [
        (0, t), (t, 0), (0.5, 0.5 - t), (1 - t, 0), (1, t), (0.5 + t, 0.5),
        (1, 1 - t), (1 - t, 1), (0.5, 0.5 + t), (t, 1), (0, 1 - t), (0.5 - t, 0.5),
    ]  # fmt: skip


GLYPHS: dict[str, list[Prim]] = {
    "disc": [("ellipse", (0, 0, 1, 1))],
    "ring": [("ellipse", (0, 0, 1, 1)), ("hole_ellipse", (0.27, 0.27, 0.73, 0.73))],
    "square": [("rect", (0.05, 0.05, 0.95, 0.95))],
    "frame": [("rect", (0, 0, 1, 1)), ("hole_rect", (0.28, 0.28, 0.72, 0.72))],
    "triangle": [("poly", ((0.5, 0), (1, 1), (0, 1)))],
    "diamond": [("poly", ((0.5, 0), (1, 0.5), (0.5, 1), (0, 0.5)))],
    "star": [("poly", tuple(_regular_star(5, 0.45)))],
    "plus": [("rect", (0.33, 0, 0.67, 1)), ("rect", (0, 0.33, 1, 0.67))],
    "cross": [("poly", tuple(_x_cross(0.17)))],
    "tee": [("rect", (0, 0, 1, 0.34)), ("rect", (0.33, 0, 0.67, 1))],
    "ell": [("rect", (0, 0, 0.36, 1)), ("rect", (0, 0.64, 1, 1))],
    "hourglass": [("poly", ((0, 0), (1, 0), (0, 1), (1, 1)))],
    "chevron": [("poly", ((0, 0.1), (0.5, 0.6), (1, 0.1), (1, 0.5), (0.5, 1), (0, 0.5)))],
    "house": [("poly", ((0.5, 0), (1, 0.45), (1, 1), (0, 1), (0, 0.45)))],
    "crescent": [("poly", tuple(_crescent()))],
    "heart": [
        ("ellipse", (0, 0.05, 0.54, 0.59)),
        ("ellipse", (0.46, 0.05, 1, 0.59)),
        ("poly", ((0.03, 0.42), (0.97, 0.42), (0.5, 1))),
    ],
    "half_disc": [("pie", (0, 0.2, 1, 1.2))],
    "stripes": [("rect", (0, 0, 1, 0.22)), ("rect", (0, 0.39, 1, 0.61)), ("rect", (0, 0.78, 1, 1))],
    "checker": [("rect", (0, 0, 0.5, 0.5)), ("rect", (0.5, 0.5, 1, 1))],
    "trident": [
        ("rect", (0, 0, 0.24, 0.5)),
        ("rect", (0.38, 0, 0.62, 0.5)),
        ("rect", (0.76, 0, 1, 0.5)),
        ("rect", (0, 0.36, 1, 0.56)),
        ("rect", (0.38, 0.5, 0.62, 1)),
    ],
}


def draw_glyph(draw: ImageDraw.ImageDraw, glyph: str, box: Box, fill: RGB, background: RGB) -> None:
    """Draw ``glyph`` filling the square ``box`` (x1, y1 exclusive)."""
    x0, y0, x1, y1 = box
    s = x1 - x0

    def rect(u0: float, v0: float, u1: float, v1: float) -> tuple[int, int, int, int]:
        return (
            x0 + round(u0 * s),
            y0 + round(v0 * s),
            max(x0 + round(u0 * s), x0 + round(u1 * s) - 1),
            max(y0 + round(v0 * s), y0 + round(v1 * s) - 1),
        )

    for kind, args in GLYPHS[glyph]:
        if kind == "rect":
            draw.rectangle(rect(*args), fill=fill)
        elif kind == "hole_rect":
            draw.rectangle(rect(*args), fill=background)
        elif kind == "ellipse":
            draw.ellipse(rect(*args), fill=fill)
        elif kind == "hole_ellipse":
            draw.ellipse(rect(*args), fill=background)
        elif kind == "pie":
            draw.pieslice(rect(*args), 180, 360, fill=fill)
        elif kind == "poly":
            draw.polygon([(x0 + u * (s - 1), y0 + v * (s - 1)) for u, v in args], fill=fill)
        else:
            raise ValueError(f"unknown glyph primitive {kind!r}")
