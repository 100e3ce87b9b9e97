"""Small worlds built once per test session (a few tenths of a second each).

``world`` / ``oracle`` are parametrised over contrasting configurations, so every generic check runs on each;
``default_world`` / ``default_oracle`` are the default options at 120 images, for checks of default behaviour.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from world_oracle import Oracle

from reverie.world import WorldConfig, build_world, load_manifest

DEFAULT = WorldConfig(num_images=120, seed=7)
WORLDS = {
    "default": DEFAULT,
    # one theme (5 categories), crowded scenes, full bias: absent objects are scarce, lists run out
    # and the REVERIE mix without co-occurrence records (the share is tested in test_world_reverie_cooccur.py)
    "dense-one-theme": WorldConfig(
        num_images=60,
        seed=3,
        themes=["garden"],
        min_objects=4,
        max_objects=6,
        bias_strength=1.0,
        image_size=37,
        reverie_cooccur_share=0.0,
    ),
    # sparse, unbiased scenes at encoder resolution, every REVERIE question type equally likely
    "sparse-unbiased-224": WorldConfig(
        num_images=60,
        seed=4,
        max_objects=3,
        bias_strength=0.0,
        popularity_skew=0.0,
        image_size=224,
        reverie_types={"short_answer": 1, "yes_no": 1, "multiple_choice": 1, "open_ended": 1},
        reverie_cooccur_share=0.0,  # enough colour questions in 60 images for the plausibility check
    ),
}


def _build(tmp_path_factory: pytest.TempPathFactory, name: str) -> dict[str, Path]:
    out = tmp_path_factory.mktemp(name)
    build_world(out, WORLDS[name])
    return load_manifest(out)


@pytest.fixture(scope="session", params=list(WORLDS))
def world_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, world_name: str) -> dict[str, Path]:
    """role -> path of each world in WORLDS."""
    return _build(tmp_path_factory, world_name)


@pytest.fixture(scope="session")
def world_cfg(world_name: str) -> WorldConfig:
    return WORLDS[world_name]


@pytest.fixture(scope="session")
def oracle(world: dict[str, Path]) -> Oracle:
    return Oracle(world)


@pytest.fixture(scope="session")
def default_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _build(tmp_path_factory, "default")


@pytest.fixture(scope="session")
def default_oracle(default_world: dict[str, Path]) -> Oracle:
    return Oracle(default_world)
