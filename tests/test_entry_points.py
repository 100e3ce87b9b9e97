"""The command-line entry points end to end: `reverie.run` puts eval metrics in summary.json and per-sample files in
the run dir; `reverie.evaluate` reloads that run's checkpoint and reproduces the same answers; `reverie.inspect`
prints every rendered span with its role and whether it is supervised."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from reverie.checkpoints import model_state


def run(args, world_cache, **kw):
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache)}
    proc = subprocess.run([sys.executable, "-m", *args], env=env, capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_run_then_evaluate_reproduces_answers(tmp_path, world_cache):
    out = tmp_path / "run"
    proc = run(
        ["reverie.run", f"hydra.run.dir={out}", "world.num_images=60", "trainer.max_steps=3", "eval.max_questions=6"],
        world_cache,
    )
    assert proc.stdout.strip().splitlines()[-1] == str(out / "summary.json")
    summary = json.loads((out / "summary.json").read_text())
    assert {"pope/random/f1", "pope/mean_f1", "pope/adversarial/yes_ratio", "chair/chair_i"} <= set(summary["eval"])
    samples = [json.loads(x) for x in (out / "eval" / "pope_adversarial.samples.jsonl").read_text().splitlines()]
    assert len(samples) == 6 and {"question_id", "image", "prompt", "output", "parsed", "label", "parser"} <= set(
        samples[0]
    )

    proc = run(["reverie.evaluate", f"run_dir={out}", "eval.max_questions=6", "eval.tasks.chair=null"], world_cache)
    metrics_file = Path(proc.stdout.strip().splitlines()[-1])
    evaluated = json.loads(metrics_file.read_text())["metrics"]
    for key in ("pope/random/f1", "pope/popular/accuracy", "pope/adversarial/yes_ratio"):
        assert evaluated[key] == summary["eval"][key], key
    again_file = metrics_file.parent / "pope_adversarial.samples.jsonl"
    again = [json.loads(x) for x in again_file.read_text().splitlines()]
    assert [s["output"] for s in again] == [s["output"] for s in samples]

    # init_from: a new run starts from this run's weights and tokenizer (one step at lr 0: the weights are unchanged)
    child = tmp_path / "child"
    proc = run(
        [
            "reverie.run",
            f"hydra.run.dir={child}",
            "world.num_images=60",
            "trainer.max_steps=1",
            "stage.optim.lr=0",
            "eval=none",
            f"init_from={out}",
            "model/projector=linear",  # overridden by the source run's model config (the weights' architecture)
        ],
        world_cache,
    )
    assert "init_from: model config taken from" in proc.stdout
    assert "mlp2x_gelu" in (child / ".hydra" / "config.yaml").read_text()
    assert f"init_from: model weights from {out / 'checkpoints' / 'last.ckpt'}" in proc.stdout
    assert (child / "tokenizer" / "tokenizer.json").read_text() == (out / "tokenizer" / "tokenizer.json").read_text()
    parent_weights, child_weights = (
        model_state(out / "checkpoints" / "last.ckpt"),
        model_state(child / "checkpoints" / "last.ckpt"),
    )
    assert parent_weights.keys() == child_weights.keys()
    assert all(torch.equal(parent_weights[k], child_weights[k]) for k in parent_weights)


def test_inspect_jsonl_spans_concatenate_to_the_sequence(tmp_path, world_cache):
    proc = run(
        ["reverie.inspect", "world.num_images=60", "inspect.n=2", "inspect.format=jsonl"], world_cache, cwd=tmp_path
    )
    rendered = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(rendered) == 2
    for sample in rendered:
        spans = sample["spans"]
        assert {s["role"] for s in spans} >= {"user", "assistant", "image"}
        supervised = "".join(s["text"] for s in spans if s["supervised"])
        assert supervised and all(s["role"] == "assistant" for s in spans if s["supervised"])
        assert "<image>" in "".join(s["text"] for s in spans if s["role"] == "image")
    text = run(["reverie.inspect", "world.num_images=60", "inspect.n=1"], world_cache, cwd=tmp_path).stdout
    assert "✓ assistant" in text and "<image> x9" in text
