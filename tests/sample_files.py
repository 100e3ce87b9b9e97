"""Small real data files for tests (PNG images, REVERIE and LLaVA records), importable by any test module.

A module of its own, not conftest.py: several folders have a conftest.py, so `from conftest import ...` would pick
whichever was imported first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from PIL import Image

COLOURS = ["red", "green", "blue", "yellow"]


def write_images(folder: Path, n: int, size: int = 48) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(n):
        name = f"{i:03d}.png"
        Image.new("RGB", (size, size), COLOURS[i % len(COLOURS)]).save(folder / name)
        names.append(name)
    return names


def reverie_records(images: list[str]) -> list[dict]:
    return [
        {
            "id": f"r{i}",
            "image": name,
            "question": f"What colour is the square in picture {i}?",
            "correct_answer": COLOURS[i % 4],
            "confusing_answer": COLOURS[(i + 1) % 4],
            "correct_rationale": f'The whole square is filled with {COLOURS[i % 4]} — "no" other colour appears.',
            "incorrect_rationale": f"Nothing in the image is {COLOURS[(i + 1) % 4]}; every pixel is {COLOURS[i % 4]}.",
        }
        for i, name in enumerate(images)
    ]


def llava_records(images: list[str]) -> list[dict]:
    return [
        {
            "id": f"l{i}",
            "image": name,
            "conversations": [
                {"from": "human", "value": "<image>\nDescribe the image in detail."},
                {"from": "gpt", "value": f"A plain {COLOURS[i % 4]} square fills the picture."},
                {"from": "human", "value": "Is it bright?"},
                {"from": "gpt", "value": "Yes."},
            ],
        }
        for i, name in enumerate(images)
    ]


def write_lines(path: Path, rows: Iterable[dict | str]) -> Path:
    """JSONL from dicts; strings are written as they are (for malformed lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path
