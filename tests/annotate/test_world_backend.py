"""`annotator=world` reproduces the world's REVERIE records exactly through the annotation pipeline (the build
writes them from the same drafts without it); the oracle refuses images and text it does not know."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from reverie.annotate.backends.base import Request
from reverie.annotate.backends.world import WorldOracle
from reverie.annotate.job import run_job
from reverie.world import WorldConfig, build_world, load_manifest

CONF = Path(__file__).resolve().parents[2] / "reverie" / "conf"
# reverie/train.json of WorldConfig(num_images=40, seed=11) as the world's direct writer wrote it before the build
# went through the annotation pipeline (commit before a9d7765): the bytes must not change.
GOLDEN_TRAIN_SHA256 = "830c69c6cd6aba348a572b51d974c96dad2cdf06d73acbafa40bf30bfd02c3e8"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    build_world(out, WorldConfig(num_images=30, seed=5))
    return out


def test_annotator_world_reproduces_the_worlds_reverie_records(world: Path, tmp_path: Path) -> None:
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("annotate", [f"images={world / 'images'}", f"out={tmp_path}", "annotator=world",
                                   f"annotator.world={world}", "progress=false"])  # fmt: skip
    summary = run_job(cfg.images, cfg.out, instantiate(cfg.annotator), instantiate(cfg.prompts),
                      instantiate(cfg.pipeline), progress=False)  # fmt: skip
    files = load_manifest(world)
    expected = [r for split in ("train", "val", "test") for r in json.loads(files[f"reverie.{split}"].read_text())]
    assert json.loads((tmp_path / "reverie.json").read_text()) == expected
    assert summary["pairs"] == {"generated": 90, "kept": 90, "lost_to_failures": 0}
    assert summary["drops"] == {} and summary["requests"]["failures"] == {}
    assert summary["requests"]["calls"] == {"qa": 30, "positive": 90, "negative": 90, "judge": 90}


def test_the_world_build_still_writes_the_same_reverie_bytes(tmp_path: Path) -> None:
    """Without co-occurrence records (share 0) the build's REVERIE bytes are those the old mix wrote."""
    build_world(tmp_path, WorldConfig(num_images=40, seed=11, reverie_cooccur_share=0.0))
    digest = hashlib.sha256((tmp_path / "reverie" / "train.json").read_bytes()).hexdigest()
    assert digest == GOLDEN_TRAIN_SHA256


def test_the_oracle_refuses_what_it_does_not_know(world: Path) -> None:
    oracle = WorldOracle(world=world)
    with pytest.raises(ValueError, match="'elsewhere/cat.png' is not an image of the world"):
        oracle.complete([Request("qa", "prompt", None, {"image": "elsewhere/cat.png"})])
    image = sorted(oracle.drafts)[0]
    asked = oracle.drafts[image][0]["question"]
    with pytest.raises(ValueError, match="did not give the answer 'purple'"):
        oracle.complete(
            [Request("positive", "p", None, {"image": image, "id": "x", "question": asked, "answer": "purple"})]
        )
    with pytest.raises(ValueError, match="did not ask"):
        oracle.complete(
            [Request("negative", "p", None, {"image": image, "id": "x", "question": "Why?", "answer": "a"})]
        )


def test_a_world_built_before_the_cooccurrence_share_is_drafted_with_the_old_mix(tmp_path: Path) -> None:
    """A manifest without reverie_cooccur_share (older builds) means share 0: the oracle drafts what that build wrote."""
    build_world(tmp_path, WorldConfig(num_images=12, seed=2, reverie_cooccur_share=0.0))
    manifest = tmp_path / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["options"]["reverie_cooccur_share"], data["options"]["reverie_cooccur_types"]
    manifest.write_text(json.dumps(data))
    files = load_manifest(tmp_path)
    records = [r for split in ("train", "val", "test") for r in json.loads(files[f"reverie.{split}"].read_text())]
    drafts = WorldOracle(world=tmp_path).drafts
    assert [d["question"] for r in records for d in drafts[r["image"]] if d["question"] == r["question"]] == [
        r["question"] for r in records
    ]


def test_a_world_that_this_code_would_not_sample_is_refused(tmp_path: Path) -> None:
    build_world(tmp_path, WorldConfig(num_images=12, seed=1))
    scenes = tmp_path / "scenes.jsonl"
    lines = scenes.read_text().splitlines()
    scenes.write_text("\n".join([lines[1], lines[0], *lines[2:]]) + "\n")
    with pytest.raises(ValueError, match="scenes differ"):
        WorldOracle(world=tmp_path)


def test_the_world_does_not_import_the_annotation_package() -> None:
    """The world writes its REVERIE records itself; only the annotation package's world backend reads the world."""
    code = "import sys, reverie.world.build; assert 'reverie.annotate' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
    for first in ("reverie.annotate.backends.world", "reverie.annotate.job"):
        subprocess.run([sys.executable, "-c", f"import {first}"], check=True, capture_output=True, timeout=120)
