"""A fixed global batch over any number of GPUs: the callback sets gradient accumulation from the world size.

global batch = micro-batch (data.batch_size) x accumulation x GPUs, so a recipe's global batch (LLaVA-1.5 LoRA: 128)
holds on 1, 4 or 8 GPUs. It acts in `setup`, before the optimizer's schedule and the batch sampler read the
accumulation.
"""

from __future__ import annotations

from lightning.pytorch import Callback, LightningModule, Trainer

from reverie.errors import InputError


def accumulation(global_batch: int, micro_batch: int, world_size: int) -> int:
    """Accumulation steps that make `global_batch` (an error if it does not divide evenly)."""
    per_step = micro_batch * world_size
    if global_batch % per_step:
        raise InputError(
            f"callbacks.global_batch.size={global_batch} is not a multiple of data.batch_size x GPUs = "
            f"{micro_batch} x {world_size}; change data.batch_size or the global batch"
        )
    return global_batch // per_step


class GlobalBatch(Callback):
    def __init__(self, size: int, micro_batch: int) -> None:
        self.size = size
        self.micro_batch = micro_batch

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if stage == "fit":
            trainer.accumulate_grad_batches = accumulation(self.size, self.micro_batch, trainer.world_size)
