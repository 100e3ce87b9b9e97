"""Pretrains a tiny vision tower on the built-in world's training scenes: the CPU stand-in for a CLIP checkpoint.

Real LVLMs start from a pretrained encoder. A random tower trained jointly with a random LLM does not learn to see
the world within a CPU budget (experiments/00). Here each image token learns, with a linear head that is then
discarded, the category and the colour of the object in the grid cell it covers ("empty" where there is none).
Only the train split is used. Weights are cached under `cache_dir/tower/<key>.pt`, the key hashing the world's
scenes and images, the encoder's config, the pretraining options and the code that trains it, so each distinct tower is trained once.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from PIL import Image
from torch import nn

from reverie.checkpoints import safe_load
from reverie.provenance import cache_key, content_hash, source_hash
from reverie.world.config import GRID


def cell_labels(scene: dict, grid_tokens: int, categories: list[str], colors: list[str]) -> torch.Tensor:
    """(grid_tokens**2, 2) labels per image token, row-major: [category index, colour index]; empty = len(list)."""
    labels = torch.tensor([len(categories), len(colors)]).repeat(GRID, GRID, 1)
    for obj in scene["objects"]:
        row, col = obj["cell"]
        labels[row, col] = torch.tensor([categories.index(obj["category"]), colors.index(obj["color"])])
    centre = (torch.arange(grid_tokens) * 2 + 1) * GRID // (2 * grid_tokens)  # grid cell under each token's centre
    return labels[centre][:, centre].reshape(-1, 2)


def pretrain_tower(
    tower: nn.Module, scenes: list[dict], images: Path, steps: int, batch_size: int, lr: float, seed: int
) -> dict[str, float]:
    """Trains `tower` in place on the scenes; returns the final per-token accuracies on the training images."""
    grid_tokens = round(tower.num_tokens**0.5)
    if grid_tokens**2 != tower.num_tokens:
        raise ValueError(f"tower pretraining needs a square token grid without CLS; got {tower.num_tokens} tokens")
    categories = sorted({o["category"] for s in scenes for o in s["objects"]})
    colors = sorted({o["color"] for s in scenes for o in s["objects"]})
    transform = tower.image_transform()
    pixels = torch.stack([transform(Image.open(images / s["image"]).convert("RGB")) for s in scenes])
    labels = torch.stack([cell_labels(s, grid_tokens, categories, colors) for s in scenes])
    heads = nn.ModuleList(
        [nn.Linear(tower.hidden_size, len(categories) + 1), nn.Linear(tower.hidden_size, len(colors) + 1)]
    )
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW([*tower.parameters(), *heads.parameters()], lr=lr)
    tower.train()
    for _ in range(steps):
        idx = torch.randint(0, len(scenes), (batch_size,), generator=generator)
        features = tower(pixels[idx])
        loss = sum(
            nn.functional.cross_entropy(head(features).flatten(0, 1), labels[idx, :, k].flatten())
            for k, head in enumerate(heads)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        features = torch.cat([tower(pixels[i : i + 256]) for i in range(0, len(scenes), 256)])
        return {
            name: (head(features).argmax(-1) == labels[..., k]).float().mean().item()
            for k, (name, head) in enumerate(zip(("category", "color"), heads, strict=True))
        }


def world_pretrained_tower(
    encoder: DictConfig,
    scenes: str,
    images: str,
    cache_dir: str,
    steps: int = 400,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
) -> nn.Module:
    """The encoder `encoder` describes, pretrained on the world's training scenes (cached; built on first use).
    `steps=0` keeps the seeded random init, built in memory and never cached (a run then trains the tower inside the
    LVLM; `reverie.evaluate` loads its weights from the checkpoint)."""
    from filelock import FileLock

    if steps == 0:
        with torch.random.fork_rng():  # the caller's RNG: the same as when a pretrained tower is loaded
            torch.manual_seed(seed)
            return instantiate(encoder)
    scenes_text = Path(scenes).read_text()
    options = {
        "encoder": OmegaConf.to_container(encoder, resolve=True),
        "steps": steps,
        "batch": batch_size,
        "lr": lr,
        "seed": seed,
        "scenes": hashlib.sha256(scenes_text.encode()).hexdigest(),
        "images": content_hash(images),  # the rendered pixels it learns from
        "code": source_hash("models/tower_pretrain.py", "models/vision.py"),  # the code that builds and trains it
    }
    key = cache_key(options)
    target = Path(cache_dir).expanduser().resolve() / "tower" / f"{key}.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    with torch.random.fork_rng(), FileLock(str(target) + ".lock"):  # the caller's RNG: same whether trained or loaded
        torch.manual_seed(seed)
        tower = instantiate(encoder)
        if not target.is_file():
            train = [json.loads(line) for line in scenes_text.splitlines() if line.strip()]
            train = [s for s in train if s["split"] == "train"]
            print(f"[reverie] pretraining the vision tower on {len(train)} world images ({steps} steps) -> {target}")
            accuracy = pretrain_tower(tower, train, Path(images), steps, batch_size, lr, seed)
            print(f"[reverie] tower per-token accuracy on its training images: {accuracy}")
            tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
            torch.save(tower.state_dict(), tmp)
            tmp.rename(target)
    tower.load_state_dict(safe_load(target))
    tower.content_hash = content_hash(target)  # recorded in the run's provenance
    return tower
