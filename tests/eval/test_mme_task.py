"""MME task: the official folder layouts and the built-in world's JSONL, pairs, scoring and bad inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_files import write_lines

from reverie.eval import EvalDataError, EvalPrediction, MMETask


def official_root(tmp_path: Path, make_image) -> Path:
    """``existence`` with images beside their questions; ``OCR`` with images/ and questions_answers_YN/."""
    root = tmp_path / "MME"
    make_image("1.jpg", root / "existence")
    (root / "existence" / "1.txt").write_text("Is there a cup? Please answer yes or no.\tYes\nIs there a dog?\tNo\n")
    make_image("2.png", root / "existence")
    (root / "existence" / "2.txt").write_text("Is there a car?\tNo\n\nIs there a bus?\tYes\n")
    make_image("7.jpg", root / "OCR" / "images")
    (root / "OCR" / "questions_answers_YN").mkdir(parents=True)
    (root / "OCR" / "questions_answers_YN" / "7.txt").write_text("Does it say STOP?\tYes\nDoes it say GO?\tNo\n")
    return root


def test_official_layout(tmp_path: Path, make_image) -> None:
    task = MMETask(official_root(tmp_path, make_image))
    assert task.subtasks == ["OCR", "existence"]
    assert [q.question_id for q in task.questions] == [
        "OCR/7.jpg/0",
        "OCR/7.jpg/1",
        "existence/1.jpg/0",
        "existence/1.jpg/1",
        "existence/2.png/0",
        "existence/2.png/1",
    ]
    first = task.questions[2]
    assert first.prompt == "Is there a cup? Please answer yes or no."
    assert first.label == "yes"
    assert first.image == (tmp_path / "MME" / "existence" / "1.jpg").resolve()
    assert first.meta["subtask"] == "existence"


def test_scores_acc_plus_and_labels_perception(tmp_path: Path, make_image) -> None:
    task = MMETask(official_root(tmp_path, make_image))
    outputs = ["Yes", "No", "Yes", "No.", "Yes", "Yes, there is a bus."]  # OCR both right; existence 3 of 4
    metrics, records = task.score([EvalPrediction(q, o) for q, o in zip(task.questions, outputs, strict=True)])
    assert metrics["mme/OCR/score"] == pytest.approx(200.0)
    assert metrics["mme/existence/acc"] == pytest.approx(0.75)
    assert metrics["mme/existence/acc_plus"] == pytest.approx(0.5)
    assert metrics["mme/existence/score"] == pytest.approx(125.0)
    assert metrics["mme/perception_score"] == pytest.approx(325.0)
    assert metrics["mme/perception_subtasks"] == 2
    assert metrics["mme/cognition_subtasks"] == 0
    assert all(r.parser == "mme" for r in records)


def test_world_jsonl(tmp_path: Path, make_image) -> None:
    make_image("s0.png")
    rows = [
        {"question_id": "q0", "image": "s0.png", "text": "Is there a red cup?", "label": "yes", "subtask": "color"},
        {"question_id": "q1", "image": "s0.png", "text": "Are there 3 cups?", "label": "no", "subtask": "count"},
        {"question_id": "q2", "image": "s0.png", "text": "Is there a blue cup?", "label": "no", "subtask": "color"},
        {"question_id": "q3", "image": "s0.png", "text": "Are there 2 cups?", "label": "yes", "subtask": "count"},
    ]
    task = MMETask(write_lines(tmp_path / "mme.jsonl", rows), tmp_path / "images")
    assert task.subtasks == ["color", "count"]
    assert [(q.question_id, q.meta["image_index"]) for q in task.questions] == [
        ("q0", 0),
        ("q2", 0),
        ("q1", 1),
        ("q3", 1),
    ]
    outputs = {"q0": "yes", "q2": "yes", "q1": "no", "q3": "yes"}  # color: one of two right; count: both right
    metrics, _ = task.score([EvalPrediction(q, outputs[q.question_id]) for q in task.questions])
    assert metrics["mme/color/score"] == pytest.approx(50.0)  # 100 * (1/2 + 0/1)
    assert metrics["mme/count/score"] == pytest.approx(200.0)
    assert metrics["mme/total_score"] == pytest.approx(250.0)


def test_pair_of_three_questions_names_file_and_line(tmp_path: Path, make_image) -> None:
    make_image("s0.png")
    row = {"question_id": "q0", "image": "s0.png", "text": "Is there a cup?", "label": "yes", "subtask": "existence"}
    rows = [row, {**row, "question_id": "q1"}, {**row, "question_id": "q2"}]
    with pytest.raises(
        EvalDataError, match=r"mme.jsonl:1: MME pair for existence/s0.png has 3 questions.*lines 1, 2, 3"
    ):
        MMETask(write_lines(tmp_path / "mme.jsonl", rows), tmp_path / "images")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Is there a cup?\tYes\nIs there a dog? No\n", r"1.txt:2: expected 'question<TAB>answer'"),
        ("Is there a cup?\tYes\nIs there a dog?\tPerhaps\n", r"1.txt:2: label must be yes or no, got 'Perhaps'"),
        ("Is there a cup?\tYes\n", r"1.txt:1: MME pair for existence/1.jpg has 1 questions"),
    ],
)
def test_bad_question_file_names_its_line(tmp_path: Path, make_image, content: str, message: str) -> None:
    root = official_root(tmp_path, make_image)
    (root / "existence" / "1.txt").write_text(content)
    with pytest.raises(EvalDataError, match=message):
        MMETask(root)


def test_missing_image_or_question_folder(tmp_path: Path, make_image) -> None:
    root = official_root(tmp_path, make_image)
    (root / "existence" / "3.txt").write_text("Is there a cup?\tYes\nIs there a dog?\tNo\n")
    with pytest.raises(EvalDataError, match=r"3.txt: image file not found"):
        MMETask(root)
    (root / "existence" / "3.txt").unlink()
    (root / "OCR" / "questions_answers_YN").rename(root / "OCR" / "qa")
    with pytest.raises(EvalDataError, match="OCR: has images/ but no question folder"):
        MMETask(root)
