"""A frozen vision tower runs once per image: its outputs kept per image (byte-bounded) and reused every epoch.

While the stage freezes the tower (LLaVA-1.5's both stages), an image's features never change, yet the tower would
run on every batch that holds the image. The data module numbers the run's image files (`image_ids` in each batch);
`FrozenFeatures.attach` computes the tower only for ids it has not seen and hands the LVLM the stored outputs
(`image_features`). A frozen tower always runs in evaluation mode (`ReverieModule.train`), and each image runs
alone (a batch of one), so its features depend neither on when they are computed nor on which images share its
batch: a run resumed with an empty store gets bit-identical features (tests/scale/test_resume.py), and stored
features equal the tower run on a whole batch to float rounding (tested). Past `max_bytes`, new images
are computed on every use. A trainable tower (`stage.train_vision_tower`) turns the cache off.
"""

from __future__ import annotations

import torch
from torch import nn


def is_frozen(module: nn.Module) -> bool:
    return not any(p.requires_grad for p in module.parameters())


class FrozenFeatures:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes  # 0 = off
        self.bytes = 0
        self.computed = 0  # images the tower ran on
        self.reused = 0  # images served from the store
        self._store: dict[int, torch.Tensor] = {}

    def clear(self) -> None:
        self._store.clear()
        self.bytes = 0

    @torch.no_grad()
    def attach(self, tower: nn.Module, batch: dict) -> dict:
        """The batch with `image_features` (the tower's outputs, one per image) when the tower is frozen."""
        pixels, ids = batch.get("pixel_values"), batch.get("image_ids")
        if self.max_bytes <= 0 or pixels is None or ids is None or len(ids) != len(pixels) or not is_frozen(tower):
            return batch
        keys = ids.tolist()
        rows = {k: j for j, k in enumerate(keys) if k not in self._store}  # first row of each unseen image
        fresh: dict[int, torch.Tensor] = {}
        if rows:
            out = torch.cat([tower(pixels[j : j + 1]) for j in rows.values()])
            for n, k in enumerate(rows):
                fresh[k] = out[n].clone()
                size = fresh[k].numel() * fresh[k].element_size()
                if self.bytes + size <= self.max_bytes:
                    self._store[k] = fresh[k]
                    self.bytes += size
        self.computed += len(rows)
        self.reused += len(keys) - len(rows)
        features = torch.stack([fresh[k] if k in fresh else self._store[k] for k in keys])
        return {**batch, "image_features": features}
