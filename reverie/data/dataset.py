"""Torch dataset of encoded samples (images decoded lazily) and the right-padding collate function.

An item is one row of a batch: a single sample, or several samples packed into one row (their tokens concatenated,
each a separate "unit" that attends only to itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from reverie.data.sample import IGNORE_INDEX, EncodedSample
from reverie.errors import InputError

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
)


def load_image(path: str, sample_id: str) -> Image.Image:
    """Decode an image file; a missing or corrupt file is an error naming the file and the sample."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (FileNotFoundError, UnidentifiedImageError, OSError) as e:
        raise InputError(f"sample {sample_id}: cannot read image {path}: {e}") from e


class EncodedDataset(Dataset):
    """Items are (row, loss_norm) pairs from a window batch sampler; a row is a sample index or a tuple of them."""

    def __init__(self, samples: list[EncodedSample], image_transform: Callable[[Image.Image], torch.Tensor]) -> None:
        self.samples = samples
        self.image_transform = image_transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, item: int | tuple[int | Sequence[int], float]) -> dict:
        row, loss_norm = item if isinstance(item, tuple) else (item, 0.0)
        members = [self.samples[i] for i in (row if isinstance(row, Sequence) else [row])]
        out = {key: torch.from_numpy(np.concatenate([getattr(s, key) for s in members])) for key in ROW_KEYS}
        out["unit_ids"] = torch.from_numpy(np.concatenate([np.full(len(s), u) for u, s in enumerate(members)]))
        out["packed"] = len(members) > 1 or any(s.is_tree for s in members)
        out["images"] = [self.image_transform(load_image(s.image, s.id)) for s in members if s.image is not None]
        out["loss_norm"] = loss_norm
        return out


class Collator:
    """Right-pads rows into a batch; stacks the images in the order their tokens appear."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor | None]:
        length = max(len(it["input_ids"]) for it in items)
        fill = {"input_ids": self.pad_token_id, "labels": IGNORE_INDEX, "target_ids": IGNORE_INDEX, "unit_ids": -1}
        batch: dict[str, torch.Tensor | None] = {}
        for key in (*ROW_KEYS, "unit_ids"):
            dtype = items[0][key].dtype
            out = torch.full((len(items), length), fill.get(key, 0), dtype=dtype)
            for row, it in enumerate(items):
                out[row, : len(it[key])] = it[key]
            batch[key] = out
        batch["attention_mask"] = (batch["unit_ids"] >= 0).long()
        if not any(it["packed"] for it in items):  # plain rows: a 2-D padding mask is all the model needs
            del batch["unit_ids"], batch["branch_ids"]
        images = [img for it in items for img in it["images"]]
        batch["pixel_values"] = torch.stack(images) if images else None
        batch["loss_norm"] = torch.tensor(items[0]["loss_norm"], dtype=torch.float32)
        return batch
