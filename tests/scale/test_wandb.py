"""W&B logging, read back from the offline run files: grouped by experiment, run id tied to the run dir (a resumed
job continues the same run), per-segment losses, eval metrics, sample tables, resolved config, and exit code 1 when
the job fails."""

import os
import subprocess
import sys
from pathlib import Path

from wandb_records import records

from reverie.resolvers import run_id


def run(out: Path, world_cache, *extra):
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache), "WANDB_SILENT": "true"}
    cmd = [
        sys.executable,
        "-m",
        "reverie.run",
        f"hydra.run.dir={out}",
        "world.num_images=60",
        "trainer.max_steps=3",
        "trainer.log_every_n_steps=1",
        "logger=wandb",
        "eval.max_questions=4",
        "experiment_name=wb_test",
        *extra,
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def read(out: Path) -> dict:
    (path,) = out.glob("wandb/offline-run-*/run-*.wandb")
    seen = {"history": set(), "config": set(), "run": None, "exit": None}
    for r in records(path):
        kind = r.WhichOneof("record_type")
        if kind == "history":
            seen["history"] |= {i.key or "/".join(i.nested_key) for i in r.history.item}
        elif kind == "config":
            seen["config"] |= {i.key or "/".join(i.nested_key) for i in r.config.update}
        elif kind == "run":
            seen["run"] = r.run
        elif kind == "exit":
            seen["exit"] = r.exit.exit_code
    return seen


def test_offline_run_holds_what_we_logged(tmp_path, world_cache):
    out = tmp_path / "ok"
    proc = run(out, world_cache)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = read(out)
    assert seen["run"].run_group == "wb_test"
    assert seen["run"].run_id == run_id(out)  # stable: a requeued job in this dir resumes the same run
    for key in (
        "train/loss",
        "train/loss_answer",
        "train/loss_pos_rationale",
        "train/loss_neg_rationale",
        "val/loss_answer",
        "eval/pope/mean_f1",
        "eval/pope/adversarial/yes_ratio",
        "eval/chair/chair_i",
        "samples/pope/adversarial/nrows",
        "samples/chair/nrows",
    ):
        assert key in seen["history"], key
    assert {"model", "data", "reflection", "objective", "stage", "trainer", "eval"} <= seen["config"]
    assert seen["exit"] == 0


def test_failed_job_finishes_its_run(tmp_path, world_cache):
    out = tmp_path / "fail"
    proc = run(out, world_cache, f"eval.tasks.pope_random.questions_file={tmp_path}/missing.jsonl")
    assert proc.returncode != 0 and "missing.jsonl" in proc.stderr
    assert read(out)["exit"] == 1  # not left "running" on the dashboard
