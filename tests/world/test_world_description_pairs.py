"""Description pairs (reverie/descriptions_{split}.json): the correct description names exactly the objects present;
the confusing one is the same text plus one sentence about an absent companion of the present objects, checked
against scenes.jsonl; the rationales say what the cells hold and name the invented object."""

from __future__ import annotations

import re
from pathlib import Path

from world_oracle import Oracle, read_json

REQUIRED = {"id", "image", "question", "correct_answer", "confusing_answer", "correct_rationale", "incorrect_rationale"}


def test_description_pairs_insert_one_absent_companion(default_world: dict[str, Path], default_oracle: Oracle) -> None:
    oracle = default_oracle
    themes = {c: t for t, members in read_json(default_world["cooccurrence"])["themes"].items() for c in members}
    total = 0
    for split in ("train", "val", "test"):
        pairs = read_json(default_world[f"reverie.descriptions.{split}"])
        images = {s["image"] for s in oracle.scenes.values() if s["split"] == split}
        assert len({p["id"] for p in pairs}) == len(pairs) and {p["image"] for p in pairs} <= images
        assert len(pairs) >= 0.8 * len(images)  # only scenes without an absent companion are left out
        total += len(pairs)
        for p in pairs:
            assert set(p) >= REQUIRED and p["probe"]["kind"] == "description"
            image, present = p["image"], oracle.present(p["image"])
            correct, wrong = p["correct_answer"], p["confusing_answer"]
            assert set(oracle.mentions(correct)) == present, correct
            (added,) = set(oracle.mentions(wrong)) - present
            assert added == p["probe"]["category"] and added not in present
            assert themes[added] in {themes[c] for c in present} | {oracle.scenes[image]["theme"]}
            sentences, wrong_sentences = re.split(r"(?<=\.)\s+", correct), re.split(r"(?<=\.)\s+", wrong)
            extra = [s for s in wrong_sentences if s not in sentences]
            assert len(extra) == 1 and [s for s in wrong_sentences if s != extra[0]] == sentences, (correct, wrong)
            assert oracle.cell_in(extra[0]) == p["probe"]["cell"], extra[0]
            if len(oracle.objects(image)) < 9:
                assert p["probe"]["cell"] not in [o["cell"] for o in oracle.objects(image)]
            assert set(oracle.mentions(p["correct_rationale"])) <= present
            assert added in oracle.mentions(p["incorrect_rationale"])
    assert total > 50
