"""CHAIR ground truth: the canonical objects in each image, the synonym table and the plural forms captions use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reverie.world.language import plural
from reverie.world.scene import Scene
from reverie.world.vocab import Vocab


def chair_objects(scenes: Sequence[Scene], vocab: Vocab) -> list[dict[str, Any]]:
    """One line per image (all splits): ``{"image", "split", "objects": [canonical names, vocabulary order]}``."""
    order = {name: i for i, name in enumerate(vocab.names)}
    return [
        {"image": s.image, "split": s.split, "objects": sorted({o.category for o in s.objects}, key=order.__getitem__)}
        for s in scenes
    ]


def chair_plurals(vocab: Vocab) -> dict[str, str]:
    """Plural surface form -> singular surface form, for every name captions may use."""
    return {plural(name): name for c in vocab.categories for name in c.names}
