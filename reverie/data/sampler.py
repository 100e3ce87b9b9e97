"""Batch sampler that knows the gradient-accumulation window, so the loss can be normalised over the whole window.

Every micro-batch comes with the summed token weight of all micro-batches in its optimizer step (across all
accumulation steps and all ranks). Dividing a micro-batch's summed token loss by that number makes the update equal
to one big batch's token-mean loss, however unequal the sample lengths (field-lessons: "Loss normalisation under
gradient accumulation").

Optionally it packs samples into rows of at most `pack_length` tokens (first-fit) and groups batches by modality and
length (LLaVA's trick, here also correct when every sample has an image, or none). Everything is seeded by
(seed, epoch), and `skip_batches` resumes mid-epoch on exactly the batches not yet seen.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler

Row = tuple[int, ...]


def first_fit(order: Sequence[int], lengths: np.ndarray, capacity: int) -> list[Row]:
    """Pack indices, in the given order, into rows whose total length stays within `capacity` (first fit)."""
    rows: list[list[int]] = []
    room: list[int] = []
    for i in order:
        n = int(lengths[i])
        if n > capacity:
            raise ValueError(f"sample {i} has {n} tokens, more than the packing length {capacity}")
        for r, free in enumerate(room):
            if n <= free:
                rows[r].append(int(i))
                room[r] -= n
                break
        else:
            rows.append([int(i)])
            room.append(capacity - n)
    return [tuple(r) for r in rows]


class WindowBatchSampler(Sampler[list[tuple[Row, float]]]):
    def __init__(
        self,
        token_weights: Sequence[float],
        batch_size: int,
        accumulate_grad_batches: int = 1,
        num_replicas: int = 1,
        rank: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        lengths: Sequence[int] | None = None,
        has_image: Sequence[bool] | None = None,
        pack_length: int = 0,
        group_by_length: bool = False,
        megabatch: int = 50,
        even_ranks: bool = True,
    ) -> None:
        if batch_size < 1 or accumulate_grad_batches < 1:
            raise ValueError(
                f"batch_size={batch_size} and accumulate_grad_batches={accumulate_grad_batches} must be >= 1"
            )
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} out of range for {num_replicas} replicas")
        if (pack_length or group_by_length) and lengths is None:
            raise ValueError("packing and length grouping need the samples' lengths")
        self.token_weights = np.asarray(token_weights, dtype=np.float64)
        self.lengths = np.asarray(lengths if lengths is not None else np.ones(len(self.token_weights)), dtype=np.int64)
        self.has_image = np.asarray(
            has_image if has_image is not None else np.ones(len(self.token_weights)), dtype=bool
        )
        self.batch_size, self.accumulate = batch_size, accumulate_grad_batches
        self.num_replicas, self.rank = num_replicas, rank
        self.shuffle, self.seed = shuffle, seed
        self.pack_length, self.group_by_length, self.megabatch = pack_length, group_by_length, megabatch
        self.even_ranks = even_ranks  # training: same step count on every rank (reuse batches); eval: no repeats
        self.epoch = 0
        self.skip_batches = 0  # batches of this rank already consumed in the current epoch (mid-epoch resume)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _rows(self, rng: np.random.Generator) -> list[Row]:
        n = len(self.token_weights)
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        if self.pack_length:
            return first_fit(order, self.lengths, self.pack_length)
        return [(int(i),) for i in order]

    def _global_batches(self) -> list[list[Row]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        rows = self._rows(rng)
        if self.group_by_length:  # within megabatches: same modality together, then longest first
            # A megabatch spans whole optimizer steps (accumulation x ranks), so N ranks group exactly like one
            # process accumulating N micro-batches: DDP trains on the same global batches.
            size = self.batch_size * self.accumulate * self.num_replicas * self.megabatch
            grouped = []
            for start in range(0, len(rows), size):
                mega = rows[start : start + size]
                grouped += sorted(
                    mega, key=lambda r: (bool(self.has_image[list(r)].any()), -self.lengths[list(r)].sum())
                )
            rows = grouped
        batches = [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]
        if self.group_by_length and self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        short = -len(batches) % self.num_replicas if self.even_ranks else 0
        return batches + batches[:short]  # training ranks need equal step counts: reuse the first batches

    def __len__(self) -> int:
        return len(self._global_batches()[self.rank :: self.num_replicas])  # the whole epoch, skipped batches included

    def __iter__(self) -> Iterator[list[tuple[Row, float]]]:
        batches = self._global_batches()
        window = self.accumulate * self.num_replicas
        produced = 0
        for start in range(0, len(batches), window):
            group = batches[start : start + window]
            norm = float(sum(self.token_weights[list(i for row in b for i in row)].sum() for b in group))
            for batch in group[self.rank :: self.num_replicas]:
                produced += 1
                if produced > self.skip_batches:
                    yield [(row, norm) for row in batch]
        self.skip_batches = 0
