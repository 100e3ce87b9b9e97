"""Whole-world properties: determinism, the manifest, disjoint splits, image files, rebuilding in place."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from reverie.world import WorldConfig, build_world, load_manifest

REQUIRED_ROLES = {
    "images", "scenes", "cooccurrence", "chair.objects", "chair.synonyms",
    *(f"llava.{kind}.{split}" for kind in ("captions", "vqa", "questions") for split in ("train", "val", "test")),
    *(f"reverie.{split}" for split in ("train", "val", "test")),
    *(f"pope.{split}.{s}" for split in ("val", "test") for s in ("random", "popular", "adversarial")),
    *(f"{kind}.{split}" for kind in ("mme", "mcq") for split in ("val", "test")),
}  # fmt: skip


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_and_options_give_byte_identical_outputs(tmp_path: Path) -> None:
    cfg = WorldConfig(num_images=40, seed=11)
    build_world(tmp_path / "a", cfg)
    build_world(tmp_path / "b", WorldConfig(num_images=40, seed=11))
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) > 40
    assert [k for k in a if a[k] != b[k]] == []
    build_world(tmp_path / "c", WorldConfig(num_images=40, seed=12))
    c = _tree(tmp_path / "c")
    assert c["scenes.jsonl"] != a["scenes.jsonl"]


def test_outputs_do_not_depend_on_the_process_hash_seed(tmp_path: Path) -> None:
    """Fresh interpreters with different PYTHONHASHSEED (set iteration order) still write the same bytes."""
    for name, hash_seed in (("a", "0"), ("b", "4242")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        cmd = [sys.executable, "-m", "reverie.world", "--out", str(tmp_path / name), "--images", "40", "--seed", "9"]
        subprocess.run(cmd, check=True, env=env, capture_output=True)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_parallel_rendering_gives_the_same_bytes(tmp_path: Path) -> None:
    cfg = WorldConfig(num_images=240, seed=2, reverie_per_image=0)
    build_world(tmp_path / "one", cfg, workers=1)
    build_world(tmp_path / "two", cfg, workers=2)
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")


def test_manifest_names_every_role_and_only_existing_files(world: dict[str, Path], world_cfg: WorldConfig) -> None:
    assert set(world) >= REQUIRED_ROLES
    for role, path in world.items():
        assert path.is_absolute()
        assert path.exists(), f"{role}: {path} is missing"
        assert path.is_dir() == (role == "images")
    manifest = json.loads((world["scenes"].parent / "manifest.json").read_text())
    assert manifest["format_version"] == 1
    assert manifest["options"] == json.loads(json.dumps(world_cfg.to_dict()))
    assert all(not Path(rel).is_absolute() for rel in manifest["files"].values())


def test_load_manifest_missing_is_a_clear_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "manifest.json")):
        load_manifest(tmp_path)


def test_load_manifest_accepts_the_manifest_path(default_world: dict[str, Path]) -> None:
    assert load_manifest(default_world["scenes"].parent / "manifest.json") == default_world


def test_splits_are_disjoint_and_files_stay_in_their_split(world: dict[str, Path], oracle, world_cfg) -> None:
    split_of = {image: s["split"] for image, s in oracle.scenes.items()}
    sizes = {name: sum(1 for s in split_of.values() if s == name) for name in ("train", "val", "test")}
    n = world_cfg.num_images
    n_categories = len(json.loads(world["chair.synonyms"].read_text()))
    assert sizes == {"train": n - 2 * round(n / 10), "val": round(n / 10), "test": round(n / 10)}
    for role, path in world.items():
        parts = role.split(".")
        split = next((p for p in parts if p in ("train", "val", "test")), None)
        if split is None:
            continue
        text = path.read_text()
        records = json.loads(text) if path.suffix == ".json" else [json.loads(line) for line in text.splitlines()]
        images = {r["image"] for r in records}
        assert images and {split_of[i] for i in images} == {split}, role
        if parts[0] in ("llava", "mme"):
            assert len(images) == sizes[split], f"{role} should cover every {split} image"
        if parts[0] == "pope":  # POPE needs an absent category to pair with each present one
            probeable = {i for i, s in split_of.items() if s == split and len(oracle.present(i)) < n_categories}
            assert images == probeable, role


def test_images_are_pngs_named_like_llava_expects(world: dict[str, Path], oracle, world_cfg) -> None:
    pngs = sorted(p.name for p in world["images"].iterdir())
    assert pngs == sorted(oracle.scenes) and pngs[0] == "000000.png"
    assert pngs[-1] == f"{world_cfg.num_images - 1:06d}.png"
    with Image.open(world["images"] / pngs[5]) as im:
        size = world_cfg.image_size
        assert im.size == (size, size) and im.mode == "RGB"


def test_rebuilding_in_place_replaces_the_old_world(tmp_path: Path) -> None:
    build_world(tmp_path, WorldConfig(num_images=50, seed=1))
    build_world(tmp_path, WorldConfig(num_images=30, seed=1))
    files = load_manifest(tmp_path)
    assert len(list(files["images"].iterdir())) == 30
    assert json.loads((tmp_path / "manifest.json").read_text())["options"]["num_images"] == 30


def test_large_images_for_real_encoders(tmp_path: Path) -> None:
    for size in (224, 336):
        files = load_manifest(build_world(tmp_path / str(size), WorldConfig(num_images=12, image_size=size)))
        scene = json.loads(files["scenes"].read_text().splitlines()[0])
        with Image.open(files["images"] / scene["image"]) as im:
            assert im.size == (size, size)
        assert all(0 <= v <= size for o in scene["objects"] for v in o["bbox"])
