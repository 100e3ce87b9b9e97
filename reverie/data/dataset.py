"""Torch dataset of encoded samples (images decoded once, on first use) and the right-padding collate function.

An item is one row of a batch: a single sample, or several samples packed into one row (their tokens concatenated,
each a separate "unit" that attends only to itself). Each image also gets its index in `image_index` (the distinct
image files of the run), so a frozen vision tower's features can be computed once per image
(`reverie.training.frozen_features`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset

from reverie.data.images import ImageCache
from reverie.data.sample import IGNORE_INDEX, EncodedSample

ROW_KEYS = (
    "input_ids",
    "labels",
    "segment_ids",
    "target_ids",
    "target_segments",
    "target_mult",
    "position_ids",
    "branch_ids",
    "preference",
    "ref_logps",  # DPO reference log-probs when objective.reference=precomputed (reverie.training.precomputed_reference)
)


def image_index(*sample_lists: Sequence[EncodedSample]) -> dict[str, int]:
    """A number for each distinct image file of the given samples, in sorted path order (the same on every rank)."""
    paths = sorted({s.image for samples in sample_lists for s in samples if s.image is not None})
    return {p: i for i, p in enumerate(paths)}


class EncodedDataset(Dataset):
    """Items are (row, loss_norm) pairs from a window batch sampler; a row is a sample index or a tuple of them."""

    def __init__(
        self,
        samples: list[EncodedSample],
        images: ImageCache | Callable[[Image.Image], torch.Tensor],
        index: dict[str, int] | None = None,
    ) -> None:
        """`images`: a shared cache, or an image transform (this dataset then caches with its own); `index`: the
        numbering of image files shared with other datasets of the run (default: this dataset's own)."""
        self.samples = samples
        self.images = images if isinstance(images, ImageCache) else ImageCache(images)
        self.index = index if index is not None else image_index(samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, item: int | tuple[int | Sequence[int], float]) -> dict:
        row, loss_norm = item if isinstance(item, tuple) else (item, 0.0)
        members = [self.samples[i] for i in (row if isinstance(row, Sequence) else [row])]
        out = {key: torch.from_numpy(_joined([getattr(s, key) for s in members])) for key in ROW_KEYS}
        out["unit_ids"] = torch.from_numpy(_joined([np.full(len(s), u) for u, s in enumerate(members)]))
        out["packed"] = len(members) > 1 or any(s.is_tree for s in members)
        out["images"] = [self.images(s.image, s.id) for s in members if s.image is not None]
        out["image_ids"] = [self.index[s.image] for s in members if s.image is not None]
        out["loss_norm"] = loss_norm
        return out


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)  # one sample: its own array (read only)


class Collator:
    """Right-pads rows into a batch; stacks the images in the order their tokens appear."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor | None]:
        fill = {"input_ids": self.pad_token_id, "labels": IGNORE_INDEX, "target_ids": IGNORE_INDEX, "unit_ids": -1}
        batch: dict[str, torch.Tensor | None] = {}
        for key in (*ROW_KEYS, "unit_ids"):
            # every key of a row has the row's length, so each pads to the longest row
            batch[key] = pad_sequence([it[key] for it in items], batch_first=True, padding_value=fill.get(key, 0))
        batch["attention_mask"] = (batch["unit_ids"] >= 0).long()
        if not any(it["packed"] for it in items):  # plain rows: a 2-D padding mask is all the model needs
            del batch["unit_ids"], batch["branch_ids"]
        images = [img for it in items for img in it["images"]]
        batch["pixel_values"] = torch.stack(images) if images else None
        batch["image_ids"] = torch.tensor([i for it in items for i in it["image_ids"]], dtype=torch.long)
        batch["loss_norm"] = torch.tensor(items[0]["loss_norm"], dtype=torch.float32)
        return batch
