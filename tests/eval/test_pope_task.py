"""POPE task: loading JSONL question files, scoring outputs with rationales, bad inputs naming their line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_files import write_lines

from reverie.eval import EvalDataError, EvalPrediction, PopeTask, pope_cooccurrence_gap, pope_mean_f1

QUESTIONS = [
    {"question_id": 1, "image": "a.jpg", "text": "Is there a cup in the image?", "label": "yes"},
    {"question_id": 2, "image": "a.jpg", "text": "Is there a dog in the image?", "label": "no"},
    {"question_id": 3, "image": "b.png", "text": "Is there a plate in the image?", "label": "Yes"},
    {"question_id": 4, "image": "b.png", "text": "Is there a cat in the image?", "label": "no"},
]


@pytest.fixture
def questions_file(tmp_path: Path, make_image) -> Path:
    make_image("a.jpg")
    make_image("b.png")
    return write_lines(tmp_path / "coco_pope_adversarial.jsonl", QUESTIONS)


def test_loads_questions_with_absolute_images(questions_file: Path, tmp_path: Path) -> None:
    task = PopeTask(questions_file, tmp_path / "images")
    assert task.name == "pope/adversarial"  # split taken from the file name
    assert [q.question_id for q in task.questions] == ["1", "2", "3", "4"]
    assert task.questions[0].image == (tmp_path / "images" / "a.jpg").resolve()
    assert task.questions[0].prompt == "Is there a cup in the image?"
    assert [q.label for q in task.questions] == ["yes", "no", "yes", "no"]


def test_scores_reflective_outputs_by_answer_span(questions_file: Path, tmp_path: Path) -> None:
    task = PopeTask(questions_file, tmp_path / "images", split="random")
    outputs = [
        "Yes, there is a cup, but it is not full.</s>",  # yes (LLaVA on the whole text: no)
        "No. There is no dog because only a cup is shown.",  # no
        "I cannot tell.",  # pope_llava: contains no "no"/"not" -> yes
        "Yes, because a cat sits there.",  # yes, wrong
    ]
    metrics, records = task.score([EvalPrediction(q, o) for q, o in zip(task.questions, outputs, strict=True)])
    # tp=2 (q1, q3), tn=1 (q2), fp=1 (q4)
    assert metrics["pope/random/accuracy"] == pytest.approx(0.75)
    assert metrics["pope/random/precision"] == pytest.approx(2 / 3)
    assert metrics["pope/random/recall"] == pytest.approx(1.0)
    assert metrics["pope/random/f1"] == pytest.approx(0.8)
    assert metrics["pope/random/yes_ratio"] == pytest.approx(0.75)
    first = records[0]
    assert (first.question_id, first.answer, first.parsed, first.label, first.correct) == (
        "1",
        "Yes",
        "yes",
        "yes",
        True,
    )
    assert first.parser == "pope_llava"
    assert first.output == outputs[0]
    assert first.details["rationale"] == "there is a cup, but it is not full."


def test_strict_parser_counts_unknowns(questions_file: Path, tmp_path: Path) -> None:
    task = PopeTask(questions_file, tmp_path / "images", parser="strict")
    outputs = ["Yes.", "no", "I cannot tell.", "There is a cat."]
    metrics, records = task.score([EvalPrediction(q, o) for q, o in zip(task.questions, outputs, strict=True)])
    assert metrics["pope/adversarial/unknown"] == 2
    assert metrics["pope/adversarial/accuracy"] == pytest.approx(0.5)
    assert metrics["pope/adversarial/recall"] == pytest.approx(0.5)  # the unknown on q3 is a miss
    assert metrics["pope/adversarial/yes_ratio"] == pytest.approx(0.25)
    assert [r.parsed for r in records] == ["yes", "no", "unknown", "unknown"]


def test_yes_no_task_rejects_a_choice_parser(questions_file: Path) -> None:
    with pytest.raises(ValueError, match="parses choice answers"):
        PopeTask(questions_file, parser="choice")


def test_mean_f1_needs_all_three_splits() -> None:
    metrics = {"pope/random/f1": 0.9, "pope/popular/f1": 0.8, "pope/adversarial/f1": 0.7}
    assert pope_mean_f1(metrics)["pope/mean_f1"] == pytest.approx(0.8)
    assert pope_mean_f1({"pope/random/f1": 0.9}) == {}
    gap = {"pope/adversarial/false_yes_rate": 0.3, "pope/random/false_yes_rate": 0.1}
    assert pope_cooccurrence_gap(gap)["pope/adversarial_gap"] == pytest.approx(0.2)
    assert pope_cooccurrence_gap({"pope/random/false_yes_rate": 0.1}) == {}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"question_id": 9, "image": "a.jpg", "text": "Is there a cup?", "label": "maybe"}',
            "label must be yes or no",
        ),
        ('{"question_id": 9, "image": "a.jpg", "text": "Is there a cup?"}', "missing key 'label'"),
        (
            '{"question_id": 9, "image": "missing.jpg", "text": "Is there a cup?", "label": "no"}',
            "image file not found",
        ),
        ('{"question_id": 9, "image": "a.jpg", "text": "Is there a cup?", "label": "no"', "malformed JSON"),
        ('["not", "an", "object"]', "expected a JSON object"),
        (f'{{"question_id": 9, "image": "{"x" * 5000}", "text": "?", "label": "no"}}', "image is not a valid path"),
        ('{"question_id": 1, "image": "a.jpg", "text": "Again?", "label": "no"}', "duplicate question_id '1'"),
    ],
)
def test_bad_inputs_name_file_and_line(tmp_path: Path, make_image, line: str, message: str) -> None:
    make_image("a.jpg")
    path = write_lines(tmp_path / "pope.jsonl", [QUESTIONS[0], "", line])
    with pytest.raises(ValueError, match=f"pope.jsonl:3: .*{message}"):
        PopeTask(path, tmp_path / "images")
    with pytest.raises(EvalDataError, match="file not found"):
        PopeTask(tmp_path / "nope.jsonl")
