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


def _job(root, name: str, overrides: list[str], config: str, f1: float) -> None:
    job = root / name
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    (job / ".hydra" / "config.yaml").write_text(config)
    (job / "summary.json").write_text(f'{{"eval": {{"pope": {{"mean_f1": {f1}}}}}, "val_loss": 1.0}}')


def test_two_sweeps_in_one_folder_fill_unswept_keys_from_each_jobs_config(tmp_path):
    kinds_cfg = "reflection:\n  kinds: {}\n  context: separate\n"
    for seed in (0, 1):
        _job(tmp_path, f"kinds/{seed}", ["reflection.kinds=none", f"seed={seed}"], kinds_cfg.format("none"), 0.5)
        _job(
            tmp_path,
            f"context/{seed}",
            ["reflection.context=joint_pos_first", f"seed={seed}"],
            "reflection:\n  kinds: both\n  context: joint_pos_first\n",
            0.6 + seed / 10,
        )
    lines = report(tmp_path, ["eval/pope/mean_f1"]).splitlines()
    assert lines[0] == "| reflection.context | reflection.kinds | n | eval/pope/mean_f1 |"
    assert sorted(lines[2:]) == [
        "| joint_pos_first | both | 2 | 0.6500 ± 0.6353 |",  # t(1) = 12.706 x std 0.0707 / sqrt(2)
        "| separate | none | 2 | 0.5000 ± 0.0000 |",
    ]
