"""Batch sampler that knows the gradient-accumulation window, so the loss can be normalised over the whole window.

Every micro-batch index comes with the summed token weight of all micro-batches in its optimizer step (across all
accumulation steps and all ranks). Dividing a micro-batch's summed token loss by that number makes the update equal
to one big batch's token-mean loss, however unequal the sample lengths (field-lessons: "Loss normalisation under
gradient accumulation").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler


class WindowBatchSampler(Sampler[list[tuple[int, float]]]):
    def __init__(
        self,
        token_weights: Sequence[float],
        batch_size: int,
        accumulate_grad_batches: int = 1,
        num_replicas: int = 1,
        rank: int = 0,
        shuffle: bool = True,
        seed: int = 0,
    ) -> None:
        if batch_size < 1 or accumulate_grad_batches < 1:
            raise ValueError(
                f"batch_size={batch_size} and accumulate_grad_batches={accumulate_grad_batches} must be >= 1"
            )
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} out of range for {num_replicas} replicas")
        self.token_weights = np.asarray(token_weights, dtype=np.float64)
        self.batch_size = batch_size
        self.accumulate = accumulate_grad_batches
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _global_batches(self) -> list[np.ndarray]:
        n = len(self.token_weights)
        order = np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle else np.arange(n)
        batches = [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]
        short = -len(batches) % self.num_replicas  # every rank needs the same number of steps: reuse the first batches
        return batches + batches[:short]

    def __len__(self) -> int:
        return len(self._global_batches()) // self.num_replicas

    def __iter__(self) -> Iterator[list[tuple[int, float]]]:
        batches = self._global_batches()
        window = self.accumulate * self.num_replicas
        for start in range(0, len(batches), window):
            group = batches[start : start + window]
            norm = float(sum(self.token_weights[b].sum() for b in group))
            for batch in group[self.rank :: self.num_replicas]:
                yield [(int(i), norm) for i in batch]
