"""Description pairs for preference training, in the REVERIE format: the world's exact description of an image
(correct answer) and the same description with one inserted sentence about an absent companion of the present
objects (confusing answer), so DPO's rejected side is the hallucination CHAIR counts. Rationales say what each cell
holds and why the inserted object is not there (rationales.description_rationales).

Format: ``{"id": "world-<stem>-d0", "image", "question", "correct_answer", "confusing_answer", "correct_rationale",
"incorrect_rationale", "question_type": "open_ended", "probe": {"kind": "description", "category": <inserted>,
"cell": <where>}}``. A scene with no absent companion gets no pair.
"""

from __future__ import annotations

import re
from typing import Any

from reverie.world.describe import DETAIL_PROMPTS, describe
from reverie.world.exports.reverie_drafts import companions
from reverie.world.facts import SceneFacts
from reverie.world.grid import CELLS
from reverie.world.language import capitalize, position_phrase, with_article
from reverie.world.phrases import Names
from reverie.world.rand import Rand
from reverie.world.rationales import description_rationales
from reverie.world.vocab import COLORS

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def inserted(description: str, sentence: str, after: str) -> str:
    """``description`` with ``sentence`` after its first sentence that names ``after`` (else at the end)."""
    parts = _SENTENCE.split(description)
    at = next((i + 1 for i, p in enumerate(parts) if re.search(rf"\b{re.escape(after)}", p)), len(parts))
    return " ".join([*parts[:at], sentence, *parts[at:]])


def description_pair(facts: SceneFacts, rand: Rand, vary_prompt: bool) -> dict[str, Any] | None:
    """One pair for a scene, or None when nothing co-occurring is absent."""
    mates = companions(facts)
    if not mates:
        return None
    names = Names(facts.vocab, rand)
    prompt = rand.choice(DETAIL_PROMPTS) if vary_prompt else DETAIL_PROMPTS[0]
    correct = describe(facts, names, rand)
    stem = facts.scene.image.rsplit(".", 1)[0]
    return description_record(facts, rand, names, f"world-{stem}-d0", prompt, correct, rand.choice(mates))


def description_record(
    facts: SceneFacts, rand: Rand, names: Names, record_id: str, prompt: str, correct: str, absent: str
) -> dict[str, Any]:
    """A REVERIE record: ``correct`` (the scene's description) vs the same with a sentence adding ``absent``, in an
    empty cell (an occupied one when the grid is full), after the sentence about a present object of its theme."""
    theme = facts.vocab.by_name[absent].theme
    friend = next((c for c in facts.present if facts.vocab.by_name[c].theme == theme), facts.present[0])
    empty = [c for c in CELLS if c not in facts.cell_of]
    cell = rand.choice(empty) if empty else rand.choice(sorted(facts.cell_of))
    added = rand.choice(
        (
            f"There is also {with_article(f'{rand.choice(tuple(COLORS))} {names(absent)}')} {position_phrase(cell, rand)}.",
            f"{capitalize(position_phrase(cell, rand))} there is {with_article(names(absent))}.",
        )
    )
    wrong = inserted(correct, added, names(friend) if len(facts.by_category[friend]) == 1 else names.plural(friend))
    positive, negative = description_rationales(facts, names, rand, absent, cell)
    return {
        "id": record_id,
        "image": facts.scene.image,
        "question": prompt,
        "correct_answer": correct,
        "confusing_answer": wrong,
        "correct_rationale": positive,
        "incorrect_rationale": negative,
        "question_type": "open_ended",
        "probe": {"kind": "description", "category": absent, "cell": list(cell)},
    }
