"""On a real single-node SLURM cluster (hydra/launcher=slurm): a 2-point sweep of a tiny experiment runs as a job
array, writes its summary.json in <point>_<SLURM job id> folders and leaves no process behind; and a job that hits
its time limit is requeued and finishes from its last checkpoint in the same run dir. `.ci/run` fails if these
tests were skipped there."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slurm_cluster import DAEMONS, local_slurm, missing

reason = missing()
if reason and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the SLURM test: {reason}")


@pytest.mark.skipif(reason is not None, reason=reason or "")
def test_two_point_sweep_on_real_slurm(tmp_path, world_cache):
    sweep = tmp_path / "sweep"
    with local_slurm(tmp_path / "slurm") as env:
        env["REVERIE_CACHE_DIR"] = str(world_cache)
        cmd = [
            sys.executable,
            "-m",
            "reverie.run",
            "-m",
            "hydra/launcher=slurm",
            "+debug=fast",
            "world.num_images=60",
            "seed=0,1",
            "hydra.launcher.partition=debug",
            "hydra.launcher.timeout_min=10",
            "hydra.launcher.cpus_per_task=1",
            "hydra.launcher.mem_gb=3",
            f"hydra.sweep.dir={sweep}",
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = sorted(p for p in sweep.iterdir() if (p / "summary.json").is_file())
    assert [p.name.split("_")[0] for p in runs] == ["0", "1"]
    assert all(len(p.name.split("_")) == 3 for p in runs)  # <point>_<array job id>_<task>
    seeds = {json.loads((p / "summary.json").read_text())["config"]["seed"] for p in runs}
    assert seeds == {0, 1}
    left = subprocess.run(["pgrep", "-x", "|".join(DAEMONS[:2])], capture_output=True, text=True).stdout
    assert not left.strip(), f"SLURM daemons left running: {left}"


def release_requeued(cluster: dict[str, str]) -> None:
    """SLURM holds a requeued job for two minutes (Reason=BeginTime); start it now, so the test does not wait."""
    pending = subprocess.run(
        ["squeue", "-h", "-t", "PENDING", "-o", "%i|%r"], env=cluster, capture_output=True, text=True, timeout=20
    ).stdout.split()
    for job, reason in (line.split("|", 1) for line in pending):
        if reason == "BeginTime":
            subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], env=cluster, timeout=20)


@pytest.mark.slow
@pytest.mark.skipif(reason is not None, reason=reason or "")
def test_job_that_times_out_is_requeued_and_finishes_from_its_checkpoint(tmp_path, world_cache):
    """A job with a 2-minute limit whose first segment needs ~2 minutes: SIGUSR2 a minute before the limit,
    submitit requeues it, and the same run dir resumes from checkpoints/last.ckpt and finishes. (A 1-minute limit
    is too tight to be reliable: slurmctld checks time limits and sends the warning signal only every 30 s.)"""
    common = ["world.num_images=60", "eval=none", "~logger", "base=none"]  # the requeue is about the run itself
    paths = {"REVERIE_CACHE_DIR": str(world_cache), "PYTHONPATH": str(Path(__file__).parent)}  # slow_steps.py
    warm = [sys.executable, "-m", "reverie.run", "trainer.max_steps=1", *common, f"hydra.run.dir={tmp_path / 'warm'}"]
    # The world and tower are built into the cache first, so the job's minutes go to training.
    subprocess.run(warm, env={**os.environ, **paths}, capture_output=True, check=True, timeout=900)
    sweep = tmp_path / "sweep"
    with local_slurm(tmp_path / "slurm") as cluster:
        cmd = [
            sys.executable,
            "-m",
            "reverie.run",
            "-m",
            "hydra/launcher=slurm",
            *common,
            "trainer.max_steps=120",
            "data.batch_size=4",
            "callbacks.model_checkpoint.every_n_train_steps=2",
            "callbacks.model_checkpoint.monitor=null",
            "callbacks.model_checkpoint.save_top_k=0",
            "+callbacks.slow._target_=slow_steps.SlowSteps",
            "+callbacks.slow.seconds=0.8",  # first segment: 120 steps take > 96 s, so the signal comes mid-training
            "hydra.launcher.partition=debug",
            "hydra.launcher.timeout_min=2",
            "hydra.launcher.signal_delay_s=60",
            "hydra.launcher.cpus_per_task=1",
            "hydra.launcher.mem_gb=3",
            f"hydra.sweep.dir={sweep}",
        ]
        with open(tmp_path / "driver.log", "w") as log:
            driver = subprocess.Popen(cmd, env={**cluster, **paths}, stdout=log, stderr=subprocess.STDOUT, text=True)
            deadline = time.time() + 600
            while driver.poll() is None and time.time() < deadline:
                time.sleep(2)
                release_requeued(cluster)
            driver.kill()
        assert driver.wait() == 0, (tmp_path / "driver.log").read_text()[-3000:]
        (run,) = [p for p in sweep.iterdir() if (p / "summary.json").is_file()]
        job = run.name.split("_", 1)[1]
        shown = subprocess.run(["scontrol", "show", "job", job], env=cluster, capture_output=True, text=True).stdout
    restarts = int(shown.split("Restarts=")[1].split()[0])
    segments = [int(x) for x in (run / "segments.txt").read_text().split()]
    assert restarts == 1 and len(segments) == 2, (restarts, segments, shown)  # requeued once, then finished
    assert segments[0] == 0 and 0 < segments[1] < 120, segments  # the second segment resumed from a checkpoint
    assert json.loads((run / "summary.json").read_text())["optimizer_steps"] == 120
