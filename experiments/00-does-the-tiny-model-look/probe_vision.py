"""Can the tiny vision tower alone learn which objects an image of the built-in world holds?

Trains the default tiny ViT (16 px patches here: one token per grid cell) with a linear multi-label head on 800
images and reports per-label accuracy and recall on 200 held-out images.

    python experiments/00-does-the-tiny-model-look/probe_vision.py [--patch 16] [--steps 600]
"""

import argparse
import json
import tempfile
from pathlib import Path

import torch
from PIL import Image

from reverie.models.vision import TimmVisionEncoder
from reverie.world import WorldConfig, build_world, load_manifest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args()
    torch.manual_seed(0)
    world = Path(tempfile.mkdtemp()) / "world"
    build_world(world, WorldConfig(num_images=1000))
    files = load_manifest(world)
    scenes = [json.loads(line) for line in files["scenes"].read_text().splitlines()]
    cats = sorted({o["category"] for s in scenes for o in s["objects"]})
    kwargs = {"patch_size": args.patch, "embed_dim": 96, "depth": 3, "num_heads": 4, "mlp_ratio": 2.0}
    vis = TimmVisionEncoder("vit_tiny_patch16_224", 48, model_kwargs=kwargs)
    tf = vis.image_transform()
    x = torch.stack([tf(Image.open(files["images"] / s["image"]).convert("RGB")) for s in scenes])
    y = torch.zeros(len(scenes), len(cats))
    for i, s in enumerate(scenes):
        for o in s["objects"]:
            y[i, cats.index(o["category"])] = 1
    head = torch.nn.Linear(96, len(cats))
    opt = torch.optim.AdamW([*vis.parameters(), *head.parameters()], lr=1e-3)
    for step in range(args.steps):
        idx = torch.randint(0, 800, (64,))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(vis(x[idx]).max(1).values), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0:
            with torch.no_grad():
                pred = head(vis(x[800:]).max(1).values) > 0
            truth = y[800:].bool()
            recall = (pred & truth).sum().item() / truth.sum().item()
            print(
                f"step {step + 1}: loss {loss.item():.3f}, held-out label accuracy "
                f"{(pred == truth).float().mean().item():.3f}, recall {recall:.3f}"
            )


if __name__ == "__main__":
    main()
