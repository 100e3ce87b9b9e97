"""2-process CPU DDP (gloo) trains like 1 process at the same global batch: same windows, same normaliser, the same
gradient before every optimizer step (clipping off, so a wrong loss scale cannot hide behind AdamW's scale
invariance or the clip), same weights and validation loss (within float reduction-order tolerance). Evaluation
under DDP is sharded: each rank answers only its share, and every question gets the answer a one-process
evaluation of the same weights gives it."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent
STEPS = 6


def run_ok(cmd: list[str], world_cache, **env) -> None:
    """Runs a reverie entry point on the shared test world (one thread per process) and asserts it succeeded."""
    env = {
        **os.environ,
        "REVERIE_CACHE_DIR": str(world_cache),
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(HERE),  # grad_dump.py, spy_run.py
        **env,
    }
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def run(tmp_path, world_cache, name, *overrides, module="reverie.run", steps=STEPS, **env):
    out = tmp_path / name
    cmd = [
        sys.executable,
        "-m",
        module,
        "world.num_images=60",
        f"trainer.max_steps={steps}",
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
    run_ok(cmd, world_cache, **env)
    summary = json.loads((out / "summary.json").read_text())
    weights = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    return summary, weights


def dump_gradients(folder: Path) -> list[str]:
    return ["+callbacks.grads._target_=grad_dump.DumpGradients", f"+callbacks.grads.out={folder}"]


def gradients(folder: Path, rank: int, step: int) -> dict[str, torch.Tensor]:
    return torch.load(folder / f"rank{rank}_step{step}.pt", weights_only=True)


def assert_gradients_match(one: Path, two: Path, steps: int, real) -> None:
    """Before every optimizer step, rank 0's all-reduced gradient (folder `two`) equals the one-process gradient of the
    same global batch (folder `one`) and rank 1's bit for bit; `real(expected)` asserts it is not a vacuous one."""
    for step in range(steps):
        expected, got, other_rank = gradients(one, 0, step), gradients(two, 0, step), gradients(two, 1, step)
        assert got.keys() == expected.keys() and len(expected) > 10
        real(expected)
        for name, value in expected.items():
            torch.testing.assert_close(got[name], value, rtol=1e-4, atol=1e-7, msg=f"step {step}: {name}")
            torch.testing.assert_close(other_rank[name], got[name], rtol=0, atol=0, msg=f"rank 1, step {step}: {name}")


@pytest.mark.slow
def test_two_process_ddp_matches_one_process(tmp_path, world_cache):
    common = ["data.batch_size=4", "trainer.gradient_clip_val=null"]
    g1, g2 = tmp_path / "grads_one", tmp_path / "grads_two"
    one, w1 = run(tmp_path, world_cache, "one", *common, "trainer.accumulate_grad_batches=2", *dump_gradients(g1))
    two, w2 = run(
        tmp_path, world_cache, "two", *common, "trainer.devices=2", "trainer/strategy=ddp", *dump_gradients(g2)
    )
    assert one["optimizer_steps"] == two["optimizer_steps"] == STEPS
    assert one["supervised_tokens_seen"] == two["supervised_tokens_seen"]

    def real(expected: dict[str, torch.Tensor]) -> None:
        for name, value in expected.items():
            assert value.abs().max() > 0 or "embed" in name, name  # a real gradient, not an all-zero one

    assert_gradients_match(g1, g2, STEPS, real)
    assert abs(one["val_loss"] - two["val_loss"]) < 1e-4 * abs(one["val_loss"])
    for name, value in w1.items():
        torch.testing.assert_close(w2[name], value, rtol=1e-4, atol=1e-5, msg=name)


def samples(folder: Path) -> dict[str, dict[str, dict]]:
    """Per task: question id -> its per-sample record."""
    return {
        path.name.removesuffix(".samples.jsonl"): {
            r["question_id"]: r for r in map(json.loads, path.read_text().splitlines())
        }
        for path in folder.glob("*.samples.jsonl")
    }


def spied(folder: Path, rank: int) -> dict[int, list[dict]]:
    """What one process generated: generate-call number -> its questions in order (prompt, image, output)."""
    calls: dict[int, list[dict]] = {}
    for line in (folder / f"rank{rank}.jsonl").read_text().splitlines():
        record = json.loads(line)
        calls.setdefault(record["call"], []).append(record)
    return calls


@pytest.mark.slow
def test_ddp_evaluation_is_sharded_and_equals_one_process_on_the_same_weights(tmp_path, world_cache):
    spy_two, spy_one = tmp_path / "spy_two", tmp_path / "spy_one"
    spy_two.mkdir(), spy_one.mkdir()
    # 23 questions per task: the ranks' shares differ by one. The model stays at a random init with large weights
    # (learning rate ~0), whose answers differ from question to question: 6 real steps teach it to stop at once
    # (every answer ""), and a random init with the default small weights repeats the prompt's last token (also "").
    # One prompt per generate call, so that no answer depends on which questions share its batch.
    eval_overrides = ["eval=world", "eval.generation.batch_size=1", "eval.max_questions=23"]
    random_model = ["stage.optim.lr=1e-9", "+model.llm.build.config.initializer_range=0.3", "base=none"]
    ddp = ["data.batch_size=4", "trainer.devices=2", "trainer/strategy=ddp", *random_model, *eval_overrides]
    two, _ = run(tmp_path, world_cache, "two", *ddp, module="spy_run", REVERIE_SPY_DIR=str(spy_two))
    assert two["eval"]["pope/random/total"] > 0 and two["eval"]["chair/captions"] > 0
    evaluate = ["-m", "spy_run", f"run_dir={tmp_path / 'two'}", *eval_overrides, f"output_dir={tmp_path / 'single'}"]
    run_ok([sys.executable, *evaluate], world_cache, REVERIE_SPY_DIR=str(spy_one), REVERIE_SPY_ENTRY="reverie.evaluate")
    single = json.loads((tmp_path / "single" / "metrics.json").read_text())["metrics"]
    assert single == two["eval"]  # same weights, same answers: sharding over ranks changed nothing

    # Per question, not only in total: a gather in the wrong order would pair answers with the wrong questions.
    sharded, alone = samples(tmp_path / "two" / "eval"), samples(tmp_path / "single")
    assert sharded.keys() == alone.keys() == {"pope_random", "pope_popular", "pope_adversarial", "chair"}
    for task, records in alone.items():
        assert sharded[task].keys() == records.keys(), task  # one file from rank 0 with every question
        for qid, record in records.items():
            assert sharded[task][qid]["output"] == record["output"], (task, qid)
            assert sharded[task][qid]["image"] == record["image"], (task, qid)
    for task, records in alone.items():  # answers that differ from question to question
        outputs = Counter(r["output"] for r in records.values())
        assert len(outputs) > 0.9 * len(records), (task, outputs.most_common(3))

    # The sharding itself: per task (one generate call each), rank r answered exactly questions r, r+2, r+4, ...
    # of the one-process order, with the same outputs; nothing else was generated on either rank.
    one, ranks = spied(spy_one, 0), [spied(spy_two, r) for r in (0, 1)]
    assert len(one) == len(alone) and all(r.keys() == one.keys() for r in ranks)
    for call, questions in one.items():
        for rank, calls in enumerate(ranks):
            assert calls[call] == questions[rank::2], (call, rank)
