"""`reverie.diagnose` end to end on a tiny trained run, its configs composed with every extractor and detector, and
clear errors for a folder without a checkpoint."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from test_detectors import owl_dir  # noqa: F401 (a fixture: a tiny random OWLv2 folder)
from test_llm_extract import Server

from reverie.dftg.profile import load_profile
from reverie.diagnose import diagnose
from reverie.world.vocab import make_vocab

CONF = Path(__file__).resolve().parents[2] / "reverie" / "conf"
OPTIONS = {group: sorted(p.stem for p in (CONF / group).glob("*.yaml")) for group in ("extractor", "detector")}


def make_cfg(*overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("diagnose", overrides=list(overrides))


def test_the_options_are_every_shipped_extractor_and_detector():
    assert set(OPTIONS["extractor"]) >= {"rules", "rules_coco", "llm"}
    assert set(OPTIONS["detector"]) >= {"truth", "noisy", "coco", "owlv2"}


@pytest.mark.parametrize(("group", "option"), [(g, o) for g, options in OPTIONS.items() for o in options])
def test_every_extractor_and_detector_diagnoses_stored_descriptions(tiny_run, tmp_path, group, option, request):
    """Each shipped option builds from its config (with the run's world) and judges three stored descriptions."""
    rows = scenes_of_test_split(tiny_run)[:3]
    stored = tmp_path / "descriptions.jsonl"
    text = {r["image"]: "There is a dog." if option == "rules_coco" else describe(r) for r in rows}  # COCO's names
    stored.write_text("".join(json.dumps({"image": r["image"], "description": text[r["image"]]}) + "\n" for r in rows))
    extra, server = [], None
    if option == "llm":
        server = Server()  # a local chat-completions server answering every description with the same triples
        server.content = json.dumps([{"object": rows[0]["objects"][0]["category"], "attributes": {}, "count": 1}])
        extra = [f"extractor.base_url={server.url}", "extractor.model=tiny", "extractor.api_key_env=null"]
    elif option == "coco":
        extra = [f"detector.instances_file={coco_instances(rows, tmp_path / 'instances.json')}"]
    elif option == "owlv2":
        extra = [f"detector.model_dir={request.getfixturevalue('owl_dir')}", "detector.device=cpu"]
    out = tmp_path / "out"
    cfg = make_cfg(f"run_dir={tiny_run}", f"diagnose.descriptions={stored}", f"diagnose.out={out}",
                   f"{group}={option}", *extra)  # fmt: skip
    try:
        profile = load_profile(diagnose(cfg, out))
    finally:
        if server:
            server.httpd.shutdown()
    kind = profile["source"][group]["kind"]
    expected = {"rules": "rules", "rules_coco": "rules", "llm": "llm", "truth": "WorldTruth",
                "noisy": "NoisyDetector", "coco": "CocoTruth", "owlv2": "OwlDetector"}[option]  # fmt: skip
    assert kind == expected and profile["descriptions"] == 3
    lines = [json.loads(x) for x in (out / "descriptions.jsonl").read_text().splitlines()]
    assert [line["image"] for line in lines] == [r["image"] for r in rows]
    for line, row in zip(lines, rows, strict=True):
        named = "dog" if option == "rules_coco" else (rows[0] if option == "llm" else row)["objects"][0]["category"]
        assert [t["object"] for t in line["triples"]] == [named], line  # the object each description names
        truth = sorted(o["category"] for o in line["truth"]["objects"])
        if option != "owlv2":  # the others' truth is the scene's (noisy: at most what the image holds, plus noise)
            real = sorted(o["category"] for o in row["objects"])
            assert truth == real or (option == "noisy" and truth != [])


def describe(row: dict) -> str:
    return f"There is a {row['objects'][0]['category']}."


def coco_instances(rows: list[dict], path: Path) -> Path:
    """A COCO instances file for the rows' images, with each scene's objects as annotations."""
    names = sorted({o["category"] for r in rows for o in r["objects"]})
    data = {
        "images": [{"id": i, "file_name": Path(r["image"]).name} for i, r in enumerate(rows)],
        "categories": [{"id": i, "name": n} for i, n in enumerate(names)],
        "annotations": [
            {"image_id": i, "category_id": names.index(o["category"]), "bbox": [0, 0, 4, 4]}
            for i, r in enumerate(rows)
            for o in r["objects"]
        ],
    }
    path.write_text(json.dumps(data))
    return path


def scenes_of_test_split(run_dir: Path) -> list[dict]:
    from omegaconf import OmegaConf

    from reverie.resolvers import world_dir

    options = OmegaConf.to_container(OmegaConf.load(run_dir / ".hydra" / "config.yaml").world, resolve=True)
    world = world_dir(options, os.environ["REVERIE_CACHE_DIR"])
    return [r for r in map(json.loads, (world / "scenes.jsonl").read_text().splitlines()) if r["split"] == "test"]


def test_config_typos_fail_loudly():
    with pytest.raises(ConfigCompositionException, match="imagez"):
        make_cfg("run_dir=x", "diagnose.imagez=3")
    with pytest.raises(ConfigCompositionException, match="no_such_detector"):
        make_cfg("run_dir=x", "detector=no_such_detector")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, world_cache):
    out = tmp_path_factory.mktemp("run") / "run"
    args = ["reverie.run", f"hydra.run.dir={out}", "world.num_images=60", "model.vision_encoder.steps=20",
            "trainer.max_steps=3", "eval=none", "logger=csv"]  # fmt: skip
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache)}
    proc = subprocess.run([sys.executable, "-m", *args], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_diagnose_writes_descriptions_profile_and_plot(tiny_run, tmp_path):
    out = tmp_path / "diag"
    cfg = make_cfg(f"run_dir={tiny_run}", "diagnose.images=6", f"diagnose.out={out}", "diagnose.max_new_tokens=24",
                   "diagnose.batch_size=4", "diagnose.max_empty_fraction=1.0")  # fmt: skip
    path = diagnose(cfg, out)
    profile = load_profile(path)
    lines = [json.loads(x) for x in (out / "descriptions.jsonl").read_text().splitlines()]
    assert len(lines) == 6 == profile["descriptions"] + profile["skipped"]["empty_description"]
    scenes = scenes_of(profile)
    judged = [line for line in lines if "skipped" not in line]
    assert len(judged) == profile["descriptions"] and profile["skipped"]["images"] == [
        line["image"] for line in lines if line.get("skipped") == "empty"
    ]
    for line in lines:
        assert scenes[line["image"]]["split"] == "test"
        assert ("skipped" in line) == (not line["description"].strip())  # only empty descriptions are skipped
    for line in judged:  # the truth written is the scene's
        assert [o["category"] for o in line["truth"]["objects"]] == [
            o["category"] for o in scenes[line["image"]]["objects"]
        ]
        assert {h["type"] for h in line["hallucinations"]} <= {"object", "attribute", "count"}
    assert profile["source"]["world"]["num_images"] == 60 and profile["source"]["detector"]["kind"] == "WorldTruth"
    assert (out / "profile.png").stat().st_size > 1000


def test_a_run_without_a_checkpoint_fails_clearly(tiny_run, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(tiny_run, bare, ignore=shutil.ignore_patterns("checkpoints"))
    with pytest.raises(FileNotFoundError, match="no last checkpoint"):
        diagnose(make_cfg(f"run_dir={bare}", f"diagnose.out={tmp_path / 'o'}"), tmp_path / "o")
    with pytest.raises(FileNotFoundError, match="not a reverie run folder"):
        diagnose(make_cfg(f"run_dir={tmp_path}", f"diagnose.out={tmp_path / 'o'}"), tmp_path / "o")


def test_stored_descriptions_against_truth_and_a_noisy_detector(tiny_run, tmp_path):
    from omegaconf import OmegaConf

    from reverie.resolvers import world_dir

    options = OmegaConf.to_container(OmegaConf.load(tiny_run / ".hydra" / "config.yaml").world, resolve=True)
    world = world_dir(options, os.environ["REVERIE_CACHE_DIR"])
    rows = [r for r in map(json.loads, (world / "scenes.jsonl").read_text().splitlines()) if r["split"] == "test"][:3]
    stored, expected, lines = tmp_path / "descriptions.jsonl", {}, []
    for row in rows:
        present = row["objects"][0]["category"]
        absent = [c for c in ALL_CATEGORIES if c not in {o["category"] for o in row["objects"]}]
        text = f"There is a {present} and a {absent[0]}. There is no {absent[1]}."
        expected[row["image"]] = (present, absent[0])
        lines.append(json.dumps({"image": row["image"], "description": text}))
    stored.write_text("\n".join(lines) + "\n")
    for detector, wrong in (("truth", 1), ("noisy", 0)):  # noisy: every real object missed, every other reported
        out = tmp_path / detector
        cfg = make_cfg(f"run_dir={tiny_run}", f"diagnose.descriptions={stored}", f"diagnose.out={out}",
                       f"detector={detector}", *(["detector.miss_rate=1.0", "detector.false_positive_rate=1.0"]
                                                 if detector == "noisy" else []))  # fmt: skip
        profile = load_profile(diagnose(cfg, out))
        assert profile["descriptions"] == 3 and profile["source"]["descriptions_from"] == str(stored)
        for line in map(json.loads, (out / "descriptions.jsonl").read_text().splitlines()):
            present, absent = expected[line["image"]]
            assert [t["negated"] for t in line["triples"]] == [False, False, True]
            assert [h["object"] for h in line["hallucinations"] if h["type"] == "object"] == [(present, absent)[wrong]]


ALL_CATEGORIES = make_vocab().names


def scenes_of(profile: dict) -> dict[str, dict]:
    return {
        row["image"]: row for row in map(json.loads, Path(profile["source"]["image_list"]).read_text().splitlines())
    }
