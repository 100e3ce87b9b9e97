"""CHAIR caption parsing: synonyms, plurals, two-word objects, hand rules, on COCO's table and a world-like one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reverie.eval.chair import ObjectVocabulary, singular_forms
from reverie.eval.io import EvalDataError

COCO = ObjectVocabulary.coco()
# Shaped like the built-in world's table: canonical -> surface names, some of two words.
WORLD = ObjectVocabulary(
    {"cup": ["cup", "mug"], "ball": ["ball", "beach ball"], "fork": ["fork", "dinner fork"], "bush": ["shrub", "hedge"]}
)


def categories(vocabulary: ObjectVocabulary, caption: str) -> list[str]:
    return [mention.category for mention in vocabulary.mentions(caption)]


def test_coco_table_has_the_80_categories() -> None:
    assert len(COCO.categories) == 80
    assert {"person", "traffic light", "hot dog", "teddy bear", "hair drier", "toothbrush"} <= COCO.categories


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("Two men ride motorcycles past traffic lights.", ["person", "motorcycle", "traffic light"]),
        ("A hot dog next to a dog.", ["hot dog", "dog"]),
        ("A hot-dog stand.", ["hot dog"]),
        ("A girl hugs her teddy bear.", ["person", "teddy bear"]),
        ("A baby elephant follows an adult elephant.", ["elephant", "elephant"]),
        ("A baby sleeps.", ["person"]),
        ("A passenger jet over the toilet seat.", ["airplane", "toilet"]),
        ("Wine glasses, knives, forks and three ties.", ["wine glass", "knife", "fork", "tie"]),
        ("People watch the mice and the geese.", ["person", "mouse", "bird"]),
        ("Two buses and a bus.", ["bus", "bus"]),
        ("A sofa, a fridge and a cellphone.", ["couch", "refrigerator", "cell phone"]),
        ("A sunny day with blue skies.", []),
    ],
)
def test_coco_mentions(caption: str, expected: list[str]) -> None:
    assert categories(COCO, caption) == expected


def test_world_like_table() -> None:
    caption = "Two mugs and a dinner fork lie by the hedges; beach balls and a ball."
    assert categories(WORLD, caption) == ["cup", "fork", "bush", "ball", "ball"]
    assert [m.text for m in WORLD.mentions(caption)][:2] == ["mugs", "dinner fork"]


def test_canonical_names_whole_names_only() -> None:
    assert COCO.canonical("Traffic Lights") == "traffic light"
    assert COCO.canonical("skis") == "skis"
    assert COCO.canonical("unicorn") is None
    assert COCO.canonical("") is None


def test_compare_against_ground_truth() -> None:
    found = COCO.compare("A man with a dog and two cats on a bench.", {"person", "dog", "car"})
    assert [m.category for m in found.hallucinated] == ["cat", "bench"]
    assert found.covered == {"person", "dog"}


def test_singular_forms() -> None:
    assert singular_forms("ties") == ("ties", "tie")
    assert singular_forms("skies") == ("skies", "sky", "skie")
    assert singular_forms("buses")[:3] == ("buses", "bus", "buse")
    assert "knife" in singular_forms("knives")
    assert singular_forms("glass") == ("glass",)


def test_a_name_of_two_categories_is_an_error() -> None:
    with pytest.raises(ValueError, match="'mug' is a name of both 'cup' and 'glass'"):
        ObjectVocabulary({"cup": ["mug"], "glass": ["mug"]})


def test_synonyms_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "synonyms.json"
    bad.write_text('{"cup": ["mug"],\n "plate" ["dish"]}')
    with pytest.raises(EvalDataError, match=r"synonyms.json:2: malformed JSON"):
        ObjectVocabulary.from_json(bad)
    bad.write_text(json.dumps({"cup": "mug"}))
    with pytest.raises(EvalDataError, match=r"synonyms.json: expected an object \{canonical: \[names\]\}"):
        ObjectVocabulary.from_json(bad)
    with pytest.raises(EvalDataError, match="file not found"):
        ObjectVocabulary.from_json(tmp_path / "missing.json")
