"""The hf_local backend's plumbing on a tiny random-weight LLaVA saved to a folder: batched generation equals one
request at a time, text-only requests work, token counts are reported, and the pipeline counts its unreadable
replies as failures instead of crashing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripted import make_images
from tiny_vlm import save_tiny_llava

from reverie.annotate.backends.base import Request
from reverie.annotate.backends.hf_local import HFLocal
from reverie.annotate.job import run_job
from reverie.annotate.pipeline import PipelineSettings
from reverie.annotate.prompts import Prompts


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_llava(tmp_path_factory.mktemp("tiny_llava"))


def test_batched_generation_equals_one_request_at_a_time(model_dir: Path, tmp_path: Path) -> None:
    images = make_images(tmp_path / "images", ["a.png", "b.png", "c.png"])
    backend = HFLocal(str(model_dir), batch_size=3, max_new_tokens=6, device="cpu")
    requests = [
        Request("qa", "Which colour fills the image?" + " Yes" * i, images / f"{n}.png") for i, n in enumerate("abc")
    ]
    batched = backend.complete(requests)
    single = [backend.complete([r])[0] for r in requests]
    assert [r.text for r in batched] == [r.text for r in single]
    assert [r.tokens_in for r in batched] == [r.tokens_in for r in single]
    assert len({r.tokens_in for r in batched}) == 3  # the prompts differ in length; padding is not counted
    assert all(r.tokens_in > 16 and 1 <= r.tokens_out <= 6 for r in batched)  # 16 image tokens + the text
    judge = backend.complete([Request("judge", "Yes or no?", None)])[0]  # text only, as the judge asks
    rendered = backend.processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "text", "text": "Yes or no?"}]}],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert judge.tokens_in == len(backend.processor.tokenizer(rendered)["input_ids"]) and 1 <= judge.tokens_out <= 6


def test_the_pipeline_counts_unreadable_replies_as_failures(model_dir: Path, tmp_path: Path) -> None:
    images = make_images(tmp_path / "images", ["a.png", "b.png"])
    backend = HFLocal(str(model_dir), batch_size=2, max_new_tokens=4, device="cpu")
    settings = PipelineSettings(max_attempts=2)
    summary = run_job(images, tmp_path / "out", backend, Prompts.default(), settings, progress=False)
    assert summary["requests"]["failures"] == {"qa": 2} and summary["requests"]["calls"] == {"qa": 4}
    assert summary["requests"]["retries"]["malformed"] == 2
    assert summary["tokens"]["out"] > 0 and summary["annotator"]["max_new_tokens"] == 4
    failures = [json.loads(line) for line in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert [f["image"] for f in failures] == ["a.png", "b.png"] and all("malformed" in f["error"] for f in failures)
    assert json.loads((tmp_path / "out" / "reverie.json").read_text()) == []


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model folder not found"):
        HFLocal(str(tmp_path / "nothing"))
