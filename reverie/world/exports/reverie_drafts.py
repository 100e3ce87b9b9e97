"""The world's knowledge for REVERIE records: per scene, questions with the true and a plausible wrong answer and
both rationales, read off the scene graph. exports/reverie.py writes them as records; the annotation package's
``annotator=world`` oracle answers its pipeline from the same drafts (reverie/annotate/backends/world.py).

A draft: ``{"question", "correct_answer", "confusing_answer", "correct_rationale", "incorrect_rationale",
"question_type", "probe"}``; ``probe`` states what was asked (not the answer) so the answers can be checked against
the scene graph. Multiple-choice questions list their options in the question text.

A share ``cooccur_share`` of the drafts (exact over the drafts made, since the quota is kept as a running count; a
scene with no absent companion gets an ordinary draft and the next draft makes up for it) are co-occurrence drafts:
existence or inventory questions whose confusing answer names an absent theme-mate of the present objects, with
rationales grounded in the cells (see rationales.py). The quota draws no random numbers, so at share 0 the drafts
are those of the mix before it existed.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

from reverie.world.config import WorldConfig
from reverie.world.facts import SceneFacts
from reverie.world.phrases import Names
from reverie.world.probes import N_OPTIONS, Probe, sample_probe
from reverie.world.questions import answer, question, with_options
from reverie.world.rand import Rand
from reverie.world.rationales import rationales


def companions(facts: SceneFacts) -> list[str]:
    """Absent categories that co-occur with the present objects: a present object's theme-mates, else the scene's
    (``SceneFacts.absent_mates``, what ``llava.mate_questions`` asks about)."""
    themes = {facts.vocab.by_name[c].theme for c in facts.present}
    own = [c for c in facts.absent_mates if facts.vocab.by_name[c].theme in themes]
    return own or facts.absent_mates


def cooccur_probe(qtype: str, facts: SceneFacts, rand: Rand) -> Probe | None:
    """An existence (yes/no, multiple choice) or inventory (open-ended) probe whose wrong value is an absent
    companion; None when the scene has none."""
    mates = companions(facts)
    if not mates:
        return None
    mate = rand.choice(mates)
    if qtype == "yes_no":
        return Probe("yes_no", "existence", False, True, category=mate)
    if qtype == "multiple_choice":
        others = [c for c in rand.shuffled(facts.absent_mates) if c != mate]
        others += [c for c in rand.shuffled(facts.absent) if c not in others and c != mate]
        probe = Probe(qtype, "existence", rand.choice(facts.present), mate)
        probe.options = rand.shuffled([probe.truth, mate, *others[: N_OPTIONS - 2]])
        return probe
    truth = {c: facts.count(c) for c in facts.present}
    return Probe("open_ended", "inventory", truth, {**truth, mate: 1})


class ReverieDrafter:
    """Drafts ``per_image`` questions per scene: a ``cooccur_share`` of them co-occurrence drafts (forms drawn with
    ``cooccur_types``), the rest with question types drawn with ``type_weights``. One drafter per world, used in the
    build's order (the quota runs over every draft it makes)."""

    def __init__(
        self,
        type_weights: dict[str, float],
        per_image: int,
        cooccur_share: float = 0.0,
        cooccur_types: dict[str, float] | None = None,
    ) -> None:
        self.types = [t for t, w in type_weights.items() if w > 0]
        self.cumulative = list(accumulate(type_weights[t] for t in self.types))
        self.per_image = per_image
        self.cooccur_share = cooccur_share
        forms = cooccur_types or {"yes_no": 1.0}
        self.forms = [t for t, w in forms.items() if w > 0]
        self.form_cumulative = list(accumulate(forms[t] for t in self.forms))
        self.made = self.cooccur_made = 0  # drafts made so far, and how many were co-occurrence drafts

    @classmethod
    def for_world(cls, cfg: WorldConfig) -> ReverieDrafter:
        """The drafter a world's options describe (the build's and the annotation backend's)."""
        return cls(cfg.reverie_types, cfg.reverie_per_image, cfg.reverie_cooccur_share, cfg.reverie_cooccur_types)

    def _due(self) -> bool:
        """Whether the next draft should be a co-occurrence one, to keep the running share at ``cooccur_share``."""
        return self.cooccur_share > 0 and self.cooccur_made < self.cooccur_share * (self.made + 1) - 1e-9

    def drafts(self, facts: SceneFacts, rand: Rand) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(self.per_image * 3):  # a few retries so one image's questions differ
            if len(out) == self.per_image:
                break
            probe = cooccur_probe(rand.weighted(self.forms, self.form_cumulative), facts, rand) if self._due() else None
            grounded = probe is not None
            if probe is None:
                probe = sample_probe(rand.weighted(self.types, self.cumulative), facts, rand)
            names = Names(facts.vocab, rand)
            text = question(probe, facts, names, rand)
            if probe.options is not None:
                text = with_options(text, probe, names)
            if text in seen:
                continue
            seen.add(text)
            style = rand.random()
            positive, negative = rationales(probe, facts, names, rand, grounded=grounded)
            out.append(
                {
                    "question": text,
                    "correct_answer": answer(probe, probe.truth, facts, names, rand, style),
                    "confusing_answer": answer(probe, probe.wrong, facts, names, rand, style),
                    "correct_rationale": positive,
                    "incorrect_rationale": negative,
                    "question_type": probe.qtype,
                    "probe": probe.record(),
                }
            )
            self.made += 1
            self.cooccur_made += grounded
        return out
