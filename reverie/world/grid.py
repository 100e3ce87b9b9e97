"""The 3x3 grid: cell geometry, position names, spatial relations and their mirror images.

Cells are (row, col) with (0, 0) at the top left. Relations between two cells are defined on the grid:
``left_of`` = smaller column, ``right_of`` = larger column, ``above`` = smaller row, ``below`` = larger row (rows and
columns compared independently, so a diagonal pair is e.g. both left_of and above), ``next_to`` = sharing an edge.
"""

from __future__ import annotations

from reverie.world.config import GRID

Cell = tuple[int, int]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels; x1 and y1 exclusive

CELLS: tuple[Cell, ...] = tuple((r, c) for r in range(GRID) for c in range(GRID))
ROW_NAMES = ("top", "middle", "bottom")
COL_NAMES = ("left", "center", "right")
RELATIONS = ("left_of", "right_of", "above", "below", "next_to")
_MIRROR = {"left_of": "right_of", "right_of": "left_of", "above": "below", "below": "above"}


def position_name(cell: Cell) -> str:
    """Canonical short name of a cell: 'top left', 'top center', 'middle left', 'center', ..."""
    r, c = cell
    if (r, c) == (1, 1):
        return "center"
    return f"{ROW_NAMES[r]} {COL_NAMES[c]}"


def cell_box(cell: Cell, image_size: int) -> Box:
    """Pixel box of a cell; edges are rounded so any image size splits into three near-equal cells."""
    r, c = cell
    edge = [round(i * image_size / GRID) for i in range(GRID + 1)]
    return edge[c], edge[r], edge[c + 1], edge[r + 1]


def glyph_box(cell: Cell, size_fraction: float, offset: tuple[float, float], image_size: int) -> Box:
    """Pixel box of a glyph: a square of ``size_fraction`` of the cell (inside a 1 px margin), shifted by ``offset``.

    ``offset`` = (dx, dy) in [0, 1]: where the glyph sits within the room the cell leaves it (0.5 = centred).
    """
    x0, y0, x1, y1 = cell_box(cell, image_size)
    x0, y0, x1, y1 = x0 + 1, y0 + 1, x1 - 1, y1 - 1
    side = max(3, round(size_fraction * min(x1 - x0, y1 - y0)))
    gx = x0 + round((x1 - x0 - side) * offset[0])
    gy = y0 + round((y1 - y0 - side) * offset[1])
    return gx, gy, gx + side, gy + side


def holds(relation: str, a: Cell, b: Cell) -> bool:
    """Whether ``a`` stands in ``relation`` to ``b``."""
    (ra, ca), (rb, cb) = a, b
    if relation == "left_of":
        return ca < cb
    if relation == "right_of":
        return ca > cb
    if relation == "above":
        return ra < rb
    if relation == "below":
        return ra > rb
    if relation == "next_to":
        return abs(ra - rb) + abs(ca - cb) == 1
    raise ValueError(f"unknown relation {relation!r}")


def relations_between(a: Cell, b: Cell) -> list[str]:
    """All relations ``a`` has to ``b``."""
    return [rel for rel in RELATIONS if holds(rel, a, b)]


def mirror_relation(relation: str) -> str | None:
    """left_of <-> right_of, above <-> below; next_to has no mirror."""
    return _MIRROR.get(relation)


def mirror_cell(cell: Cell) -> Cell | None:
    """The cell across the vertical axis (or, in the centre column, across the horizontal one); None for the centre."""
    r, c = cell
    if c != 1:
        return r, GRID - 1 - c
    if r != 1:
        return GRID - 1 - r, c
    return None
