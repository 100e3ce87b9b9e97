"""`reverie.report` turns a real multirun (Hydra -m over reverie.run) into a table, a CSV and a plot."""

import csv
import os
import subprocess
import sys

from reverie.report import report


def test_report_from_a_real_multirun(tmp_path, world_cache):
    sweep = tmp_path / "sweep"
    env = {**os.environ, "REVERIE_CACHE_DIR": str(world_cache)}
    cmd = [
        sys.executable,
        "-m",
        "reverie.run",
        "-m",
        "+debug=fast",
        "world.num_images=60",
        "seed=0,1",
        "reflection.kinds=none,both",
        f"hydra.sweep.dir={sweep}",
    ]
    subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=600)
    table = report(sweep, ["eval/pope/mean_f1", "eval/chair/chair_i", "val_loss"])
    lines = table.splitlines()
    assert lines[0] == "| reflection.kinds | n | eval/pope/mean_f1 | eval/chair/chair_i | val_loss |"
    assert {line.split(" | ")[0] for line in lines[2:]} == {"| none", "| both"}
    assert all(" | 2 | " in line and "±" in line for line in lines[2:])
    rows = list(csv.DictReader((sweep / "report.csv").open()))
    assert len(rows) == 4 and {r["seed"] for r in rows} == {"0", "1"}
    assert (sweep / "report.png").stat().st_size > 1000 and (sweep / "report.md").is_file()
