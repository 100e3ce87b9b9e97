"""Scene sampling with theme co-occurrence bias, and the scene-graph record written for each image.

A scene picks a theme, a number of objects and that many distinct cells. Each object comes from the scene's theme
with probability ``bias_strength`` and otherwise from all categories; in both cases categories are weighted by
popularity (``popularity_skew``), so some are more frequent than others. Categories may repeat, which gives counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from reverie.world.config import WorldConfig
from reverie.world.grid import CELLS, Cell, glyph_box, position_name, relations_between
from reverie.world.rand import Rand
from reverie.world.vocab import COLORS, SIZES, Vocab


@dataclass(frozen=True)
class Obj:
    """One object drawn in a scene."""

    category: str
    color: str
    size: str
    cell: Cell
    offset: tuple[float, float]  # placement of the glyph within its cell, see grid.glyph_box


@dataclass(frozen=True)
class Scene:
    """One image's ground truth. Objects are in reading order of their cells."""

    index: int
    image: str  # file name inside the images folder, e.g. "000123.png"
    split: str
    theme: str  # the theme the scene was drawn around
    objects: tuple[Obj, ...]

    def to_record(self, vocab: Vocab, image_size: int) -> dict[str, Any]:
        """The scene graph as written to scenes.jsonl."""
        objects = [
            {
                "id": i,
                "category": o.category,
                "theme": vocab.by_name[o.category].theme,
                "color": o.color,
                "size": o.size,
                "cell": list(o.cell),
                "position": position_name(o.cell),
                "bbox": list(glyph_box(o.cell, SIZES[o.size], o.offset, image_size)),
            }
            for i, o in enumerate(self.objects)
        ]
        relations = [
            {"subject": i, "relation": rel, "object": j}
            for i, a in enumerate(self.objects)
            for j, b in enumerate(self.objects)
            if i != j
            for rel in relations_between(a.cell, b.cell)
        ]
        return {
            "image": self.image,
            "split": self.split,
            "theme": self.theme,
            "objects": objects,
            "relations": relations,
        }


class SceneSampler:
    """Draws scenes for a config; the weights are prepared once."""

    def __init__(self, cfg: WorldConfig, vocab: Vocab) -> None:
        self.cfg = cfg
        self.vocab = vocab
        weight = {
            name: 1.0 / (rank + 1) ** cfg.popularity_skew
            for members in vocab.members.values()
            for rank, name in enumerate(members)
        }
        self._all = (vocab.names, list(accumulate(weight[n] for n in vocab.names)))
        self._theme = {t: (m, list(accumulate(weight[n] for n in m))) for t, m in vocab.members.items()}
        self._colors = tuple(COLORS)
        self._sizes = tuple(SIZES)

    def sample(self, rand: Rand, index: int, image: str, split: str) -> Scene:
        cfg = self.cfg
        theme = rand.choice(self.vocab.themes)
        n = rand.between(cfg.min_objects, cfg.max_objects)
        cells = sorted(rand.sample(CELLS, n))
        objects = []
        for cell in cells:
            names, cumulative = self._theme[theme] if rand.chance(cfg.bias_strength) else self._all
            category = rand.weighted(names, cumulative)
            color = rand.choice(self._colors)
            size = rand.choice(self._sizes)
            objects.append(Obj(category, color, size, cell, (round(rand.random(), 3), round(rand.random(), 3))))
        return Scene(index=index, image=image, split=split, theme=theme, objects=tuple(objects))


def assign_splits(cfg: WorldConfig) -> list[str]:
    """Split name of each image index: contiguous blocks train, val, test (scenes are i.i.d., so blocks are fair)."""
    sizes = cfg.split_sizes()
    return [name for name, n in sizes.items() for _ in range(n)]


def image_name(index: int, num_images: int) -> str:
    """Zero-padded PNG file name, at least six digits: 000123.png."""
    return f"{index:0{max(6, len(str(num_images - 1)))}d}.png"


def sample_scenes(cfg: WorldConfig, vocab: Vocab) -> list[Scene]:
    """All scenes of the world, in image order."""
    rand = Rand(cfg.seed, "scenes")
    sampler = SceneSampler(cfg, vocab)
    splits = assign_splits(cfg)
    return [sampler.sample(rand, i, image_name(i, cfg.num_images), splits[i]) for i in range(cfg.num_images)]
