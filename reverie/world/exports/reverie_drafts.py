"""The world's knowledge for REVERIE records: per scene, questions with the true and a plausible wrong answer and
both rationales, read off the scene graph. The world's ``annotator=world`` oracle answers the annotation pipeline
from these drafts (see exports/reverie.py, which turns them into records through that pipeline).

A draft: ``{"question", "correct_answer", "confusing_answer", "correct_rationale", "incorrect_rationale",
"question_type", "probe"}``; ``probe`` states what was asked (not the answer) so the answers can be checked against
the scene graph. Multiple-choice questions list their options in the question text.
"""

from __future__ import annotations

import json
from itertools import accumulate
from pathlib import Path
from typing import Any

from reverie.world.config import WorldConfig
from reverie.world.facts import SceneFacts
from reverie.world.phrases import Names
from reverie.world.probes import sample_probe
from reverie.world.questions import answer, question, with_options
from reverie.world.rand import Rand
from reverie.world.rationales import rationales
from reverie.world.scene import sample_scenes
from reverie.world.vocab import make_vocab


class ReverieDrafter:
    """Drafts ``per_image`` questions per scene, question types drawn with the configured weights."""

    def __init__(self, type_weights: dict[str, float], per_image: int) -> None:
        self.types = [t for t, w in type_weights.items() if w > 0]
        self.cumulative = list(accumulate(type_weights[t] for t in self.types))
        self.per_image = per_image

    def drafts(self, facts: SceneFacts, rand: Rand) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
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


def world_drafts(world_dir: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Image file name -> drafts, for a built world: its scenes are sampled again from the manifest's options and
    drafted in the build's order, so they equal the build's own; a world whose scenes.jsonl differs from what this
    code samples (another version) is refused."""
    from reverie.world.build import MANIFEST, SPLITS, load_manifest  # here: the build itself imports this module

    files = load_manifest(world_dir)
    manifest = json.loads((Path(files["scenes"]).parent / MANIFEST).read_text(encoding="utf-8"))
    cfg = WorldConfig(**manifest["options"])
    vocab = make_vocab(cfg.themes)
    scenes = sample_scenes(cfg, vocab)
    with open(files["scenes"], encoding="utf-8") as f:
        on_disk = [json.loads(line) for line in f]
    if on_disk != [s.to_record(vocab, cfg.image_size) for s in scenes]:
        raise ValueError(f"{files['scenes']}: the scenes differ from what this reverie samples for the world's options")
    drafter = ReverieDrafter(cfg.reverie_types, cfg.reverie_per_image)
    rand = Rand(cfg.seed, "reverie")  # the build's stream, consumed in the build's order
    return {s.image: drafter.drafts(SceneFacts(s, vocab), rand) for split in SPLITS for s in scenes if s.split == split}
