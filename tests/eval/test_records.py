"""Result files: per-sample JSONL and a metrics document with parser, generation config and seed."""

from __future__ import annotations

import json
from pathlib import Path

from sample_files import write_lines

from reverie.eval import EvalPrediction, PopeTask, write_results


def test_write_results(tmp_path: Path, make_image) -> None:
    make_image("a.jpg")
    rows = [
        {"question_id": "q1", "image": "a.jpg", "text": "Is there a cup?", "label": "yes"},
        {"question_id": "q2", "image": "a.jpg", "text": "Is there a dog?", "label": "no"},
    ]
    task = PopeTask(write_lines(tmp_path / "pope_random.jsonl", rows), tmp_path / "images", parser="strict")
    result = task.score([EvalPrediction(task.questions[0], "Yes."), EvalPrediction(task.questions[1], "Maybe")])
    generation = {"max_new_tokens": 16, "do_sample": False, "batch_size": 8}
    document = write_results(tmp_path / "out", task.name, result, info=task.describe(), generation=generation, seed=3)

    saved = json.loads((tmp_path / "out" / "pope_random.metrics.json").read_text())
    assert saved == document
    assert saved["task"] == "pope/random"
    assert saved["parser"] == "strict"
    assert saved["split_rationale"] is True
    assert saved["generation"] == generation
    assert saved["seed"] == 3
    assert saved["num_samples"] == 2
    assert saved["metrics"]["pope/random/unknown"] == 1
    assert saved["inputs"]["questions"].endswith("pope_random.jsonl")

    lines = (tmp_path / "out" / "pope_random.samples.jsonl").read_text().splitlines()
    samples = [json.loads(line) for line in lines]
    assert samples[0]["question_id"] == "q1"
    assert samples[0]["image"] == str((tmp_path / "images" / "a.jpg").resolve())
    assert samples[0]["prompt"] == "Is there a cup?"
    assert (samples[0]["output"], samples[0]["parsed"], samples[0]["label"], samples[0]["correct"]) == (
        "Yes.",
        "yes",
        "yes",
        True,
    )
    assert samples[1]["parsed"] == "unknown" and samples[1]["correct"] is False
    assert {sample["parser"] for sample in samples} == {"strict"}
