"""The dense questions' knobs do what they say: the share of "Yes" and where absent objects come from."""

from __future__ import annotations

from pathlib import Path

import pytest
from world_oracle import Oracle, read_json

from reverie.world import WorldConfig, build_world, load_manifest


def _existence(tmp_path: Path, **options) -> tuple[list[tuple[str, str, bool]], Oracle]:
    cfg = WorldConfig(num_images=150, seed=5, question_kinds={"existence": 1.0}, questions_per_image=20, **options)
    build_world(tmp_path, cfg)
    world = load_manifest(tmp_path)
    oracle = Oracle(world)
    rows = []
    for split in ("train", "val", "test"):
        for s in read_json(world[f"llava.questions.{split}"]):
            rows.append((s["image"], s["probes"][0]["category"], s["conversations"][1]["value"] == "Yes"))
    return rows, oracle


def _theme_of(oracle: Oracle) -> dict[str, str]:
    return {o["category"]: o["theme"] for scene in oracle.scenes.values() for o in scene["objects"]}


def _themes(oracle: Oracle, image: str) -> set[str]:
    theme_of = _theme_of(oracle)
    return {theme_of[c] for c in oracle.present(image)} | {oracle.scenes[image]["theme"]}


@pytest.mark.parametrize("yes_share", [0.2, 0.5, 0.8])
def test_yes_share_sets_the_share_of_yes_answers(tmp_path: Path, yes_share: float) -> None:
    rows, _ = _existence(tmp_path, questions_yes_share=yes_share)
    share = sum(yes for *_, yes in rows) / len(rows)
    assert abs(share - yes_share) < 0.03, share  # 3,000 questions: the sampling error is about 0.01


def test_mate_share_sets_where_absent_objects_come_from(tmp_path: Path) -> None:
    def mate_fraction(folder: Path, share: float) -> tuple[float, int]:
        rows, oracle = _existence(folder, questions_mate_share=share)
        negatives = [(image, c) for image, c, yes in rows if not yes]
        assert all(c not in oracle.present(image) for image, c in negatives)
        theme_of = _theme_of(oracle)
        mates = [theme_of[c] in _themes(oracle, image) for image, c in negatives]
        return sum(mates) / len(mates), len({c for _, c in negatives})

    hard, _ = mate_fraction(tmp_path / "hard", 1.0)
    uniform, asked = mate_fraction(tmp_path / "uniform", 0.0)
    assert hard > 0.97  # every absent object a theme-mate (unless the scene has none left)
    assert uniform < 0.45 and asked == 20  # drawn over all absent categories: every category gets asked about


def test_mate_questions_ask_half_about_present_objects_and_half_about_absent_theme_mates(tmp_path: Path) -> None:
    build_world(tmp_path, WorldConfig(num_images=150, seed=5, mate_questions_per_image=8))
    world = load_manifest(tmp_path)
    oracle = Oracle(world)
    theme_of = _theme_of(oracle)
    rows = [
        (s["image"], s["probes"][0]["category"], s["conversations"][1]["value"])
        for split in ("train", "val", "test")
        for s in read_json(world[f"llava.mate_questions.{split}"])
    ]
    assert len(rows) == 150 * 8
    assert all((answer == "Yes") == (c in oracle.present(image)) for image, c, answer in rows)  # checked vs the scene
    negatives = [(image, c) for image, c, answer in rows if answer == "No"]
    assert abs(len(negatives) / len(rows) - 0.5) < 0.05
    assert sum(theme_of[c] in _themes(oracle, image) for image, c in negatives) / len(negatives) > 0.97
