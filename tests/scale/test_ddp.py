"""2-process CPU DDP (gloo) trains like 1 process at the same global batch: same windows, same normaliser, same
weights and validation loss (within float reduction-order tolerance)."""

import json
import os
import subprocess
import sys

import torch


def run_ok(cmd: list[str], world_cache) -> None:
    """Runs a reverie entry point on the shared test world (one thread per process) and asserts it succeeded."""
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def run(tmp_path, world_cache, name, *overrides):
    out = tmp_path / name
    cmd = [
        sys.executable,
        "-m",
        "reverie.run",
        "world.num_images=60",
        "trainer.max_steps=6",
        "trainer.max_epochs=1",
        "trainer.accelerator=cpu",
        "eval=none",
        "~logger",
        "data.val_batch_size=8",
        f"hydra.run.dir={out}",
        "callbacks.model_checkpoint.monitor=null",
        "callbacks.model_checkpoint.save_top_k=0",
        *overrides,
    ]
    run_ok(cmd, world_cache)
    summary = json.loads((out / "summary.json").read_text())
    weights = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    return summary, weights


def test_two_process_ddp_matches_one_process(tmp_path, world_cache):
    one, w1 = run(tmp_path, world_cache, "one", "data.batch_size=4", "trainer.accumulate_grad_batches=2")
    two, w2 = run(tmp_path, world_cache, "two", "data.batch_size=4", "trainer.devices=2", "trainer/strategy=ddp")
    assert one["optimizer_steps"] == two["optimizer_steps"] == 6
    assert one["supervised_tokens_seen"] == two["supervised_tokens_seen"]
    assert abs(one["val_loss"] - two["val_loss"]) < 1e-4 * abs(one["val_loss"])
    for name, value in w1.items():
        torch.testing.assert_close(w2[name], value, rtol=1e-4, atol=1e-5, msg=name)


def test_ddp_evaluation_is_sharded_and_equals_one_process_on_the_same_weights(tmp_path, world_cache):
    two, _ = run(
        tmp_path,
        world_cache,
        "two",
        "data.batch_size=4",
        "trainer.devices=2",
        "trainer/strategy=ddp",
        "eval=world",
        "eval.generation.batch_size=4",
    )
    pope = two["eval"]["pope/random/total"]
    assert pope > 0 and two["eval"]["chair/captions"] > 0
    samples = (tmp_path / "two" / "eval" / "pope_random.samples.jsonl").read_text().splitlines()
    assert len(samples) == pope  # one file from rank 0 with every question, not one per rank
    evaluate = ["-m", "reverie.evaluate", f"run_dir={tmp_path / 'two'}", "eval=world", "eval.generation.batch_size=4"]
    run_ok([sys.executable, *evaluate, f"output_dir={tmp_path / 'single'}"], world_cache)
    single = json.loads((tmp_path / "single" / "metrics.json").read_text())["metrics"]
    assert single == two["eval"]  # same weights, same answers: sharding over ranks changed nothing
