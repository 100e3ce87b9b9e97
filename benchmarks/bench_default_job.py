"""The default job (`python -m reverie.run`, no arguments) with empty caches: wall time, peak memory and the
hallucination figures it must reach, each against its target (issue: "a model that looks").

    python benchmarks/bench_default_job.py [extra overrides...]

Runs in a fresh temporary cache and run dir, so the world build and the tower pretraining are included. Peak RSS is
that of the child process (the training job), read from the OS after it exits.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {  # key: (lowest, highest) allowed
    "wall_s": (0, 300),
    "peak_rss_gb": (0, 4),
    "pope/random/accuracy": (0.85, 1),
    "pope/random/yes_ratio": (0.35, 0.65),
    "pope/popular/yes_ratio": (0.35, 0.65),
    "pope/adversarial/yes_ratio": (0.35, 0.65),
    "chair/chair_i": (0, 0.5),
}
SHOWN = (
    "pope/popular/accuracy",
    "pope/adversarial/accuracy",
    "pope/random/false_yes_rate",
    "pope/adversarial/false_yes_rate",
    "pope/adversarial_gap",
    "chair/chair_s",
    "chair/cooccur_share",
    "chair/cooccur_chance",
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REVERIE_CACHE_DIR": str(Path(tmp) / "cache")}
        cmd = [sys.executable, "-m", "reverie.run", f"hydra.run.dir={Path(tmp) / 'run'}", *sys.argv[1:]]
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        summary = json.loads((Path(tmp) / "run" / "summary.json").read_text())
    figures = {"wall_s": wall, "peak_rss_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20}
    figures |= summary["eval"]
    print(f"default job on {platform.machine()}, {os.cpu_count()} CPUs, empty caches: {' '.join(sys.argv[1:])}")
    for key, (low, high) in TARGETS.items():
        status = "ok" if low <= figures[key] <= high else "MISSED"
        print(f"  {key:32s} {figures[key]:9.3f}{_interval(figures, key)}   target [{low}, {high}]  {status}")
    for key in SHOWN:
        if key in figures:
            print(f"  {key:32s} {figures[key]:9.3f}{_interval(figures, key)}")


def _interval(figures: dict, key: str) -> str:
    low, high = figures.get(f"{key}_ci_low"), figures.get(f"{key}_ci_high")
    return f"  95 % [{low:.3f}, {high:.3f}]" if low is not None else " " * 22


if __name__ == "__main__":
    main()
