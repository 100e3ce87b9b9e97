"""The scripted annotator the stub server plays in tests, and distinct real PNG images for it to tell apart."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from stub_server import field

KEY = "sk-test-0123456789abcdef-never-print"


def make_images(folder: Path, names: list[str]) -> Path:
    """One distinct PNG per name (width differs), so the stub can tell them apart by content."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        Image.new("RGB", (16 + i, 16), (40 * i % 256, 80, 160)).save(folder / name)
    return folder


def question_image(prompt: str) -> str:
    """The image a question is about (the scripted questions name it)."""
    return field(prompt, "Question").split(" fills ")[1].split(" ")[0]


def qa_items(image: str, n: int = 3) -> list[dict]:
    return [
        {
            "question": f"Which colour fills {image} (q{j})?",
            "correct_answer": f"colour{j}",
            "confusing_answer": f"other{j}",
        }
        for j in range(n)
    ]


def good(step: str, image: str | None, prompt: str) -> str:
    """What a well-behaved annotator answers."""
    if step == "qa":
        return json.dumps(qa_items(image))
    if step == "positive":
        return f"The fill of the picture shows why {field(prompt, 'Answer')} is right."
    if step == "negative":
        return f"Nothing in the picture supports {field(prompt, 'Incorrect Answer')}."
    return "No"
