"""Torch dataset of encoded samples (images decoded lazily) and the right-padding collate function."""

from __future__ import annotations

from collections.abc import Callable

import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from reverie.data.encode import IGNORE_INDEX, EncodedSample


def load_image(path: str, sample_id: str) -> Image.Image:
    """Decode an image file; a missing or corrupt file is an error naming the file and the sample."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (FileNotFoundError, UnidentifiedImageError, OSError) as e:
        raise ValueError(f"sample {sample_id}: cannot read image {path}: {e}") from e


class EncodedDataset(Dataset):
    """Items are (index, loss_norm) pairs from `WindowBatchSampler`, or plain indices (loss_norm = 0)."""

    def __init__(self, samples: list[EncodedSample], image_transform: Callable[[Image.Image], torch.Tensor]) -> None:
        self.samples = samples
        self.image_transform = image_transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, item: int | tuple[int, float]) -> dict:
        index, loss_norm = item if isinstance(item, tuple) else (item, 0.0)
        s = self.samples[index]
        out = {
            "input_ids": torch.from_numpy(s.input_ids),
            "labels": torch.from_numpy(s.labels),
            "segment_ids": torch.from_numpy(s.segment_ids),
            "loss_norm": loss_norm,
        }
        if s.image is not None:
            out["pixel_values"] = self.image_transform(load_image(s.image, s.id))
        return out


class Collator:
    """Right-pads a list of items into a batch; stacks the images of the samples that have one, in order."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        length = max(len(it["input_ids"]) for it in items)

        def pad(key: str, value: int) -> torch.Tensor:
            out = torch.full((len(items), length), value, dtype=torch.long)
            for row, it in enumerate(items):
                out[row, : len(it[key])] = it[key]
            return out

        attention_mask = torch.zeros(len(items), length, dtype=torch.long)
        for row, it in enumerate(items):
            attention_mask[row, : len(it["input_ids"])] = 1
        images = [it["pixel_values"] for it in items if "pixel_values" in it]
        return {
            "input_ids": pad("input_ids", self.pad_token_id),
            "labels": pad("labels", IGNORE_INDEX),
            "segment_ids": pad("segment_ids", 0),
            "attention_mask": attention_mask,
            "pixel_values": torch.stack(images) if images else None,
            "loss_norm": torch.tensor(items[0]["loss_norm"], dtype=torch.float32),
        }
