"""Shared test fixtures: small real data files (PNG images, REVERIE and LLaVA JSON) and a tiny trained tokenizer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sample_files import llava_records, reverie_records, write_images

MAX_WORKERS = 4  # pytest-xdist workers at most: each trains tiny models and builds small worlds (about 1.5 GB peak)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): one worker per core, at most MAX_WORKERS."""
    return max(1, min(MAX_WORKERS, len(os.sched_getaffinity(0))))


def _threads_per_worker() -> int:
    """The cores each xdist worker may use: the cores over the workers (one where they do not divide)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return max(1, len(os.sched_getaffinity(0)) // workers)


if "PYTEST_XDIST_WORKER" in os.environ:
    # Several workers with one OpenMP pool each, all on the same cores, spin against each other and run many times
    # slower than one alone; so each worker, and every process it starts (inherited environment), gets its share.
    os.environ["OMP_NUM_THREADS"] = str(_threads_per_worker())


def pytest_configure(config: pytest.Config) -> None:
    if "PYTEST_XDIST_WORKER" in os.environ:
        import torch

        torch.set_num_threads(_threads_per_worker())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A folder with images/, reverie.json and llava.json (12 images)."""
    images = write_images(tmp_path / "images", 12)
    (tmp_path / "reverie.json").write_text(json.dumps(reverie_records(images), ensure_ascii=False))
    (tmp_path / "llava.json").write_text(json.dumps(llava_records(images)))
    return tmp_path


TOKENIZER_TEXTS = [
    "What colour is the square? red green blue yellow. Explain why this answer is wrong.",
    "The whole square is filled with colour; nothing else appears. Describe the image in detail.",
    "Größe, naïve café — “quoted” «text» 日本語 and emoji 🙂 survive byte-level BPE.",
]


@pytest.fixture(scope="session")
def tokenizer():
    from reverie.data.tokenizer import train_bpe_tokenizer

    return train_bpe_tokenizer(TOKENIZER_TEXTS * 20, vocab_size=400)


TINY_LLAMA = {
    "model_type": "llama",
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 2048,
}
TINY_VIT = {"patch_size": 16, "embed_dim": 32, "depth": 2, "num_heads": 2}


@pytest.fixture
def make_lvlm(tokenizer):
    """A factory of tiny random LVLMs (timm ViT -> MLP -> Llama) for the session tokenizer."""
    import torch

    from reverie.models.llm import build_llm
    from reverie.models.lvlm import LVLM
    from reverie.models.projector import build_projector
    from reverie.models.vision import TimmVisionEncoder

    def make(seed: int = 0, llm_config: dict | None = None) -> LVLM:
        torch.manual_seed(seed)
        vision = TimmVisionEncoder("vit_tiny_patch16_224", image_size=48, model_kwargs=TINY_VIT)
        llm = build_llm(len(tokenizer), config=llm_config or TINY_LLAMA)
        projector = build_projector("mlp2x_gelu", vision.hidden_size, llm.config.hidden_size)
        return LVLM(vision, projector, llm, image_token_id=tokenizer.convert_tokens_to_ids("<image>"))

    return make


@pytest.fixture(scope="session")
def world_cache(tmp_path_factory):
    """A cache folder shared by the session's tests, so each small world (and its tower and base) is built once. Under
    xdist every worker shares one: reverie builds each cached thing under a file lock and renames it into place, so
    the first worker to need it builds it and the others wait and load it."""
    root = tmp_path_factory.getbasetemp()
    path = root.parent / "cache" if "PYTEST_XDIST_WORKER" in os.environ else root / "cache"
    path.mkdir(exist_ok=True)
    old = os.environ.get("REVERIE_CACHE_DIR")
    os.environ["REVERIE_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("REVERIE_CACHE_DIR")
    else:
        os.environ["REVERIE_CACHE_DIR"] = old


@pytest.fixture
def world_options(world_cache) -> list[str]:
    """Hydra overrides that point a run at a small built-in world in the session cache."""
    return ["world.num_images=60", f"paths.cache_dir={world_cache}"]


@pytest.fixture
def make_images():
    """`make_images(folder, n, size=48) -> names`: writes n small real PNG files."""
    return write_images
