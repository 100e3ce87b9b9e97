"""SceneFacts: the questions a generator asks of a scene graph (counts, colours, cells, absent theme-mates).

Exports use these to decide what to ask and what is true. Tests deliberately do not: they recompute the truth from
the scene records on disk.
"""

from __future__ import annotations

from functools import cached_property

from reverie.world.grid import CELLS, Cell, mirror_cell
from reverie.world.rand import Rand
from reverie.world.scene import Obj, Scene
from reverie.world.vocab import COLORS, Vocab


class SceneFacts:
    """Derived views of one scene."""

    def __init__(self, scene: Scene, vocab: Vocab) -> None:
        self.scene = scene
        self.vocab = vocab
        self.by_category: dict[str, list[Obj]] = {}
        for obj in scene.objects:
            self.by_category.setdefault(obj.category, []).append(obj)
        self.present: list[str] = list(self.by_category)  # reading order of first appearance
        self.absent: list[str] = [c for c in vocab.names if c not in self.by_category]
        self.singles: list[str] = [c for c, objs in self.by_category.items() if len(objs) == 1]
        self.cell_of: dict[Cell, Obj] = {o.cell: o for o in scene.objects}

    def count(self, category: str) -> int:
        return len(self.by_category.get(category, ()))

    def single(self, category: str) -> Obj:
        """The only object of a category (callers ask only for categories in ``singles``)."""
        return self.by_category[category][0]

    @cached_property
    def absent_mates(self) -> list[str]:
        """Absent categories that share a theme with the scene or with any present object: tempting hallucinations."""
        themes = {self.scene.theme} | {self.vocab.by_name[c].theme for c in self.present}
        return [c for c in self.absent if self.vocab.by_name[c].theme in themes]

    def tempting_absent(self, rand: Rand, mate_share: float = 1.0) -> str | None:
        """An absent category: a theme-mate with probability ``mate_share`` (when one exists), else any absent one."""
        if self.absent_mates and rand.chance(mate_share):
            return rand.choice(self.absent_mates)
        return rand.choice(self.absent) if self.absent else None

    def other_color(self, category: str, rand: Rand) -> str:
        """A colour no object of ``category`` has: preferably one another object in the scene really has."""
        own = {o.color for o in self.by_category.get(category, ())}
        seen = [o.color for o in self.scene.objects if o.color not in own]
        if seen:
            return rand.choice(seen)
        return rand.choice([c for c in COLORS if c not in own])

    def other_cell(self, cell: Cell, rand: Rand, avoid: set[Cell] | None = None) -> Cell:
        """The mirror image of ``cell`` when it is free of ``avoid``, else a random other cell."""
        avoid = (avoid or set()) | {cell}
        mirror = mirror_cell(cell)
        if mirror is not None and mirror not in avoid:
            return mirror
        return rand.choice([c for c in CELLS if c not in avoid])

    def colour_owner(self, color: str, category: str) -> Obj | None:
        """Another object (not of ``category``) that has ``color``, if any."""
        for obj in self.scene.objects:
            if obj.color == color and obj.category != category:
                return obj
        return None
