"""Images decoded and transformed once per process: a byte-bounded in-memory cache of model-ready tensors.

Training revisits every image once per epoch and per sample that uses it (a world image backs dozens of questions),
and evaluation asks several questions per image. Decoding a PNG and running the transform is deterministic, so the
cached tensor is the one a fresh decode would give (tested), and caching changes no number. Past `max_bytes` new
images are decoded on every use (nothing is evicted), so a dataset larger than the budget still runs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from PIL import Image, UnidentifiedImageError

from reverie.errors import InputError


def load_image(path: str, sample_id: str) -> Image.Image:
    """Decode an image file; a missing or corrupt file is an error naming the file and the sample."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (FileNotFoundError, UnidentifiedImageError, OSError) as e:
        raise InputError(f"sample {sample_id}: cannot read image {path}: {e}") from e


class ImageCache:
    """path -> transformed tensor, decoded on first use and kept while the cache holds under `max_bytes`."""

    def __init__(self, transform: Callable[[Image.Image], torch.Tensor], max_bytes: int = 1 << 30) -> None:
        self.transform = transform
        self.max_bytes = max_bytes  # 0 = no caching (decode on every use)
        self.bytes = 0
        self.hits = 0
        self.decodes = 0
        self._tensors: dict[str, torch.Tensor] = {}

    def __call__(self, path: str, sample_id: str) -> torch.Tensor:
        tensor = self._tensors.get(path)
        if tensor is not None:
            self.hits += 1
            return tensor
        self.decodes += 1
        tensor = self.transform(load_image(path, sample_id))
        size = tensor.numel() * tensor.element_size()
        if self.bytes + size <= self.max_bytes:
            self._tensors[path] = tensor
            self.bytes += size
        return tensor

    def __len__(self) -> int:
        return len(self._tensors)
