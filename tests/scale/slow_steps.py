"""A callback for the SLURM requeue test: in a run's first segment (one that starts at step 0) each training step
lasts at least `seconds`, so the job outlives its time limit; a resumed segment runs at full speed. It appends the
step each segment starts from to `<run dir>/segments.txt` (a job that resumed from its checkpoint starts above 0)."""

import time
from pathlib import Path

from lightning.pytorch import Callback


class SlowSteps(Callback):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.slow = False

    def on_train_start(self, trainer, pl_module) -> None:
        self.slow = trainer.global_step == 0
        with open(Path(trainer.default_root_dir) / "segments.txt", "a", encoding="utf-8") as f:
            f.write(f"{trainer.global_step}\n")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.slow:
            time.sleep(self.seconds)
