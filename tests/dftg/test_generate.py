"""Targeted and untargeted data on a small real world: answers never contradict the scene file (recomputed here from
the raw records), balanced ratios, equal size and type mix for the control, concepts drawn by the profile,
determinism under a seed, REVERIE twins, and clear errors."""

import json
from collections import Counter
from pathlib import Path

import pytest

from reverie.dftg.generate import TargetedGenerator, allocate, write_outputs
from reverie.targeted import run
from reverie.world import WorldConfig, build_world, load_manifest
from reverie.world.vocab import make_vocab

CONF = Path(__file__).resolve().parents[2] / "reverie" / "conf"
TARGETS = {"cup": 0.5, "plate": 0.25, "bee": 0.25}  # invention rates of a made-up profile


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    build_world(out, WorldConfig(num_images=80, seed=5))
    return load_manifest(out)


def profile() -> dict:
    vocab = make_vocab()
    concepts = {
        c: {"mentions": 10, "hallucinations": 5 if c in TARGETS else 0, "rate": 0.5 if c in TARGETS else 0.0,
            "absent_images": 10, "invention_rate": TARGETS.get(c, 0.0)}
        for c in vocab.names
    }  # fmt: skip
    attributes = {"cup": {"color": {"checked": 4, "wrong": 2, "rate": 0.5, "said": {"purple": 2}}}}
    return {"concepts": concepts, "attributes": attributes, "top": list(TARGETS), "source": {"run_dir": "r"}}


def generate(world, mode: str, size: int = 400, seed: int = 0, **kwargs):
    gen = TargetedGenerator(profile(), world["scenes"], make_vocab(), mode=mode, seed=seed, **kwargs)
    return gen.generate(size)


def scene_truth(world) -> dict:
    return {r["image"]: r for r in map(json.loads, world["scenes"].read_text().splitlines())}


def recomputed(meta: dict, scene: dict) -> bool:
    """The true answer from the raw scene record, without reverie.dftg code."""
    objs = [o for o in scene["objects"] if o["category"] == meta["concept"]]
    if meta["type"] == "existence":
        return bool(objs)
    if meta["type"] == "attribute":
        return any(o["color"] == meta["claim"] for o in objs)
    if meta["type"] == "position":
        return any(o["cell"] == meta["claim"] for o in objs)
    (ra, ca) = objs[0]["cell"]
    (rb, cb) = next(o["cell"] for o in scene["objects"] if o["category"] == meta["other"])
    return {
        "left_of": ca < cb, "right_of": ca > cb, "above": ra < rb, "below": ra > rb,
        "next_to": abs(ra - rb) + abs(ca - cb) == 1,
    }[meta["relation"]]  # fmt: skip


@pytest.mark.parametrize("mode", ["targeted", "untargeted"])
def test_answers_never_contradict_the_scene(world, mode):
    llava, reverie, _ = generate(world, mode)
    scenes = scene_truth(world)
    train = {name for name, s in scenes.items() if s["split"] == "train"}
    for sample, record in zip(llava, reverie, strict=True):
        meta = sample["dftg"]
        assert sample["image"] in train
        truth = recomputed(meta, scenes[sample["image"]])
        assert sample["conversations"][1]["value"] == ("Yes" if truth else "No")
        assert (meta["polarity"] == "positive") == truth
        assert sample["conversations"][0]["value"].startswith("<image>\n")
        assert record["question"] in sample["conversations"][0]["value"]
        assert record["correct_answer"] == sample["conversations"][1]["value"] != record["confusing_answer"]
        assert record["correct_rationale"] and record["incorrect_rationale"]


def test_control_has_same_size_type_mix_and_balance(world):
    mix = {"existence": 0.5, "attribute": 0.2, "position": 0.2, "relation": 0.1}
    results = {mode: generate(world, mode, size=301, types=mix) for mode in ("targeted", "untargeted")}
    tallies = {}
    for mode, (llava, _, report) in results.items():
        assert len(llava) == 301
        tallies[mode] = Counter((s["dftg"]["type"], s["dftg"]["polarity"]) for s in llava)
        assert {t: (v["positive"], v["negative"]) for t, v in report["types"].items()} == allocate(301, mix, 0.5)
    assert tallies["targeted"] == tallies["untargeted"]
    for kind in mix:  # balanced within one sample
        assert abs(tallies["targeted"][(kind, "positive")] - tallies["targeted"][(kind, "negative")]) <= 1


def test_targeted_concepts_follow_the_profile_untargeted_cover_the_vocabulary(world):
    llava, _, _ = generate(world, "targeted", size=800, types={"existence": 1.0})
    negatives = Counter(s["dftg"]["concept"] for s in llava if s["dftg"]["polarity"] == "negative")
    positives = Counter(s["dftg"]["concept"] for s in llava if s["dftg"]["polarity"] == "positive")
    assert set(negatives) == set(TARGETS) == set(positives)
    assert negatives["cup"] > 1.5 * negatives["plate"]  # 0.5 vs 0.25 of 400
    llava, _, _ = generate(world, "untargeted", size=800, types={"existence": 1.0})
    concepts = {s["dftg"]["concept"] for s in llava if s["dftg"]["polarity"] == "negative"}
    assert len(concepts) >= 18  # of 20, drawn uniformly


def test_targeted_false_colours_prefer_the_models_own(world):
    llava, _, _ = generate(world, "targeted", size=200, types={"attribute": 1.0})
    claims = [s["dftg"]["claim"] for s in llava if s["dftg"]["polarity"] == "negative"]
    assert {s["dftg"]["concept"] for s in llava} == {"cup"}  # the only concept with colour errors
    assert Counter(claims)["purple"] > 0.5 * len(claims)  # unless a cup in the image is purple


def test_same_seed_same_data_other_seed_other_data(world, tmp_path):
    first, second, other = (generate(world, "targeted", seed=s)[0] for s in (3, 3, 4))
    assert first == second and first != other
    paths = write_outputs(tmp_path / "t.json", *generate(world, "targeted", size=50))
    assert json.loads(paths["llava"].read_text())[0]["id"] == "dftg-targeted-000000"
    assert len(json.loads(paths["reverie"].read_text())) == 50
    assert json.loads(paths["report"].read_text())["size"] == 50


def test_entry_point_writes_the_files(world, tmp_path):
    from hydra import compose, initialize_config_dir

    prof = profile() | {"source": {"run_dir": "r", "world": {"num_images": 80, "seed": 5}}}
    (tmp_path / "profile.json").write_text(json.dumps(prof))
    overrides = [f"diagnosis={tmp_path / 'profile.json'}", f"out={tmp_path / 'd' / 't.json'}", "size=40",
                 f"cache_dir={tmp_path / 'cache'}",
                 # study 02's mix as its README writes it: every type, description included, settable as one dict
                 "types={existence: 0.4, description: 0.3, attribute: 0.1, position: 0.1, relation: 0.1}"]  # fmt: skip
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("targeted", overrides=overrides)
    path = run(cfg)
    assert len(json.loads(path.read_text())) == 40 and (tmp_path / "d" / "t.reverie.json").is_file()
    report = json.loads((tmp_path / "d" / "t.report.json").read_text())
    assert {t: sum(v.values()) for t, v in report["types"].items()} == {
        "existence": 16, "description": 12, "attribute": 4, "position": 4, "relation": 4
    }  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "sideways"}, "mode must be one of"),
        ({"types": {"existence": 1, "smell": 1}}, "unknown instruction type"),
        ({"negative_share": 1.5}, "negative_share"),
        ({"weight_by": "vibes"}, "weight_by"),
        ({"negatives_on": "nowhere"}, "negatives_on"),
    ],
)
def test_bad_options_fail_clearly(world, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate(world, **{"mode": "targeted", **kwargs})


def test_a_profile_without_hallucinations_cannot_be_targeted(world):
    empty = profile()
    for entry in empty["concepts"].values():
        entry["hallucinations"] = 0
    with pytest.raises(ValueError, match="no object hallucinations"):
        TargetedGenerator(empty, world["scenes"], make_vocab())


THEMES = {c: make_vocab().by_name[c].theme for c in make_vocab().names}


def test_negatives_on_triggers_asks_where_the_present_objects_set_the_invention_off(world):
    """Targeted: the profile's triggers (cup <- plate), else theme-mates; untargeted: theme-mates, the same rule."""
    prof = profile()
    prof["concepts"]["cup"]["triggers"] = [["plate", 3], ["not-a-category", 1]]
    scenes = scene_truth(world)
    for mode in ("targeted", "untargeted"):
        gen = TargetedGenerator(prof, world["scenes"], make_vocab(), mode=mode, negatives_on="triggers")
        llava, _, report = gen.generate(300)
        assert report["negatives_on"] == "triggers"
        negatives = [s for s in llava if s["dftg"]["type"] == "existence" and s["dftg"]["polarity"] == "negative"]
        assert len(negatives) > 50
        for s in negatives:
            c, present = s["dftg"]["concept"], {o["category"] for o in scenes[s["image"]]["objects"]}
            assert c not in present
            wanted = {"plate"} if (mode, c) == ("targeted", "cup") else {m for m in THEMES if THEMES[m] == THEMES[c]}
            assert present & (wanted - {c}), (mode, c, present)
    anywhere, _, _ = generate(world, "targeted", size=300, types={"existence": 1.0})
    images = {s["image"] for s in anywhere if s["dftg"]["concept"] == "cup" and s["dftg"]["polarity"] == "negative"}
    assert any("plate" not in {o["category"] for o in scenes[i]["objects"]} for i in images)  # the old rule differs


def test_description_samples_are_the_worlds_description_with_the_concept_inserted_in_the_twin(world):
    llava, reverie, report = generate(world, "targeted", size=60, types={"description": 1.0}, negatives_on="triggers")
    scenes = scene_truth(world)
    assert report["types"] == {"description": {"positive": 30, "negative": 30}}
    for sample, record in zip(llava, reverie, strict=True):
        meta, scene = sample["dftg"], scenes[sample["image"]]
        present = {o["category"] for o in scene["objects"]}
        assert (meta["concept"] in present) == (meta["polarity"] == "positive")
        prompt, text = (t["value"] for t in sample["conversations"])
        assert prompt.startswith("<image>\n") and record["correct_answer"] == text and len(text.split()) > 10
        assert record["confusing_answer"].startswith(text.split(". ")[0]) and len(record["confusing_answer"]) > len(
            text
        )
        inserted = record["probe"]["category"]
        assert inserted not in present and (meta["polarity"] == "positive" or inserted == meta["concept"])
