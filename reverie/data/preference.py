"""Preference pairs from REVERIE records: chosen = the correct answer, rejected = the confusing one, after the same
image and question. Each pair becomes ONE sequence, a shared-prefix tree (`reverie.data.tree`): image and question
once, then a chosen and a rejected branch, so the prefix is computed once for both answers.

Every token of a pair carries its side in `EncodedSample.preference`: CHOSEN or REJECTED in the branches, SHARED in
the prefix (its supervised targets, if the answers start alike, belong to both sequences). 0 = not a pair.
"""

from __future__ import annotations

import numpy as np

from reverie.data.conversation import IMAGE_PLACEHOLDER, Conversation, Part, Segment, Turn
from reverie.data.sample import EncodedSample
from reverie.data.sources import ReverieRecord
from reverie.data.tree import build_tree

CHOSEN, REJECTED, SHARED = 1, 2, 3
SIDES = {"chosen": CHOSEN, "rejected": REJECTED}  # Conversation.meta["preference"] -> side


def side_of(conv: Conversation) -> int:
    """The side a conversation is on (0 when it is not half of a preference pair)."""
    return SIDES.get(conv.meta.get("preference", ""), 0)


def pair_conversations(record: ReverieRecord, question_prompt: str) -> list[Conversation]:
    """[chosen, rejected]: the question (laid out by `question_prompt`), answered correctly or confusingly."""
    question = question_prompt.format(question=record.question)
    if record.image is None:  # text-only record: no placeholder to show
        question = question.replace(IMAGE_PLACEHOLDER, "").lstrip("\n")
    out = []
    for side, answer in (("chosen", record.correct_answer), ("rejected", record.confusing_answer)):
        conv = Conversation(
            id=f"{record.id}:{side}",
            turns=[Turn.user(question), Turn.assistant(Part(answer, Segment.ANSWER))],
            image=record.image,
            origin=record.origin,
            meta={"preference": side},
        )
        conv.validate()
        out.append(conv)
    return out


def build_pair(chosen: EncodedSample, rejected: EncodedSample, image_token_id: int) -> EncodedSample:
    """One tree (prefix, chosen branch, rejected branch); shared targets count once (each is in both sequences)."""
    if chosen.preference.max(initial=0) != CHOSEN or rejected.preference.max(initial=0) != REJECTED:
        raise ValueError(f"samples {chosen.id}, {rejected.id} are not a chosen and a rejected answer")
    pair = build_tree([chosen, rejected], image_token_id, shared_once=True)
    pair.preference = np.where(pair.branch_ids == 0, SHARED, pair.branch_ids).astype(np.int64)
    return pair


def make_pairs(
    samples: list[EncodedSample], image_token_id: int, max_length: int
) -> tuple[list[EncodedSample], dict[str, int]]:
    """Halves of pairs -> one pair tree per (chosen, rejected) of a record; other samples pass unchanged.

    A half whose other half was skipped by the encoder, or a pair longer than `max_length`, is left out and
    counted (a pair cannot be split)."""
    halves: dict[str, dict[int, list[EncodedSample]]] = {}
    out: list[EncodedSample] = []
    for s in samples:
        side = int(s.preference.max(initial=0))
        if side:
            halves.setdefault(s.origin or s.id, {CHOSEN: [], REJECTED: []})[side].append(s)
        else:
            out.append(s)
    counts = {"pairs": 0, "pair_halves_without_partner": 0, "pairs_too_long": 0}
    for sides in halves.values():
        chosen, rejected = sides[CHOSEN], sides[REJECTED]
        counts["pair_halves_without_partner"] += abs(len(chosen) - len(rejected))
        for c, r in zip(chosen, rejected, strict=False):
            pair = build_pair(c, r, image_token_id)
            if len(pair) > max_length:
                counts["pairs_too_long"] += 1
                continue
            counts["pairs"] += 1
            out.append(pair)
    return out, counts
