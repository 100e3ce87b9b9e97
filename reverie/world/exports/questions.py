"""Dense single-question samples: many short questions per image, the cheapest signal for a tiny LLM to learn to look.

A model trained on a few fixed existence questions per image memorises them; drawn densely from the same scenes
(any category can be asked about any image) it learns to match the object named in the question against the image,
and short single questions do it in the least CPU time (experiments/00). Each sample is one LLaVA conversation with one question, answered with a single word or phrase,
and a ``probes`` list (what was asked, no answer) so the answer can be checked against the scene graph.

Existence questions are about a present object with probability ``yes_share``; otherwise about an absent one,
a theme-mate of the scene with probability ``mate_share``. Real instruction data has few hard negatives: a low
``mate_share`` keeps the co-occurrence hallucination the methods target (see docs/world.md).

A share ``suffix_share`` of the questions ends with LLaVA-1.5's short-answer instruction ("\nAnswer the question using
a single word or phrase.", as in LLaVA-665k and lmms-eval's POPE prompt), so a model trained on the world answers a
harness's prompt as well as the bare question. Whether a question carries it is drawn from its own stream
(``suffix_rand``): the questions and answers are the same whatever the share.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

from reverie.world.exports.llava import VQA_SUFFIX, conversation
from reverie.world.facts import SceneFacts
from reverie.world.phrases import Names
from reverie.world.probes import Probe, existence_yes_no, make_probe
from reverie.world.questions import answer, question
from reverie.world.rand import Rand

_SHORT_KINDS = ("count", "color", "position")  # asked as a short answer or as a yes/no claim; relation as yes/no


class QuestionWriter:
    """``per_image`` single-question samples per scene, kinds drawn with the configured weights."""

    def __init__(
        self,
        kind_weights: dict[str, float],
        per_image: int,
        yes_share: float,
        mate_share: float,
        tag: str = "q",
        suffix_share: float = 0.0,
        suffix_rand: Rand | None = None,
    ) -> None:
        self.tag = tag  # sample ids are world-<image>-<tag><i>
        self.kinds = [k for k, w in kind_weights.items() if w > 0]
        self.cumulative = list(accumulate(kind_weights[k] for k in self.kinds))
        self.per_image, self.yes_share, self.mate_share = per_image, yes_share, mate_share
        if suffix_share > 0 and suffix_rand is None:
            raise ValueError("suffix_share > 0 needs suffix_rand (the stream that picks which questions carry it)")
        self.suffix_share, self.suffix_rand = suffix_share, suffix_rand

    def probe(self, facts: SceneFacts, rand: Rand) -> Probe:
        kind = rand.weighted(self.kinds, self.cumulative)
        if kind != "existence":
            qtype = "short_answer" if kind in _SHORT_KINDS and rand.chance(0.5) else "yes_no"
            probe = make_probe(qtype, kind, facts, rand)
            if probe is not None:
                return probe
        return existence_yes_no(facts, rand, self.yes_share, self.mate_share)  # also when a kind is impossible

    def samples(self, facts: SceneFacts, rand: Rand) -> list[dict[str, Any]]:
        image = facts.scene.image
        stem = image.rsplit(".", 1)[0]
        out = []
        for i in range(self.per_image):
            probe = self.probe(facts, rand)
            names = Names(facts.vocab, rand)
            text = question(probe, facts, names, rand)
            if self.suffix_rand is not None and self.suffix_rand.chance(self.suffix_share):
                text = f"{text}\n{VQA_SUFFIX}"
            pair = (text, answer(probe, probe.truth, facts, names, rand))
            sample = conversation(image, f"world-{stem}-{self.tag}{i}", [pair])
            sample["probes"] = [probe.record()]
            out.append(sample)
        return out
