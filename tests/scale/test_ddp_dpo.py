"""DPO and reflective DPO under 2-process CPU DDP (gloo) train like 1 process at the same global batch: the same
gradient before every optimizer step (clipping off), the same preference metrics and weights (within float
reduction-order tolerance). The pair loss is a mean over each micro-batch's pairs, so the one-process run
accumulates two micro-batches of the DDP ranks' size; the reflective loss adds the token loss, whose normaliser spans
the global batch."""

from __future__ import annotations

import pytest
import torch
from test_ddp import assert_gradients_match, dump_gradients, run

STEPS = 3


COMMON = ("base=none", "data.batch_size=4", "trainer.gradient_clip_val=null")


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["dpo", "reflective_dpo"])
def test_two_process_dpo_matches_one_process(tmp_path, world_cache, objective):
    g1, g2 = tmp_path / "grads_one", tmp_path / "grads_two"
    chosen = [*COMMON, f"objective={objective}"]
    one, w1 = run(
        tmp_path, world_cache, "one", *chosen, "trainer.accumulate_grad_batches=2", *dump_gradients(g1), steps=STEPS
    )
    two, w2 = run(
        tmp_path,
        world_cache,
        "two",
        *chosen,
        "trainer.devices=2",
        "trainer/strategy=ddp",
        *dump_gradients(g2),
        steps=STEPS,
    )
    assert one["optimizer_steps"] == two["optimizer_steps"] == STEPS
    assert one["supervised_tokens_seen"] == two["supervised_tokens_seen"]

    def real(expected: dict[str, torch.Tensor]) -> None:
        assert sum(v.abs().sum() for v in expected.values()) > 0  # a real gradient

    assert_gradients_match(g1, g2, STEPS, real)
    assert one["preference"] and one["preference"].keys() == two["preference"].keys()
    for key, value in one["preference"].items():  # rewards, margins, accuracy: over the same pairs
        if isinstance(value, float):
            assert two["preference"][key] == pytest.approx(value, rel=1e-3, abs=1e-6), key
    for name, value in w1.items():
        torch.testing.assert_close(w2[name], value, rtol=1e-4, atol=1e-5, msg=name)
