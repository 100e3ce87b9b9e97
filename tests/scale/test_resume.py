"""A run SIGKILLed and resumed from its last checkpoint ends with the same weights and validation loss as an
uninterrupted run (CPU, deterministic mode), wherever the kill lands: mid-epoch in the first epoch, right after the
checkpoint of an epoch's last step (the data module's end-of-epoch branch: nothing to skip), and mid-epoch in a
later epoch (skipping batches of that epoch's own order)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
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
# Two short epochs: a fraction of each source (seeded), so that a later epoch is reached in seconds.
EPOCHS = [
    "trainer.max_steps=-1",
    "trainer.max_epochs=2",
    "callbacks.model_checkpoint.every_n_train_steps=1",
    "data.train_sources.0.weight=0.1",
    "data.train_sources.1.weight=0.02",
    "data.train_sources.2.weight=0.2",
]


def run(out: Path, world_cache, *extra, check=True):
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache), "PYTHONPATH": str(Path(__file__).parent)}
    cmd = [sys.executable, "-m", "reverie.run", f"hydra.run.dir={out}", *COMMON, *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def kill_at(out: Path, world_cache, step: int, *extra) -> dict:
    """Runs (or resumes) until the optimizer step `step`, SIGKILLs itself there; returns the last checkpoint."""
    killer = ["+callbacks.killer._target_=killer.KillAtStep", f"+callbacks.killer.step={step}"]
    proc = run(out, world_cache, *extra, *killer, check=False)
    assert proc.returncode == -9, proc.stderr[-3000:]  # really killed
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)


def weights(out: Path) -> dict:
    return torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]


def assert_same_end(straight: Path, killed: Path, steps: int) -> None:
    a, b = json.loads((straight / "summary.json").read_text()), json.loads((killed / "summary.json").read_text())
    assert a["optimizer_steps"] == b["optimizer_steps"] == steps
    assert a["val_loss"] == b["val_loss"]
    wa, wb = weights(straight), weights(killed)
    for name, value in wa.items():
        torch.testing.assert_close(wb[name], value, rtol=0, atol=0, msg=name)


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path, world_cache):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run(straight, world_cache)
    assert kill_at(killed, world_cache, 5)["global_step"] == 4
    resumed = run(killed, world_cache)  # same run dir; ckpt_path=last picks up checkpoints/last.ckpt
    assert "resuming from" in resumed.stdout
    assert_same_end(straight, killed, 12)


@pytest.mark.slow
def test_sigkill_at_an_epoch_end_and_in_a_later_epoch_then_resume_equals_uninterrupted(tmp_path, world_cache):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run(straight, world_cache, *EPOCHS)
    total = json.loads((straight / "summary.json").read_text())["optimizer_steps"]
    per_epoch = total // 2
    assert total == 2 * per_epoch and per_epoch >= 4, total

    # Killed right after the checkpoint of epoch 0's last step: every batch of epoch 0 is done, none to skip.
    ckpt = kill_at(killed, world_cache, per_epoch + 1, *EPOCHS)
    assert (ckpt["global_step"], ckpt["epoch"]) == (per_epoch, 0)
    batches = ckpt["ReverieDataModule"]["batches_done"]
    assert batches >= 2 * per_epoch - 1  # the whole epoch (the last window may hold one batch)

    # Resumed, then killed again mid-way through epoch 1: its batches must be skipped in epoch 1's order.
    ckpt = kill_at(killed, world_cache, per_epoch + 3, *EPOCHS)
    assert (ckpt["global_step"], ckpt["epoch"]) == (per_epoch + 2, 1)
    assert ckpt["ReverieDataModule"]["batches_done"] == 4  # two steps of two micro-batches into epoch 1

    resumed = run(killed, world_cache, *EPOCHS)
    assert "resuming from" in resumed.stdout
    assert_same_end(straight, killed, total)
