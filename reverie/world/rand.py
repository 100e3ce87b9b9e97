"""Rand: a fast, seeded random source on top of numpy's Generator.

Each stage of the build gets its own stream (``Rand(seed, stream)``), so changing how many REVERIE records are made
does not change the scenes or the POPE files. Floats are drawn from the Generator in blocks and served one at a time,
which is much faster than calling ``Generator.choice`` per pick on small Python lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

# One stream id per stage of the build.
STREAMS: dict[str, int] = {
    "scenes": 1,
    "captions": 2,
    "vqa": 3,
    "reverie": 4,
    "pope": 5,
    "mme": 6,
    "mcq": 7,
    "questions": 8,
    "mate_questions": 9,
    "amber": 231,  # AMBER-style yes/no questions (amber/{split}/, reverie.world.exports.amber)
    "questions_suffix": 241,  # which dense questions carry LLaVA's short-answer instruction
    "mcq_train": 242,  # multiple-choice training samples (llava/mcq_{split}.json)
    "descriptions": 201,  # description pairs for DPO (reverie/descriptions_{split}.json)
}


class Rand:
    """Seeded random choices. Never touches a global RNG."""

    def __init__(self, seed: int, stream: str, block: int = 4096) -> None:
        self._gen = np.random.default_rng([seed, STREAMS[stream]])
        self._block = block
        self._buf: list[float] = []
        self._i = 0

    def random(self) -> float:
        """A float in [0, 1)."""
        if self._i >= len(self._buf):
            self._buf = self._gen.random(self._block).tolist()
            self._i = 0
        self._i += 1
        return self._buf[self._i - 1]

    def below(self, n: int) -> int:
        """An int in [0, n)."""
        return min(int(self.random() * n), n - 1)

    def between(self, low: int, high: int) -> int:
        """An int in [low, high], both ends included."""
        return low + self.below(high - low + 1)

    def chance(self, p: float) -> bool:
        return self.random() < p

    def choice(self, seq: Sequence[T]) -> T:
        if not seq:
            raise IndexError("choice from an empty sequence")
        return seq[self.below(len(seq))]

    def sample(self, seq: Sequence[T], k: int) -> list[T]:
        """k distinct items in random order (partial Fisher-Yates)."""
        pool = list(seq)
        k = min(k, len(pool))
        for i in range(k):
            j = i + self.below(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def shuffled(self, seq: Sequence[T]) -> list[T]:
        return self.sample(seq, len(seq))

    def weighted(self, items: Sequence[T], cumulative: Sequence[float]) -> T:
        """One item, with probability proportional to its weight; ``cumulative`` holds the running weight sums."""
        x = self.random() * cumulative[-1]
        for item, edge in zip(items, cumulative, strict=True):
            if x < edge:
                return item
        return items[-1]
