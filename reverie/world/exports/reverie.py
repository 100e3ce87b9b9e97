"""REVERIE records: a question with a correct and a confusing answer, and a rationale for each.

Format: ``{"id", "image", "question", "correct_answer", "confusing_answer", "correct_rationale",
"incorrect_rationale", "question_type", "probe"}``; ``probe`` states what was asked (not the answer) so the answers
can be checked against the scene graph. Multiple-choice questions list their options in the question text.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

from reverie.world.facts import SceneFacts
from reverie.world.phrases import Names
from reverie.world.probes import sample_probe
from reverie.world.questions import answer, question, with_options
from reverie.world.rand import Rand
from reverie.world.rationales import rationales


class ReverieWriter:
    """Makes ``per_image`` records per scene, question types drawn with the configured weights."""

    def __init__(self, type_weights: dict[str, float], per_image: int) -> None:
        self.types = [t for t, w in type_weights.items() if w > 0]
        self.cumulative = list(accumulate(type_weights[t] for t in self.types))
        self.per_image = per_image

    def records(self, facts: SceneFacts, rand: Rand) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        stem = facts.scene.image.rsplit(".", 1)[0]
        for _ in range(self.per_image * 3):  # a few retries so one image's questions differ
            if len(out) == self.per_image:
                break
            qtype = rand.weighted(self.types, self.cumulative)
            probe = sample_probe(qtype, facts, rand)
            names = Names(facts.vocab, rand)
            text = question(probe, facts, names, rand)
            if probe.options is not None:
                text = with_options(text, probe, names)
            if text in seen:
                continue
            seen.add(text)
            style = rand.random()
            positive, negative = rationales(probe, facts, names, rand)
            out.append(
                {
                    "id": f"world-{stem}-r{len(out)}",
                    "image": facts.scene.image,
                    "question": text,
                    "correct_answer": answer(probe, probe.truth, facts, names, rand, style),
                    "confusing_answer": answer(probe, probe.wrong, facts, names, rand, style),
                    "correct_rationale": positive,
                    "incorrect_rationale": negative,
                    "question_type": qtype,
                    "probe": probe.record(),
                }
            )
        return out
