"""Small worlds built once per test session (a few tenths of a second each)."""

from __future__ import annotations

from pathlib import Path

import pytest
from world_oracle import Oracle

from reverie.world import WorldConfig, build_world, load_manifest

SMALL = WorldConfig(num_images=120, seed=7)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """role -> path of a 120-image world with default options."""
    out = tmp_path_factory.mktemp("world")
    build_world(out, SMALL)
    return load_manifest(out)


@pytest.fixture(scope="session")
def oracle(world: dict[str, Path]) -> Oracle:
    return Oracle(world)
