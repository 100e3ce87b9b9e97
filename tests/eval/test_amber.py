"""AMBER: the reader on hand-made records in AMBER's official layout, every figure against a hand computation, and
bad records named in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reverie.errors import InputError
from reverie.eval.tasks.amber import AmberTask
from reverie.eval.tasks.base import EvalPrediction

RELATION = {
    "dog": ["puppy"],
    "cat": [],
    "person": ["man", "woman"],
    "tree": ["bush"],
    "car": ["vehicle"],
    "ball": [],
    "bin": ["can"],
}
ANNOTATIONS = [
    {"id": 1, "type": "generative", "truth": ["dog", "person"], "hallu": ["cat", "ball"]},
    {"id": 2, "type": "generative", "truth": ["tree", "tree", "car"], "hallu": ["person"]},
    {"id": 3, "type": "discriminative-hallucination", "truth": "no"},
    {"id": 4, "type": "discriminative-hallucination", "truth": "yes"},
    {"id": 5, "type": "discriminative-attribute-state", "truth": "no"},
    {"id": 6, "type": "discriminative-attribute-number", "truth": "yes"},
    {"id": 7, "type": "discriminative-relation", "truth": "no"},
    {"id": 8, "type": "discriminative-relation", "truth": "no"},
]
ANSWERS = {
    # object words: puppy (covers dog), man (covers person), ball, cat, car (3 hallucinated; ball and cat are the
    # image's tempting "hallu" objects); vehicle is a safe word, never counted
    1: "A puppy and a man play with a ball near two cats and a car vehicle.",
    # tree covers the first "tree" entry (the second never), bush covers tree too; "can" is a verb here, no object
    2: "Trees and bushes can be seen.",
    3: "No",  # right "no"
    4: "No, there is not.",  # a "no" to a yes question
    5: "Yes",
    6: "Yes",
    7: "maybe",  # neither: wrong, not a "no"
    8: "No.",
}


def write_amber(folder: Path, make_images, annotations=ANNOTATIONS, relation=RELATION) -> dict[str, Path]:
    """AMBER's files as the official repository lays them out (data/, data/query/, images apart)."""
    images = folder / "image"
    names = make_images(images, 2)
    queries = [
        {"id": n["id"], "image": names[(n["id"] - 1) % 2], "query": "Describe this image."}
        if n["type"] == "generative"
        else {"id": n["id"], "image": names[(n["id"] - 1) % 2], "query": "Is there a cat in this image?"}
        for n in ANNOTATIONS  # the official queries, whatever the annotations say
    ]
    data = folder / "data"
    (data / "query").mkdir(parents=True)
    files = {
        "queries": data / "query" / "query_all.json",
        "discriminative": data / "query" / "query_discriminative.json",
        "annotations": data / "annotations.json",
        "relation": data / "relation.json",
        "safe_words": data / "safe_words.txt",
        "images": images,
    }
    files["queries"].write_text(json.dumps(queries, indent=4))
    files["discriminative"].write_text(json.dumps([q for q in queries if q["id"] > 2], indent=4))
    files["annotations"].write_text(json.dumps(annotations, indent=4))
    files["relation"].write_text(json.dumps(relation, indent=4))
    files["safe_words"].write_text("vehicle\n")
    return files


def task(files: dict[str, Path], queries: str = "queries", **kwargs) -> AmberTask:
    return AmberTask(
        files[queries],
        files["annotations"],
        files["relation"],
        files["safe_words"],
        files["images"],
        parser="strict",
        **kwargs,
    )


def answer(t: AmberTask) -> list[EvalPrediction]:
    return [EvalPrediction(q, ANSWERS[int(q.question_id)]) for q in t.questions]


def test_every_figure_equals_the_hand_computation(tmp_path, make_images):
    t = task(write_amber(tmp_path, make_images))
    result = t.score(answer(t))
    m = result.metrics
    # generative: 3 of 7 object words hallucinated; 3 of 5 truth entries covered; 1 of 2 descriptions hallucinates;
    # 2 of 3 hallu entries named
    assert m["amber/generative/chair"] == pytest.approx(3 / 7)
    assert m["amber/generative/cover"] == pytest.approx(3 / 5)
    assert m["amber/generative/hal"] == pytest.approx(1 / 2)
    assert m["amber/generative/cog"] == pytest.approx(2 / 3)
    # "no" positive. existence: 1 right no of 2 said no, 1 asked no; attribute: no "no" said, 1 asked;
    # relation: 1 right no of 1 said, 2 asked (the unparsed answer is a miss)
    expected = {
        "existence": (1 / 2, 1 / 2, 1, 2 / 3),
        "attribute": (1 / 2, 0, 0, 0),
        "relation": (1 / 2, 1, 1 / 2, 2 / 3),
        "discriminative": (3 / 6, 2 / 3, 2 / 4, 4 / 7),
    }
    for part, (accuracy, precision, recall, f1) in expected.items():
        got = [m[f"amber/{part}/{k}"] for k in ("accuracy", "precision", "recall", "f1")]
        assert got == pytest.approx([accuracy, precision, recall, f1]), part
    assert m["amber/discriminative/unknown"] == 1
    assert m["amber/attribute/state/accuracy"] == 0 and m["amber/attribute/number/accuracy"] == 1
    assert m["amber/attribute/state/questions"] == m["amber/attribute/number/questions"] == 1
    assert not any("action" in k for k in m)  # no action question asked
    assert m["amber/score"] == pytest.approx(((1 - 3 / 7) + 4 / 7) / 2)
    first = next(r for r in result.records if r.question_id == "1")
    assert first.parsed == ["puppy", "man", "ball", "cat", "car"]
    assert first.details["hallucinated"] == ["ball", "cat", "car"]


def test_one_part_alone_reports_that_part_and_no_score(tmp_path, make_images):
    files = write_amber(tmp_path, make_images)
    t = AmberTask(files["discriminative"], files["annotations"], image_dir=files["images"], parser="strict")
    assert {q.prompt for q in t.questions} == {"Is there a cat in this image?"}
    suffixed = task(files, question_suffix="\nAnswer with yes or no.")
    prompts = {q.meta["type"]: q.prompt for q in suffixed.questions}
    assert prompts["generative"] == "Describe this image."  # the suffix reaches the yes/no questions only
    assert prompts["discriminative-relation"] == "Is there a cat in this image?\nAnswer with yes or no."
    metrics = t.score(answer(t)).metrics
    assert metrics["amber/discriminative/f1"] == pytest.approx(4 / 7)
    assert not any("generative" in k for k in metrics) and "amber/score" not in metrics


@pytest.mark.parametrize(
    ("annotations", "message"),
    [
        (ANNOTATIONS[:-1], "no annotation with id 8"),
        ([*ANNOTATIONS[:-1], {"id": 8, "type": "discriminative-colour", "truth": "no"}], "unknown type"),
        ([*ANNOTATIONS[:-1], {"id": 8, "type": "discriminative-relation", "truth": "maybe"}], "yes or no"),
        ([{"id": 1, "type": "generative", "truth": ["dog", "unicorn"], "hallu": []}, *ANNOTATIONS[1:]], "unicorn"),
        ([{"id": 1, "type": "generative", "hallu": []}, *ANNOTATIONS[1:]], "missing key 'truth'"),
    ],
)
def test_a_bad_annotation_is_named(tmp_path, make_images, annotations, message):
    files = write_amber(tmp_path, make_images, annotations=annotations)
    with pytest.raises(InputError, match=message) as error:
        task(files)
    assert str(files["annotations"]) in str(error.value)
