"""What is really in an image: object instances with (when known) colour, size, cell and box.

Detectors produce one ``ImageTruth`` per image. ``attributes_known`` says whether attribute checks are possible
(the world's scene graph: yes; COCO boxes or an open-vocabulary detector: no, only objects and counts).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ObjectFact:
    """One object instance. ``attributes`` maps an attribute kind to its value ("color": "red")."""

    category: str
    attributes: dict[str, str] = field(default_factory=dict)
    cell: tuple[int, int] | None = None  # the world's 3x3 grid cell (row, col), when known
    box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 in pixels, when known
    score: float | None = None  # detector confidence, when it comes from a detector

    def to_dict(self) -> dict:
        out: dict = {"category": self.category, "attributes": dict(self.attributes)}
        for key in ("cell", "box", "score"):
            if getattr(self, key) is not None:
                out[key] = list(getattr(self, key)) if key != "score" else self.score
        return out


@dataclass(frozen=True)
class ImageTruth:
    """An image's objects and whether their attributes are known."""

    image: str
    objects: tuple[ObjectFact, ...]
    attributes_known: bool

    @property
    def counts(self) -> Counter[str]:
        return Counter(o.category for o in self.objects)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(o.category for o in self.objects)

    def values(self, category: str, kind: str) -> frozenset[str]:
        """The values of attribute ``kind`` among the objects of ``category`` (e.g. the colours of the mugs)."""
        return frozenset(o.attributes[kind] for o in self.objects if o.category == category and kind in o.attributes)

    def to_dict(self) -> dict:
        return {
            "image": self.image,
            "objects": [o.to_dict() for o in self.objects],
            "attributes_known": self.attributes_known,
        }
