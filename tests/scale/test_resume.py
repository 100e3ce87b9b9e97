"""A run SIGKILLed mid-epoch and resumed from its last checkpoint ends with the same weights and validation loss
as an uninterrupted run (CPU, deterministic mode)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

COMMON = [
    "world.num_images=60",
    "trainer.max_steps=12",
    "trainer.deterministic=true",
    "eval=none",
    "data.batch_size=4",
    "trainer.accumulate_grad_batches=2",
    "callbacks.model_checkpoint.every_n_train_steps=2",
    "callbacks.model_checkpoint.monitor=null",
    "callbacks.model_checkpoint.save_top_k=0",
]


def run(out: Path, world_cache, *extra, check=True):
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache), "PYTHONPATH": str(Path(__file__).parent)}
    cmd = [sys.executable, "-m", "reverie.run", f"hydra.run.dir={out}", *COMMON, *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def weights(out: Path) -> dict:
    return torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path, world_cache):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run(straight, world_cache)
    proc = run(
        killed, world_cache, "+callbacks.killer._target_=killer.KillAtStep", "+callbacks.killer.step=5", check=False
    )
    assert proc.returncode == -9  # really killed
    assert torch.load(killed / "checkpoints" / "last.ckpt", weights_only=False)["global_step"] == 4
    resumed = run(killed, world_cache)  # same run dir; ckpt_path=last picks up checkpoints/last.ckpt
    assert "resuming from" in resumed.stdout
    a, b = json.loads((straight / "summary.json").read_text()), json.loads((killed / "summary.json").read_text())
    assert a["optimizer_steps"] == b["optimizer_steps"] == 12
    assert a["val_loss"] == b["val_loss"]
    wa, wb = weights(straight), weights(killed)
    for name, value in wa.items():
        torch.testing.assert_close(wb[name], value, rtol=0, atol=0, msg=name)
