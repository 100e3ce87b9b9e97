"""`objective.reference=precomputed`: the DPO reference's log-probabilities computed in one pass before training.

The live reference (`reverie.training.reference.ReferencePolicy`) keeps a frozen copy of every part that trains, so
full fine-tuning DPO holds two models. Here the reference never exists beside the policy: before the first step the
starting weights (the policy itself, adapters disabled under LoRA) score every preference pair of the train and val
data once, and each pair sample keeps the reference log-probability of each of its targets (`EncodedSample.ref_logps`,
batched like the other token arrays). Training then reads them from the batch: the loss equals the live reference's.

The values are cached on disk under `objective.reference_cache/<key>`, the key a hash of the starting weights, the
pairs (tokens, image files' bytes, image transform) and this code. They are written in chunks as they are computed,
so an interrupted pass resumes from the last finished chunk, and a resumed run (its weights no longer the starting
ones) reads them back; a resumed run whose cache is gone stops with an error instead of scoring with trained weights.
Under DDP rank 0 computes and writes, the other ranks wait and read.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack, nullcontext
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from reverie.data.dataset import Collator, EncodedDataset
from reverie.data.images import ImageCache
from reverie.data.sample import IGNORE_INDEX, EncodedSample
from reverie.errors import InputError
from reverie.models.lvlm import LVLM
from reverie.provenance import cache_key, content_hash, source_hash
from reverie.training.reference import has_adapters


def weights_hash(model: nn.Module) -> str:
    """sha256 (16 hex) of every parameter and buffer of ``model``: names, dtypes, shapes and bytes."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        t = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}:{t.dtype}:{tuple(tensor.shape)}\0".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def data_hash(samples: Sequence[EncodedSample], image_transform: object) -> str:
    """sha256 (16 hex) of what the reference sees of ``samples``: token arrays, image bytes and the image transform."""
    digest = hashlib.sha256(repr(image_transform).encode())
    images: dict[str, str] = {}
    for s in samples:
        digest.update(f"{s.id}\0".encode())
        for key in ("input_ids", "target_ids", "position_ids", "branch_ids", "preference"):
            digest.update(np.ascontiguousarray(getattr(s, key)).tobytes())
        if s.image is not None:
            digest.update(images.setdefault(s.image, content_hash(s.image)).encode())
    return digest.hexdigest()[:16]


class PrecomputedReference:
    """Reference log-probabilities read from the batch (`ref_logps`), filled by ``prepare`` before training."""

    def __init__(self, policy: LVLM, cache_dir: str | Path | None, batch_size: int = 8, chunk_size: int = 512) -> None:
        self.weights = weights_hash(policy)  # the starting weights (after init_from and the stage), before any step
        self.adapters = has_adapters(policy.language_model)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.batch_size, self.chunk_size = batch_size, chunk_size
        self.report: dict[str, object] = {}
        self.prepared = False

    def token_losses(self, policy: LVLM, batch: dict) -> torch.Tensor:
        """CE of every next-token target under the starting weights, in `LVLM.token_losses` order (M,); only pair
        targets carry values (the objective reads no others)."""
        if not self.prepared:
            raise RuntimeError("precomputed DPO reference used before prepare() filled the samples' ref_logps")
        return -batch["ref_logps"][batch["target_ids"] != IGNORE_INDEX]

    def prepare_for(self, trainer, policy: LVLM) -> None:
        """``prepare`` on the trainer's datamodule (called at the start of fit)."""
        dm = trainer.datamodule
        self.prepare(
            policy,
            [*dm.train_samples, *dm.val_samples],
            dm.images,  # the run's decoded images: each decoded once for scoring and training
            dm.collator,
            resumed=trainer.ckpt_path is not None,
            rank=trainer.global_rank,
            world_size=trainer.world_size,
            barrier=trainer.strategy.barrier,
            context=trainer.precision_plugin.forward_context,
        )

    def prepare(
        self,
        policy: LVLM,
        samples: Sequence[EncodedSample],
        images: ImageCache | Callable,
        collator: Collator,
        *,
        resumed: bool = False,
        rank: int = 0,
        world_size: int = 1,
        barrier: Callable[[], None] | None = None,
        context: Callable[[], AbstractContextManager] = nullcontext,
    ) -> dict[str, object]:
        """Fill ``ref_logps`` of every pair sample of ``samples``: from the cache, else by scoring them with
        ``policy`` (which must still hold the starting weights, so not when ``resumed``)."""
        start = time.perf_counter()
        pairs = [s for s in samples if s.preference.any()]
        image_transform = images.transform if isinstance(images, ImageCache) else images
        key = cache_key({"weights": self.weights, "data": data_hash(pairs, image_transform), "code": _CODE})
        folder = self.cache_dir / key if self.cache_dir else None
        chunks = [pairs[i : i + self.chunk_size] for i in range(0, len(pairs), self.chunk_size)]
        cached = [_read(folder, i) if folder else None for i in range(len(chunks))]
        missing = [i for i, values in enumerate(cached) if values is None]
        shared = folder is not None and world_size > 1  # rank 0 computes, the others read its files
        if missing and resumed:
            raise InputError(
                f"objective.reference=precomputed: resuming, but the reference log-probs of the starting weights are "
                f"not (all) in {folder or 'a cache (objective.reference_cache is null)'}; they cannot be computed "
                "from trained weights. Restore that cache or start the run again."
            )
        if missing and (rank == 0 or not shared):
            for i in missing:
                cached[i] = self._score(policy, chunks[i], images, collator, context)
                if folder is not None and rank == 0:
                    _write(folder, i, cached[i])
        if shared:  # every rank, missing chunks or not (rank 0 may have written them all before another looked)
            assert barrier is not None
            barrier()
            cached = [values if values is not None else _read(folder, i) for i, values in enumerate(cached)]
        for chunk, values in zip(chunks, cached, strict=True):
            assert values is not None
            for s, v in zip(chunk, values, strict=True):
                s.ref_logps = np.zeros(len(s), dtype=np.float32)
                s.ref_logps[s.target_ids != IGNORE_INDEX] = v
        self.prepared = True
        computed = sum(len(chunks[i]) for i in missing) if rank == 0 or not shared else 0
        self.report = {
            "pairs": len(pairs),
            "computed": computed,
            "from_cache": len(pairs) - computed,
            "seconds": round(time.perf_counter() - start, 3),
            "cache": str(folder) if folder else None,
        }
        print(f"[reverie] DPO reference log-probs precomputed: {self.report}")
        return self.report

    @torch.no_grad()
    def _score(
        self,
        policy: LVLM,
        samples: list[EncodedSample],
        images: ImageCache | Callable,
        collator: Collator,
        context: Callable[[], AbstractContextManager],
    ) -> list[np.ndarray]:
        """Reference log-prob of each target of each sample (one sample per row, no packing)."""
        loader = DataLoader(EncodedDataset(samples, images), batch_size=self.batch_size, collate_fn=collator)
        device = next(policy.parameters()).device
        modes = {m: m.training for m in policy.modules()}
        policy.eval()
        out: list[np.ndarray] = []
        try:
            with ExitStack() as stack:
                if self.adapters:
                    stack.enter_context(policy.language_model.disable_adapter())
                stack.enter_context(context())
                for batch in loader:
                    batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
                    ce = policy.token_losses(batch)[0].float()
                    per_row = (batch["target_ids"] != IGNORE_INDEX).sum(1).tolist()
                    out += [(-part).cpu().numpy() for part in ce.split(per_row)]
        finally:
            for m, training in modes.items():
                m.training = training
        return out


_CODE = source_hash("training/precomputed_reference.py", "models/lvlm.py")


def _path(folder: Path, index: int) -> Path:
    return folder / f"chunk_{index:05d}.npz"


def _read(folder: Path, index: int) -> list[np.ndarray] | None:
    path = _path(folder, index)
    if not path.is_file():
        return None
    with np.load(path) as data:
        return np.split(data["values"], np.cumsum(data["lengths"])[:-1])


def _write(folder: Path, index: int, values: list[np.ndarray]) -> None:
    """One chunk, atomically (a file is either whole or absent, so an interrupted pass resumes cleanly)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".chunk_{index:05d}.{os.getpid()}.npz"
    lengths = np.array([len(v) for v in values], dtype=np.int64)
    np.savez(tmp, values=np.concatenate(values) if values else np.zeros(0, np.float32), lengths=lengths)
    os.replace(tmp, _path(folder, index))
