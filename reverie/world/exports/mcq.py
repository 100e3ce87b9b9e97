"""Multiple-choice questions: evaluation rows and LLaVA training samples.

Evaluation rows are ``{"question_id", "image", "question", "options", "answer", "probe"}``. Training samples
(``mcq_samples``) are LLaVA conversations asked as LLaVA-1.5 asks (and as ``reverie.eval.MultipleChoiceTask`` and the
harnesses ask): the stem, one lettered option per line, then ``MC_SUFFIX``; the answer is the letter alone, and a
``probes`` list lets it be checked against the scene. Options use canonical category names; ``answer`` is the letter
of the correct option (A, B, ...).
"""

from __future__ import annotations

from typing import Any

from reverie.world.exports.llava import conversation
from reverie.world.facts import SceneFacts
from reverie.world.phrases import Names
from reverie.world.probes import KINDS, make_probe
from reverie.world.questions import LETTERS, option_text, question
from reverie.world.rand import Rand

MC_SUFFIX = "Answer with the option's letter from the given choices directly."  # LLaVA-1.5's option-letter instruction


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


def mcq_samples(facts: SceneFacts, rand: Rand, per_image: int, tag: str = "c") -> list[dict[str, Any]]:
    """Up to ``per_image`` LLaVA multiple-choice samples about one image (ids ``world-<image>-<tag><i>``)."""
    image = facts.scene.image
    stem = image.rsplit(".", 1)[0]
    out = []
    for i, row in enumerate(mcq_questions(facts, rand, per_image, first_id=0)):
        options = [f"{LETTERS[j]}. {text}" for j, text in enumerate(row["options"])]
        prompt = "\n".join([row["question"], *options, MC_SUFFIX])
        sample = conversation(image, f"world-{stem}-{tag}{i}", [(prompt, row["answer"])])
        sample["probes"] = [row["probe"]]
        out.append(sample)
    return out
