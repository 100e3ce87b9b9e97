"""Multiple-choice questions for evaluation: ``{"question_id", "image", "question", "options", "answer", "probe"}``.

Options use canonical category names; ``answer`` is the letter of the correct option (A, B, ...).
"""

from __future__ import annotations

from typing import Any

from reverie.world.facts import SceneFacts
from reverie.world.phrases import Names
from reverie.world.probes import KINDS, make_probe
from reverie.world.questions import LETTERS, option_text, question
from reverie.world.rand import Rand


def mcq_questions(facts: SceneFacts, rand: Rand, per_image: int, first_id: int) -> list[dict[str, Any]]:
    """Up to ``per_image`` questions of different kinds about one image, numbered from ``first_id``."""
    names = Names(facts.vocab)
    out: list[dict[str, Any]] = []
    for kind in rand.shuffled(sorted(set(KINDS["multiple_choice"]))):
        if len(out) == per_image:
            break
        probe = make_probe("multiple_choice", kind, facts, rand)
        if probe is None or probe.options is None:
            continue
        out.append(
            {
                "question_id": first_id + len(out),
                "image": facts.scene.image,
                "question": question(probe, facts, names, rand),
                "options": [option_text(probe, v, names) for v in probe.options],
                "answer": LETTERS[probe.options.index(probe.truth)],
                "probe": probe.record(),
            }
        )
    return out
