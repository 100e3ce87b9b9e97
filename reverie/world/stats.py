"""Measured object statistics: per-category image frequency, instance counts and co-occurrence counts.

POPE's popular and adversarial sampling rank categories by exactly these tables (computed over the images of the
split being probed); ``cooccurrence.json`` records them for the whole world and for each split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from reverie.world.scene import Scene
from reverie.world.vocab import Vocab


class Stats:
    """Frequency and co-occurrence over a set of scenes (image-level: a category counts once per image)."""

    def __init__(self, scenes: Sequence[Scene], vocab: Vocab) -> None:
        self.vocab = vocab
        index = {name: i for i, name in enumerate(vocab.names)}
        present = np.zeros((len(scenes), len(index)), dtype=np.int64)
        instances = np.zeros(len(index), dtype=np.int64)
        for row, scene in enumerate(scenes):
            for obj in scene.objects:
                present[row, index[obj.category]] = 1
                instances[index[obj.category]] += 1
        co = present.T @ present
        np.fill_diagonal(co, 0)
        names = vocab.names
        self.images = len(scenes)
        self.frequency: dict[str, int] = {n: int(v) for n, v in zip(names, present.sum(axis=0), strict=True)}
        self.instances: dict[str, int] = {n: int(v) for n, v in zip(names, instances, strict=True)}
        self.cooccurrence: dict[str, dict[str, int]] = {
            a: {b: int(co[i, j]) for j, b in enumerate(names) if i != j} for i, a in enumerate(names)
        }

    def by_frequency(self) -> list[str]:
        """Categories seen in at least one image, most frequent first (ties in vocabulary order)."""
        ranked = sorted(self.vocab.names, key=lambda n: -self.frequency[n])
        return [n for n in ranked if self.frequency[n] > 0]

    def by_cooccurrence(self, category: str) -> list[str]:
        """Categories seen together with ``category`` at least once, most often first (ties in vocabulary order)."""
        row = self.cooccurrence[category]
        return [n for n in sorted(row, key=lambda n: -row[n]) if row[n] > 0]

    def same_theme_share(self) -> float:
        """Share of co-occurrences (pairs of distinct categories in one image) whose categories share a theme."""
        theme = {c.name: c.theme for c in self.vocab.categories}
        total = same = 0
        for a, row in self.cooccurrence.items():
            for b, n in row.items():
                total += n
                same += n if theme[a] == theme[b] else 0
        return same / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "frequency": self.frequency,
            "instances": self.instances,
            "cooccurrence": self.cooccurrence,
            "same_theme_share": round(self.same_theme_share(), 4),
        }


def stats_table(by_split: dict[str, Sequence[Scene]], vocab: Vocab) -> dict[str, Any]:
    """The content of cooccurrence.json: themes, categories, and the tables for all images and for each split."""
    all_scenes = [s for scenes in by_split.values() for s in scenes]
    return {
        "definitions": {
            "frequency": "number of images that contain the category",
            "instances": "number of objects of the category",
            "cooccurrence": "cooccurrence[a][b] = number of images that contain both a and b",
            "same_theme_share": "share of co-occurring category pairs that belong to the same theme",
        },
        "themes": dict(vocab.members),
        "categories": list(vocab.names),
        "splits": {"all": Stats(all_scenes, vocab).to_dict()}
        | {name: Stats(scenes, vocab).to_dict() for name, scenes in by_split.items()},
    }
