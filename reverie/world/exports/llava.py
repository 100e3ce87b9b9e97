"""LLaVA conversation samples: detailed descriptions and multi-turn short-answer VQA.

Format: ``{"id", "image", "conversations": [{"from": "human", "value": "<image>\\n..."}, {"from": "gpt", ...}]}`` with
``<image>`` exactly once, in the first human turn. VQA samples also carry ``probes`` (one per question, what was
asked, no answers) so the answers can be checked against the scene graph.
"""

from __future__ import annotations

from typing import Any

from reverie.world.describe import DETAIL_PROMPT, DETAIL_PROMPTS, describe
from reverie.world.facts import SceneFacts
from reverie.world.phrases import Names
from reverie.world.probes import Probe, make_probe
from reverie.world.questions import answer, question
from reverie.world.rand import Rand

IMAGE_TOKEN = "<image>"
VQA_SUFFIX = "Answer the question using a single word or phrase."
# (question type, kind) pairs a VQA conversation draws its questions from; existence twice as often.
VQA_MIX: tuple[tuple[str, str], ...] = (
    ("yes_no", "existence"),
    ("yes_no", "existence"),
    ("short_answer", "count"),
    ("short_answer", "color"),
    ("short_answer", "position"),
    ("short_answer", "identity"),
    ("yes_no", "relation"),
    ("yes_no", "color"),
    ("yes_no", "count"),
    ("yes_no", "position"),
)


def _stem(image: str) -> str:
    return image.rsplit(".", 1)[0]


def conversation(image: str, sample_id: str, turns: list[tuple[str, str]]) -> dict[str, Any]:
    """A LLaVA sample from (human, gpt) text pairs; the image token goes in front of the first human turn."""
    messages = []
    for i, (human, gpt) in enumerate(turns):
        messages.append({"from": "human", "value": f"{IMAGE_TOKEN}\n{human}" if i == 0 else human})
        messages.append({"from": "gpt", "value": gpt})
    return {"id": sample_id, "image": image, "conversations": messages}


def caption_sample(facts: SceneFacts, rand: Rand, vary_prompt: bool) -> dict[str, Any]:
    """One detailed-description sample; ``vary_prompt`` paraphrases the instruction (train), else the canonical one."""
    prompt = rand.choice(DETAIL_PROMPTS) if vary_prompt else DETAIL_PROMPT
    text = describe(facts, Names(facts.vocab, rand), rand)
    image = facts.scene.image
    return conversation(image, f"world-{_stem(image)}-caption", [(prompt, text)])


def vqa_sample(facts: SceneFacts, rand: Rand, turns: int) -> dict[str, Any]:
    """One multi-turn VQA sample with up to ``turns`` different questions about the image."""
    names = Names(facts.vocab, rand)
    probes: list[Probe] = []
    asked: set[tuple[str, str | None]] = set()
    for qtype, kind in rand.shuffled(VQA_MIX):
        if len(probes) == turns:
            break
        probe = make_probe(qtype, kind, facts, rand)
        if probe is None or (kind, probe.category) in asked:
            continue
        asked.add((kind, probe.category))
        probes.append(probe)
    pairs = [
        (f"{question(p, facts, names, rand)}\n{VQA_SUFFIX}", answer(p, p.truth, facts, names, rand)) for p in probes
    ]
    image = facts.scene.image
    sample = conversation(image, f"world-{_stem(image)}-vqa", pairs)
    sample["probes"] = [p.record() for p in probes]
    return sample
