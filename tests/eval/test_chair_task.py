"""CHAIR task: ground truth from annotations and reference captions, hand-counted CHAIR on written captions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sample_files import write_lines

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

    silent, _ = task.score([EvalPrediction(q, "A plain picture.") for q in task.questions])
    assert silent["chair/chair_i"] is None and silent["chair/mentions"] == 0  # undefined: summaries write null


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


def test_cooccurrence_share_of_hallucinations_against_chance(
    files: dict[str, Path], tmp_path: Path, make_image
) -> None:
    for name in ("a.png", "b.png", "c.png", "d.png"):
        make_image(name)
    path = write_lines(
        tmp_path / "co.jsonl",
        [
            {"image": "a.png", "objects": ["cup", "plate"]},
            {"image": "b.png", "objects": ["cup", "plate"]},
            {"image": "c.png", "objects": ["fork", "ball"]},
            {"image": "d.png", "objects": ["cup"]},
        ],
    )
    task = ChairTask(path, tmp_path / "images", synonyms=files["synonyms"], cooccur_top_k=1)
    assert task.cooccurring["cup"] == {"plate"} and task.cooccurring["fork"] == {"ball"}
    captions = [
        "A cup, a plate and a fork.",  # fork: hallucinated, not a companion of cup or plate
        "A mug and a dish.",
        "A fork.",
        "A cup next to a plate and a ball.",  # plate (cup's companion) and ball: 2 hallucinated, 1 co-occurring
    ]
    metrics, _ = task.score([EvalPrediction(q, c) for q, c in zip(task.questions, captions, strict=True)])
    assert metrics["chair/hallucinated_mentions"] == 3
    assert metrics["chair/cooccur_share"] == pytest.approx(1 / 3)
    # chance: a has no absent companion (0 of 4 absent); d has 1 of 5 absent categories tempting, 2 hallucinations
    assert metrics["chair/cooccur_chance"] == pytest.approx((1 * 0 / 4 + 2 * 1 / 5) / 3)
