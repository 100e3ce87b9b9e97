"""A callback that saves every parameter's gradient just before each optimizer step (after DDP's all-reduce and
before clipping) to `<out>/rank<R>_step<S>.pt`: what the DDP test compares with a one-process run."""

from pathlib import Path

import torch
from lightning.pytorch import Callback


class DumpGradients(Callback):
    def __init__(self, out: str) -> None:
        self.out = Path(out)

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        grads = {n: p.grad.detach().clone() for n, p in pl_module.named_parameters() if p.grad is not None}
        torch.save(grads, self.out / f"rank{trainer.global_rank}_step{trainer.global_step}.pt")
