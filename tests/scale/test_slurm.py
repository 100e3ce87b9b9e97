"""A 2-point sweep of a tiny experiment on a real single-node SLURM cluster (hydra/launcher=slurm): both points
run as a job array, write their summary.json in <point>_<SLURM job id> folders, and no process is left behind."""

import json
import os
import subprocess
import sys

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
