"""Fixtures for evaluation tests: real small images and JSONL files in tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image


@pytest.fixture
def make_image(tmp_path: Path) -> Callable[..., Path]:
    """``make_image(name, folder=tmp_path/"images")`` writes a real 16x16 image; the suffix picks JPEG or PNG."""

    def make(name: str, folder: Path | None = None) -> Path:
        path = (folder or tmp_path / "images") / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (16, 16), (200, 40, 40)).save(path)
        return path

    return make
