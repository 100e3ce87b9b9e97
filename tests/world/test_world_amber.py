"""The world's AMBER-style set: AMBER's layout, labels recomputed from the scene records, and read by AmberTask."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from world_oracle import Oracle, read_json

from reverie.eval.tasks.amber import AmberTask
from reverie.eval.tasks.base import EvalPrediction

KIND_TYPE = {
    "existence": "discriminative-hallucination",
    "color": "discriminative-attribute-state",
    "count": "discriminative-attribute-number",
    "relation": "discriminative-relation",
}


@pytest.mark.parametrize("split", ["val", "test"])
def test_amber_files_hold_the_scene_truth(world: dict[str, Path], oracle: Oracle, split: str) -> None:
    queries = read_json(world[f"amber.{split}.query_all"])
    notes = {n["id"]: n for n in read_json(world[f"amber.{split}.annotations"])}
    assert [q["id"] for q in queries] == list(range(1, len(queries) + 1)) == sorted(notes)
    images = {s for s, scene in oracle.scenes.items() if scene["split"] == split}
    together: Counter = Counter()  # image-level co-occurrence in the split, recomputed from the scenes
    for image in images:
        present = oracle.present(image)
        together.update((a, b) for a in present for b in present if a != b)
    described = set()
    for q in queries:
        note = notes[q["id"]]
        if note["type"] == "generative":
            described.add(q["image"])
            assert q["query"] == "Describe this image." and set(note["truth"]) == oracle.present(q["image"])
            assert not set(note["hallu"]) & set(note["truth"])
            assert all(any(together[(t, h)] for t in note["truth"]) for h in note["hallu"]), note
        else:
            assert note["type"] == KIND_TYPE[note["probe"]["kind"]]
            assert oracle.yes_no_truth(q["image"], note["probe"]) == (note["truth"] == "yes"), (q, note)
    assert described == images
    parts = [world[f"amber.{split}.query_generative"], world[f"amber.{split}.query_discriminative"]]
    assert sorted(q["id"] for p in parts for q in read_json(p)) == [q["id"] for q in queries]
    dims = [f"amber.{split}.query_discriminative-{d}" for d in ("existence", "attribute", "relation")]
    assert sorted(q["id"] for d in dims for q in read_json(world[d])) == [q["id"] for q in read_json(parts[1])]


def test_amber_task_reads_the_world_and_perfect_answers_score_one(default_world: dict[str, Path]) -> None:
    w = default_world
    task = AmberTask(
        w["amber.test.query_all"], w["amber.test.annotations"], w["amber.relation"], w["amber.safe_words"], w["images"]
    )
    perfect = [
        EvalPrediction(q, " and ".join(q.label["truth"]) if q.meta["type"] == "generative" else q.label.capitalize())
        for q in task.questions
    ]
    metrics = task.score(perfect).metrics
    assert metrics["amber/generative/chair"] == 0 and metrics["amber/generative/cover"] == 1
    assert metrics["amber/discriminative/f1"] == 1 and metrics["amber/score"] == 1
    assert {"amber/existence/f1", "amber/attribute/f1", "amber/relation/f1"} <= set(metrics)
