"""Hallucination checks against truth, and the profile against a hand computation."""

import json

import pytest

from reverie.dftg.extract import Triple
from reverie.dftg.judge import judge
from reverie.dftg.profile import Diagnosed, ProfileError, build_profile, load_profile, plot_profile
from reverie.dftg.truth import ImageTruth, ObjectFact


def fact(category: str, color: str, size: str = "small") -> ObjectFact:
    return ObjectFact(category, {"color": color, "size": size})


# Image 1: two blue cups and a red plate. Image 2: a green tree. Image 3: a red cup and a white bee.
TRUTH = {
    "1": ImageTruth("1", (fact("cup", "blue"), fact("cup", "blue"), fact("plate", "red")), True),
    "2": ImageTruth("2", (fact("tree", "green"),), True),
    "3": ImageTruth("3", (fact("cup", "red"), fact("bee", "white")), True),
}
TRIPLES = {
    # right count, wrong colour on the cups; the plate is fine; a fork invented; a negated kettle is no claim
    "1": [Triple("cup", "cups", {"color": "red"}, 2), Triple("plate", "plate", {"color": "red"}),
          Triple("fork", "fork"), Triple("kettle", "kettle", negated=True)],
    # a cup invented (twice: one description-level hallucination), with a colour and a count (not checked: absent)
    "2": [Triple("tree", "tree", {"size": "large"}), Triple("cup", "mug", {"color": "red"}, 3), Triple("cup", "cup")],
    # wrong count of cups; a fork invented; a referring "one" with a wrong colour
    "3": [Triple("cup", "cups", {}, 2), Triple("cup", "one", {"color": "blue"}, refers_back=True),
          Triple("fork", "forks")],
}  # fmt: skip


def diagnosed() -> list[Diagnosed]:
    return [Diagnosed(i, "text", tuple(TRIPLES[i]), TRUTH[i], judge(TRIPLES[i], TRUTH[i])) for i in TRUTH]


def test_judge_finds_each_type():
    kinds = {
        i: [(h.type, h.object, h.said) for h in d.checks.hallucinations]
        for i, d in zip(TRUTH, diagnosed(), strict=True)
    }
    assert kinds == {
        "1": [("attribute", "cup", "red"), ("object", "fork", None)],
        "2": [("attribute", "tree", "large"), ("object", "cup", None), ("object", "cup", None)],
        "3": [("count", "cup", 2), ("attribute", "cup", "blue"), ("object", "fork", None)],
    }


def test_judge_skips_attributes_the_truth_does_not_know():
    truth = ImageTruth("x", (ObjectFact("cup"),), attributes_known=False)
    checks = judge([Triple("cup", "cup", {"color": "red"}, 1)], truth)
    assert checks.hallucinations == () and checks.attribute_checks == () and checks.count_checks == ("cup",)


def test_profile_matches_a_hand_computation():
    profile = build_profile(diagnosed(), ["bee", "cup", "fork", "kettle", "plate", "tree"], top_k=2)
    concepts = profile["concepts"]
    # fork: mentioned in 1 and 3, absent from all three images, hallucinated in both
    assert concepts["fork"] | {"triggers": None} == {
        "mentions": 2, "hallucinations": 2, "rate": 1.0, "present_images": 0, "absent_images": 3,
        "invention_rate": 2 / 3, "triggers": None,
    }  # fmt: skip
    assert concepts["fork"]["triggers"] == [["cup", 2], ["bee", 1]]  # cup in 1 and 3; bee before plate by name
    # cup: mentioned in all three, absent only from image 2, where it was invented
    assert (concepts["cup"]["mentions"], concepts["cup"]["hallucinations"], concepts["cup"]["rate"]) == (3, 1, 1 / 3)
    assert (concepts["cup"]["absent_images"], concepts["cup"]["invention_rate"]) == (1, 1.0)
    assert concepts["kettle"]["mentions"] == 0  # negated only
    assert profile["top"] == ["cup", "fork"]  # invention rate 1.0 before 2/3
    # attributes: colour claims checked on present objects: cup (1: red, wrong), plate (1: red, right), cup "one" (3:
    # blue, wrong); size: tree (2: large, wrong)
    assert profile["attributes"]["cup"]["color"] == {
        "checked": 2,
        "wrong": 2,
        "rate": 1.0,
        "said": {"blue": 1, "red": 1},
    }
    assert profile["attributes"]["plate"]["color"]["wrong"] == 0
    assert profile["attributes"]["tree"]["size"] == {"checked": 1, "wrong": 1, "rate": 1.0, "said": {"large": 1}}
    assert profile["counts"] == {"cup": {"checked": 2, "wrong": 1, "rate": 0.5}}
    totals = profile["totals"]
    # mentions (not negated, not referring): 3 + 3 + 2 = 8; object hallucinations: fork, cup, cup, fork = 4
    assert (totals["mentions"], totals["object_hallucinations"], totals["chair_i"]) == (8, 4, 0.5)
    assert totals["chair_s"] == 1.0
    assert (totals["attribute_checked"], totals["attribute_hallucinations"]) == (4, 3)


def test_profile_round_trip_and_plot(tmp_path):
    profile = build_profile(diagnosed(), ["bee", "cup", "fork", "plate", "tree"])
    profile["source"] = {"run_dir": "x"}
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    assert load_profile(path)["top"] == ["cup", "fork"]
    assert plot_profile(profile, tmp_path / "profile.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"concepts": {}, "attributes": {}}', "missing object 'source'"),
        ('{"concepts": {"cup": {"mentions": 1}}, "attributes": {}, "source": {}}', "no number 'hallucinations'"),
    ],
)
def test_bad_profile_files_fail_clearly(tmp_path, content, match):
    path = tmp_path / "profile.json"
    path.write_text(content)
    with pytest.raises(ProfileError, match=match):
        load_profile(path)
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "missing.json")
