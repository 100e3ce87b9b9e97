"""DPO and reflective DPO under 2-process CPU DDP (gloo) train like 1 process at the same global batch: the same
gradient before every optimizer step (clipping off), the same preference metrics and weights (within float
reduction-order tolerance). The pair loss is a mean over each micro-batch's pairs, so the one-process run
accumulates two micro-batches of the DDP ranks' size; the reflective loss adds the token loss, whose normaliser spans
the global batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from test_ddp import dump_gradients, gradients, run_ok

STEPS = 3


def run(tmp_path: Path, world_cache, name: str, *overrides: str) -> tuple[dict, dict[str, torch.Tensor]]:
    out = tmp_path / name
    cmd = [sys.executable, "-m", "reverie.run", "world.num_images=60", f"trainer.max_steps={STEPS}",
           "trainer.max_epochs=1", "trainer.accelerator=cpu", "eval=none", "~logger", "base=none",
           "data.batch_size=4", "data.val_batch_size=8", "trainer.gradient_clip_val=null", f"hydra.run.dir={out}",
           "callbacks.model_checkpoint.monitor=null", "callbacks.model_checkpoint.save_top_k=0", *overrides]  # fmt: skip
    run_ok(cmd, world_cache)
    summary = json.loads((out / "summary.json").read_text())
    weights = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    return summary, weights


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["dpo", "reflective_dpo"])
def test_two_process_dpo_matches_one_process(tmp_path, world_cache, objective):
    g1, g2 = tmp_path / "grads_one", tmp_path / "grads_two"
    chosen = [f"objective={objective}"]
    one, w1 = run(tmp_path, world_cache, "one", *chosen, "trainer.accumulate_grad_batches=2", *dump_gradients(g1))
    two, w2 = run(
        tmp_path, world_cache, "two", *chosen, "trainer.devices=2", "trainer/strategy=ddp", *dump_gradients(g2)
    )
    assert one["optimizer_steps"] == two["optimizer_steps"] == STEPS
    assert one["supervised_tokens_seen"] == two["supervised_tokens_seen"]
    for step in range(STEPS):  # rank 0's all-reduced gradient = the one-process gradient of the same global batch
        expected, got, other_rank = gradients(g1, 0, step), gradients(g2, 0, step), gradients(g2, 1, step)
        assert got.keys() == expected.keys() and len(expected) > 10
        assert sum(v.abs().sum() for v in expected.values()) > 0  # a real gradient
        for name, value in expected.items():
            torch.testing.assert_close(got[name], value, rtol=1e-4, atol=1e-7, msg=f"step {step}: {name}")
            torch.testing.assert_close(other_rank[name], got[name], rtol=0, atol=0, msg=f"rank 1, step {step}: {name}")
    assert one["preference"] and one["preference"].keys() == two["preference"].keys()
    for key, value in one["preference"].items():  # rewards, margins, accuracy: over the same pairs
        if isinstance(value, float):
            assert two["preference"][key] == pytest.approx(value, rel=1e-3, abs=1e-6), key
    for name, value in w1.items():
        torch.testing.assert_close(w2[name], value, rtol=1e-4, atol=1e-5, msg=name)
