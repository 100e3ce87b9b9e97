"""The world's vocabulary: themes, categories (with glyphs and surface names), colours and sizes.

Everything here is plain data. Categories are ordinary nouns that captions and questions can use; each has a
distinct glyph (the name need not resemble the glyph) and 2-4 surface names that descriptions pick from and the
CHAIR synonym table maps back. Within a theme, categories are listed most popular first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Category:
    """One object category: canonical name, theme, glyph and the singular surface names used in text."""

    name: str
    theme: str
    glyph: str
    names: tuple[str, ...]  # surface names, canonical first


# theme -> [(canonical name, glyph, other surface names)], most popular first within each theme.
_THEMES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "kitchen": [
        ("cup", "ring", ("mug", "teacup")),
        ("plate", "disc", ("dish",)),
        ("fork", "trident", ("dinner fork",)),
        ("kettle", "house", ("teakettle", "teapot")),
        ("bowl", "half_disc", ("soup bowl",)),
    ],
    "garden": [
        ("flower", "star", ("blossom", "bloom")),
        ("tree", "triangle", ("sapling",)),
        ("bird", "chevron", ("songbird", "sparrow")),
        ("bee", "stripes", ("bumblebee", "honeybee")),
        ("bush", "heart", ("shrub", "hedge")),
    ],
    "office": [
        ("book", "square", ("notebook", "textbook")),
        ("pen", "ell", ("ballpoint", "ballpoint pen")),
        ("lamp", "tee", ("desk lamp",)),
        ("clock", "plus", ("wall clock", "alarm clock")),
        ("phone", "frame", ("telephone",)),
    ],
    "beach": [
        ("ball", "checker", ("beach ball",)),
        ("shell", "crescent", ("seashell",)),
        ("umbrella", "hourglass", ("parasol", "sunshade")),
        ("boat", "diamond", ("sailboat", "dinghy")),
        ("crab", "cross", ("hermit crab",)),
    ],
}

THEME_NAMES: tuple[str, ...] = tuple(_THEMES)
# Where a theme's things are found, for captions ("things you might find in a kitchen").
THEME_PLACES: dict[str, str] = {
    "kitchen": "in a kitchen",
    "garden": "in a garden",
    "office": "in an office",
    "beach": "at the beach",
}

# Colour name -> RGB. Chosen to stay distinct from each other and from the dark background.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (222, 45, 38),
    "orange": (253, 141, 20),
    "yellow": (250, 222, 50),
    "green": (49, 178, 74),
    "blue": (45, 110, 245),
    "purple": (150, 75, 215),
    "pink": (250, 130, 195),
    "white": (240, 240, 240),
}
BACKGROUND: tuple[int, int, int] = (30, 32, 40)

# Size name -> glyph side as a fraction of the cell side (less a 1 px margin on each side).
SIZES: dict[str, float] = {"small": 0.55, "medium": 0.75, "large": 1.0}


@dataclass(frozen=True)
class Vocab:
    """The categories of the selected themes, with lookup tables."""

    themes: tuple[str, ...]
    categories: tuple[Category, ...]

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    @cached_property
    def by_name(self) -> dict[str, Category]:
        return {c.name: c for c in self.categories}

    @cached_property
    def members(self) -> dict[str, tuple[str, ...]]:
        """Theme -> its category names, most popular first."""
        return {t: tuple(c.name for c in self.categories if c.theme == t) for t in self.themes}

    def synonyms(self) -> dict[str, list[str]]:
        """CHAIR synonym table: canonical name -> singular surface names (canonical included)."""
        return {c.name: list(c.names) for c in self.categories}


def make_vocab(themes: list[str] | tuple[str, ...] | None = None) -> Vocab:
    """The vocabulary of the named themes (all themes when None), in the canonical theme order."""
    if themes is None:
        chosen = THEME_NAMES
    else:
        unknown = sorted(set(themes) - set(THEME_NAMES))
        if unknown:
            raise ValueError(f"unknown theme(s) {unknown}; known themes: {', '.join(THEME_NAMES)}")
        if not themes:
            raise ValueError(f"themes must name at least one theme; known themes: {', '.join(THEME_NAMES)}")
        chosen = tuple(t for t in THEME_NAMES if t in themes)
    categories = tuple(
        Category(name=name, theme=theme, glyph=glyph, names=(name, *others))
        for theme in chosen
        for name, glyph, others in _THEMES[theme]
    )
    return Vocab(themes=chosen, categories=categories)
