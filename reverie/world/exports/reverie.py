"""REVERIE records of the world, made by the annotation pipeline (reverie.annotate) with the world's exact oracle
as annotator, so the world's REVERIE data and anyone's come from one path.

Format: ``{"id", "image", "question", "correct_answer", "confusing_answer", "correct_rationale",
"incorrect_rationale", "question_type", "probe"}`` (see exports/reverie_drafts.py for what the oracle knows).
"""

from __future__ import annotations

from typing import Any

from reverie.annotate.backends.world import WorldOracle
from reverie.annotate.images import ImageRef
from reverie.annotate.pipeline import PipelineSettings, annotate
from reverie.annotate.prompts import Prompts
from reverie.annotate.runner import Runner
from reverie.annotate.stats import Stats
from reverie.world.exports.reverie_drafts import ReverieDrafter
from reverie.world.facts import SceneFacts
from reverie.world.rand import Rand


class ReverieWriter:
    """Makes ``per_image`` records per scene, question types drawn with the configured weights."""

    def __init__(self, type_weights: dict[str, float], per_image: int) -> None:
        self.drafter = ReverieDrafter(type_weights, per_image)
        self.prompts = Prompts.default()
        self.settings = PipelineSettings(questions_per_image=max(1, per_image), accept_fewer=True, max_attempts=1)

    def records(self, facts: SceneFacts, rand: Rand) -> list[dict[str, Any]]:
        name = facts.scene.image
        drafts = self.drafter.drafts(facts, rand)
        if not drafts:
            return []
        oracle = WorldOracle(drafts={name: drafts})
        result = annotate([ImageRef(name, None)], oracle, self.prompts, self.settings, Runner(oracle, Stats()))
        lost = [(r["id"], r["reason"]) for r in result.filter if not r["kept"]] + result.failures
        if lost or len(result.records) != len(drafts):  # the oracle's records pass every rule; anything else is a bug
            raise RuntimeError(f"world image {name}: the pipeline kept {len(result.records)} of {len(drafts)}: {lost}")
        return result.records
