"""Fixtures for the annotation tests: stub servers on 127.0.0.1, stopped after each test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # stub_server, scripted

from scripted import KEY  # noqa: E402
from stub_server import Stub, image_index  # noqa: E402


@pytest.fixture
def stub_factory():
    """Starts stub servers on 127.0.0.1 and stops them after the test."""
    stubs: list[Stub] = []

    def start(images: Path, script, key: str | None = KEY) -> Stub:
        stubs.append(Stub(key, image_index(images), script))
        return stubs[-1]

    yield start
    for stub in stubs:
        stub.close()
