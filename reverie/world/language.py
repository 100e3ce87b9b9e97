"""Grammar and word choice shared by every text the world writes: articles, plurals, numbers, lists, positions.

Position phrases always name exactly one cell, and only use the words top/upper, bottom/lower, left and right for
the cell's row and column (a phrase without a row word means the middle row, without a column word the centre
column), so any reader can map a phrase back to its cell.
"""

from __future__ import annotations

from collections.abc import Sequence

from reverie.world.grid import Cell
from reverie.world.rand import Rand

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SIZE_WORDS: dict[str, tuple[str, ...]] = {
    "small": ("small", "little"),
    "medium": ("medium-sized", "mid-sized"),
    "large": ("large", "big"),
}

# Cell -> phrases that place something in that cell ("the mug is {phrase}"); the first is the plainest.
_CORNER = ("in the {r}-{c} corner", "at the {r} {c}", "in the {ur}-{c} corner", "in the {r}-{c} cell")
_EDGE_ROW = (
    "at the {r} center",
    "in the middle of the {r} row",
    "in the {r}-center cell",
    "at the center of the {r} row",
)
_EDGE_COL = (
    "at the middle {c}",
    "in the middle of the {c} column",
    "in the middle-{c} cell",
    "halfway down the {c} side",
)
_CENTER = ("in the center", "in the middle of the image", "in the central cell", "in the very middle")
_ROW = ("top", "middle", "bottom")
_UPPER = ("upper", "middle", "lower")
_COL = ("left", "center", "right")

RELATION_PHRASES: dict[str, tuple[str, ...]] = {
    "left_of": ("to the left of", "left of", "on the left side of"),
    "right_of": ("to the right of", "right of", "on the right side of"),
    "above": ("above", "higher up than", "over"),
    "below": ("below", "beneath", "lower down than"),
    "next_to": ("next to", "beside", "adjacent to"),
}


def article(word: str) -> str:
    """'a' or 'an' by the first letter, as POPE does."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def with_article(word: str) -> str:
    return f"{article(word)} {word}"


def plural(word: str) -> str:
    """Plural of a (possibly two-word) noun; the vocabulary only needs the regular rules."""
    if word.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        return word[:-1] + "ies"
    return word + "s"


def number_word(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def counted(n: int, word: str) -> str:
    """'one mug', 'three mugs'."""
    return f"{number_word(n)} {word if n == 1 else plural(word)}"


def join(items: Sequence[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def position_phrases(cell: Cell) -> tuple[str, ...]:
    """Every phrase for a cell, plainest first."""
    r, c = cell
    if (r, c) == (1, 1):
        return _CENTER
    if r != 1 and c != 1:
        templates = _CORNER
    elif r != 1:
        templates = _EDGE_ROW
    else:
        templates = _EDGE_COL
    return tuple(t.format(r=_ROW[r], ur=_UPPER[r], c=_COL[c]) for t in templates)


def position_phrase(cell: Cell, rand: Rand | None = None) -> str:
    """A phrase for a cell: the plainest without ``rand``, a random one with it."""
    phrases = position_phrases(cell)
    return rand.choice(phrases) if rand is not None else phrases[0]


def size_word(size: str, rand: Rand) -> str:
    return rand.choice(SIZE_WORDS[size])


def relation_phrase(relation: str, rand: Rand | None = None) -> str:
    phrases = RELATION_PHRASES[relation]
    return rand.choice(phrases) if rand is not None else phrases[0]
