"""REVERIE records of the world, written straight from the world's drafts (exports/reverie_drafts.py).

Format: ``{"id", "image", "question", "correct_answer", "confusing_answer", "correct_rationale",
"incorrect_rationale", "question_type", "probe"}``, ids ``world-<image stem>-r<n>``: the records the annotation
pipeline makes from the same drafts with ``annotator=world`` (tests/annotate/test_world_backend.py holds the two
equal). The world does not import the annotation package; its world backend imports the world.
"""

from __future__ import annotations

from typing import Any

from reverie.world.exports.reverie_drafts import ReverieDrafter
from reverie.world.facts import SceneFacts
from reverie.world.rand import Rand

ID_PREFIX = "world-"
RECORD_KEYS = ("question", "correct_answer", "confusing_answer", "correct_rationale", "incorrect_rationale")


class ReverieWriter:
    """Makes ``per_image`` records per scene (see ReverieDrafter for the mix); one writer per world, in build order."""

    def __init__(self, drafter: ReverieDrafter) -> None:
        self.drafter = drafter

    def records(self, facts: SceneFacts, rand: Rand) -> list[dict[str, Any]]:
        name = facts.scene.image
        stem = name.rsplit(".", 1)[0]
        return [
            {
                "id": f"{ID_PREFIX}{stem}-r{j}",
                "image": name,
                **{k: d[k].strip() for k in RECORD_KEYS},
                "question_type": d["question_type"],
                "probe": d["probe"],
            }
            for j, d in enumerate(self.drafter.drafts(facts, rand))
        ]
