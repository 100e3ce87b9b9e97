"""W&B logging, read back from the offline run files: grouped by experiment, per-segment losses, eval metrics, sample
tables, resolved config, exit code 1 when the job fails, and a requeued job (the same run dir, run again) logging its
second segment of history into the same run (the same id, steps continuing), while another run dir gets another."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
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
        "base=none",  # W&B's run of the job itself (a base would fail a bad eval file before the run starts)
        *extra,
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def read(out: Path) -> dict:
    (path,) = out.glob("wandb/offline-run-*/run-*.wandb")
    return read_file(path)


def read_file(path: Path) -> dict:
    seen = {"history": set(), "config": set(), "run": None, "exit": None, "steps": []}
    for r in records(path):
        kind = r.WhichOneof("record_type")
        if kind == "history":
            items = {i.key or "/".join(i.nested_key): i.value_json for i in r.history.item}
            seen["history"] |= set(items)
            if "trainer/global_step" in items:
                seen["steps"].append(json.loads(items["trainer/global_step"]))
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
    assert seen["run"].run_id == run_id(out) and seen["run"].resume  # stable, resumable: a requeued job continues it
    for key in (
        "train/loss",
        "train/loss_answer",
        "train/loss_pos_rationale",
        "train/loss_neg_rationale",
        "val/loss_answer",
        "eval/pope/mean_f1",
        "eval/pope/adversarial/yes_ratio",
        "eval/chair/chair_s",  # always defined (chair_i is left out when a tiny model names no object)
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


@pytest.mark.slow
def test_requeued_job_continues_its_run(tmp_path, world_cache):
    """Run twice in one run dir (as a requeued job does): both segments land in one W&B run (the same id, the
    history's steps continuing from the checkpoint); a run in another dir is another W&B run."""
    out = tmp_path / "requeued"
    quick = ["eval=none", "callbacks.model_checkpoint.every_n_train_steps=1", "callbacks.model_checkpoint.monitor=null"]
    first = run(out, world_cache, *quick)
    assert first.returncode == 0, first.stderr[-3000:]
    second = run(out, world_cache, *quick, "trainer.max_steps=6")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming from" in second.stdout
    # Offline, each segment is a folder offline-run-<start time>-<id> (`wandb sync` joins them into one run).
    files = sorted(out.glob("wandb/offline-run-*/run-*.wandb"))
    assert len(files) == 2, files
    segments = [read_file(f) for f in files]  # in start order
    ids = {s["run"].run_id for s in segments}
    assert len(ids) == 1 and {s["run"].run_group for s in segments} == {"wb_test"}
    # Each segment asks W&B to resume the id (`resume: allow`): `wandb sync` (or a live run) then appends the second
    # segment to the first run; without it W&B refuses or replaces a run id it already has.
    assert [s["run"].resume for s in segments] == [True, True]
    (one, two) = (s["steps"] for s in segments)
    # Steps 0-2 trained, 3 = the end's validation; the requeued segment continues there (a restart would log 0-6).
    assert sorted(set(one)) == [0, 1, 2, 3] and sorted(set(two)) == [3, 4, 5, 6], (one, two)
    assert all(s["exit"] == 0 for s in segments)
    other = run(tmp_path / "other", world_cache, *quick, "trainer.max_steps=1")
    assert other.returncode == 0, other.stderr[-3000:]
    assert read(tmp_path / "other")["run"].run_id not in ids  # another run dir: another W&B run
