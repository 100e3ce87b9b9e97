"""CHAIR task: ground truth from annotations and reference captions, hand-counted CHAIR on written captions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_lines

from reverie.eval import ChairTask, EvalDataError, EvalPrediction
from reverie.eval.tasks.chair import CAPTION_PROMPT

SYNONYMS = {
    "cup": ["mug", "teacup"],
    "plate": ["dish"],
    "fork": ["dinner fork"],
    "ball": ["beach ball"],
    "traffic cone": ["cone"],
    "person": ["man", "woman", "people"],
}


@pytest.fixture
def files(tmp_path: Path, make_image) -> dict[str, Path]:
    make_image("k1.jpg")
    make_image("k2.png")
    make_image("k3.jpg")
    synonyms = tmp_path / "synonyms.json"
    synonyms.write_text(json.dumps(SYNONYMS))
    annotations = write_lines(
        tmp_path / "chair.jsonl",
        [
            {"image": "k1.jpg", "objects": ["cup", "Plates"]},
            {"image": "k2.png", "objects": ["fork", "traffic cone"]},
            {"image": "k3.jpg", "objects": ["ball"]},
        ],
    )
    references = write_lines(tmp_path / "refs.jsonl", [{"image": "k3.jpg", "caption": "A woman throws a beach ball."}])
    return {"synonyms": synonyms, "annotations": annotations, "references": references}


def test_ground_truth_is_annotations_and_reference_objects(files: dict[str, Path], tmp_path: Path) -> None:
    task = ChairTask(
        files["annotations"], tmp_path / "images", synonyms=files["synonyms"], references=files["references"]
    )
    assert [q.question_id for q in task.questions] == ["k1.jpg", "k2.png", "k3.jpg"]
    assert [q.label for q in task.questions] == [["cup", "plate"], ["fork", "traffic cone"], ["ball", "person"]]
    assert task.questions[0].prompt == CAPTION_PROMPT


def test_chair_on_hand_written_captions(files: dict[str, Path], tmp_path: Path) -> None:
    task = ChairTask(
        files["annotations"],
        tmp_path / "images",
        synonyms=files["synonyms"],
        references=files["references"],
        prompt="Describe.",
    )
    captions = [
        "Two mugs stand beside a dish and a dinner fork.</s>",  # cup, plate, fork(hallucinated): 3 mentions, 1 bad
        "Orange traffic cones and a fork; also cones.",  # traffic cone, fork, traffic cone: 3 mentions, 0 bad
        "A man holds beach balls next to two plates.",  # person (from the reference), ball, plate (bad)
    ]
    metrics, records = task.score([EvalPrediction(q, c) for q, c in zip(task.questions, captions, strict=True)])
    # mentions 3 + 3 + 3 = 9, hallucinated 1 + 0 + 1 = 2; captions with a hallucination: 2 of 3
    assert metrics["chair/chair_i"] == pytest.approx(2 / 9)
    assert metrics["chair/chair_s"] == pytest.approx(2 / 3)
    # ground truth 2 + 2 + 2 = 6 objects; mentioned: cup, plate | fork, traffic cone | ball, person = 6
    assert metrics["chair/recall"] == pytest.approx(6 / 6)
    assert records[0].parsed == ["cup", "plate", "fork"]
    assert records[0].details["hallucinated"] == [{"text": "dinner fork", "category": "fork"}]
    assert records[0].answer == "Two mugs stand beside a dish and a dinner fork."
    assert [r.correct for r in records] == [False, True, False]
    assert task.questions[0].prompt == "Describe."


def test_default_vocabulary_is_coco(files: dict[str, Path], tmp_path: Path) -> None:
    path = write_lines(tmp_path / "coco.jsonl", [{"image": "k1.jpg", "objects": ["dining table", "person"]}])
    task = ChairTask(path, tmp_path / "images")
    assert task.questions[0].label == ["dining table", "person"]
    assert task.describe()["inputs"]["synonyms"].endswith("coco_synonyms.json")


def test_bad_inputs_name_file_and_line(files: dict[str, Path], tmp_path: Path) -> None:
    bad = write_lines(
        tmp_path / "bad.jsonl", [{"image": "k1.jpg", "objects": ["cup"]}, {"image": "k2.png", "objects": ["unicorn"]}]
    )
    with pytest.raises(EvalDataError, match=r"bad.jsonl:2: object 'unicorn' is not in the synonym table"):
        ChairTask(bad, tmp_path / "images", synonyms=files["synonyms"])
    missing = write_lines(tmp_path / "missing.jsonl", [{"image": "k1.jpg"}])
    with pytest.raises(EvalDataError, match=r"missing.jsonl:1: missing key 'objects'"):
        ChairTask(missing, tmp_path / "images", synonyms=files["synonyms"])
    refs = write_lines(tmp_path / "refs2.jsonl", [{"image": "other.jpg", "caption": "A cup."}])
    with pytest.raises(EvalDataError, match=r"refs2.jsonl:1: reference caption for 'other.jpg'"):
        ChairTask(files["annotations"], tmp_path / "images", synonyms=files["synonyms"], references=refs)
