"""Multiple-choice task: three input formats, prompts, circular rotations and their scoring, bad inputs."""

from __future__ import annotations

import base64
import csv
from pathlib import Path

import pytest
from sample_files import write_lines

from reverie.eval import EvalDataError, EvalPrediction, MultipleChoiceTask
from reverie.eval.tasks.mcq import PROMPT_SUFFIX

WORLD = {
    "question_id": "w1",
    "image": "a.png",
    "question": "What is red?",
    "options": ["cup", "bee", "pen"],
    "answer": "B",
}


def test_world_format_prompt_and_label(tmp_path: Path, make_image) -> None:
    make_image("a.png")
    task = MultipleChoiceTask(write_lines(tmp_path / "mcq.jsonl", [WORLD]), tmp_path / "images")
    (question,) = task.questions
    assert question.prompt == f"What is red?\nA. cup\nB. bee\nC. pen\n{PROMPT_SUFFIX}"
    assert (question.question_id, question.label) == ("w1", "B")
    metrics, records = task.score([EvalPrediction(question, "The answer is B.")])
    assert metrics == {"mcq/accuracy": 1.0, "mcq/questions": 1, "mcq/groups": 1, "mcq/unknown": 0}
    assert (records[0].parsed, records[0].parser) == ("B", "choice")


def test_circular_rotations_and_scoring(tmp_path: Path, make_image) -> None:
    make_image("a.png")
    second = {**WORLD, "question_id": "w2", "options": ["red", "blue"], "answer": "A"}
    task = MultipleChoiceTask(write_lines(tmp_path / "mcq.jsonl", [WORLD, second]), tmp_path / "images", circular=True)
    got = [(q.question_id, q.meta["options"], q.label) for q in task.questions]
    assert got == [
        ("w1/r0", ["cup", "bee", "pen"], "B"),
        ("w1/r1", ["bee", "pen", "cup"], "A"),
        ("w1/r2", ["pen", "cup", "bee"], "C"),
        ("w2/r0", ["red", "blue"], "A"),
        ("w2/r1", ["blue", "red"], "B"),
    ]
    # w1 right in every rotation (one by option text); w2 wrong in its second rotation
    outputs = ["B", "(A) bee", "bee", "A", "A"]
    metrics, _ = task.score([EvalPrediction(q, o) for q, o in zip(task.questions, outputs, strict=True)])
    assert metrics["mcq/accuracy"] == pytest.approx(4 / 5)
    assert metrics["mcq/circular_accuracy"] == pytest.approx(1 / 2)


def test_scienceqa_format(tmp_path: Path, make_image) -> None:
    make_image("sq.jpg")
    rows = [
        {
            "id": "s1",
            "image": "sq.jpg",
            "question": "Which is a mammal?",
            "choices": ["frog", "cat"],
            "answer": 1,
            "hint": "Look at the animals.",
        },
        {"id": "s2", "question": "Which word is a noun?", "choices": ["run", "table", "blue"], "answer": 1},
    ]
    path = write_lines(tmp_path / "sqa.jsonl", rows)
    task = MultipleChoiceTask(path, tmp_path / "images", name="scienceqa")
    assert [q.label for q in task.questions] == ["B", "B"]
    assert task.questions[0].prompt.startswith("Look at the animals.\nWhich is a mammal?\nA. frog\nB. cat\n")
    assert task.questions[1].image is None
    image_only = MultipleChoiceTask(path, tmp_path / "images", images_only=True)
    assert [q.question_id for q in image_only.questions] == ["s1"]


def test_mmbench_tsv_with_base64_image(tmp_path: Path, make_image) -> None:
    data = base64.b64encode(make_image("mm.png").read_bytes()).decode()
    path = tmp_path / "mmbench.tsv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["index", "question", "hint", "A", "B", "C", "D", "answer", "image"])
        writer.writerow([7, "What colour?", "nan", "red", "green", "", "", "A", data])
    task = MultipleChoiceTask(path, name="mmbench", image_cache=tmp_path / "cache")
    (question,) = task.questions
    assert question.meta["options"] == ["red", "green"]
    assert question.prompt == f"What colour?\nA. red\nB. green\n{PROMPT_SUFFIX}"
    assert question.image == (tmp_path / "cache" / "7.png").resolve() and question.image.is_file()
    with pytest.raises(EvalDataError, match="mmbench.tsv:2: image is base64 data: pass image_cache"):
        MultipleChoiceTask(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**WORLD, "answer": "D"}, "answer 'D' is not one of the 3 options"),
        ({**WORLD, "options": ["only"]}, "expected 2-26 options, got 1"),
        ({k: v for k, v in WORLD.items() if k != "options"}, "missing key 'options'"),
        ({k: v for k, v in WORLD.items() if k != "question_id"}, "missing key 'question_id'"),
        ({**WORLD, "image": "gone.png"}, "image file not found"),
        ({"id": "s", "question": "Q?", "choices": ["a", "b"], "answer": 2}, "answer 2 is not one of the 2 options"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, make_image, row: dict, message: str) -> None:
    make_image("a.png")
    path = write_lines(tmp_path / "mcq.jsonl", [WORLD, row])
    with pytest.raises(EvalDataError, match=f"mcq.jsonl:2: {message}"):
        MultipleChoiceTask(path, tmp_path / "images")
