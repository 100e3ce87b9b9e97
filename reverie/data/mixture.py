"""Data sources as config objects, and weighted mixtures of them.

A source's `weight` is how many times per epoch its samples are used: 1 = once, 0.5 = a seeded half, 2 = twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reverie.data.conversation import Conversation
from reverie.data.reflect import ReflectionPolicy
from reverie.data.sources import load_llava_json, load_reverie_json
from reverie.errors import InputError


@dataclass
class FileSource:
    """A data file, the folder its records' image paths are relative to, and its mixture weight."""

    path: str
    image_root: str | None = None
    weight: float = 1.0  # uses per epoch: 1 = once, 0.5 = a seeded half, 2 = twice
    name: str = ""  # shown in reports; default: the file name


@dataclass
class LlavaSource(FileSource):
    """LLaVA conversation JSON (instruction data, captions); assistant turns are segment `other`. An image that
    opens the first user turn is placed as the policy's `question_prompt` places it (the same layout everywhere)."""

    def conversations(self, policy: ReflectionPolicy) -> list[Conversation]:
        return [policy.place_image(c) for c in load_llava_json(self.path, self.image_root)]


@dataclass
class ReverieSource(FileSource):
    """REVERIE records, turned into conversations by the reflection policy."""

    def conversations(self, policy: ReflectionPolicy) -> list[Conversation]:
        return [c for r in load_reverie_json(self.path, self.image_root) for c in policy.conversations(r)]


Source = LlavaSource | ReverieSource


def source_name(source: Source) -> str:
    return source.name or Path(source.path).name


def mix(sources: list[Source], policy: ReflectionPolicy, seed: int) -> tuple[list[Conversation], dict[str, int]]:
    """All sources' conversations, each repeated/subsampled by its weight; returns them and a count per source."""
    rng = np.random.default_rng(seed)
    mixed: list[Conversation] = []
    counts: dict[str, int] = {}
    for source in sources:
        if source.weight < 0:
            raise InputError(f"data source {source_name(source)}: weight must be >= 0, got {source.weight}")
        convs = source.conversations(policy)
        whole, frac = divmod(source.weight, 1.0)
        chosen = convs * int(whole)
        extra = round(frac * len(convs))
        chosen += [convs[i] for i in sorted(rng.choice(len(convs), size=extra, replace=False))] if extra else []
        counts[source_name(source)] = len(chosen)
        mixed += chosen
    return mixed, counts
