"""The default job (`python -m reverie.run`, no arguments) twice: cold (empty caches: world, tower, tokenizer and
base built) then warm (all cached): wall times, peak memory and the hallucination figures it must reach, each against
its target (issues "a model that looks" and "sweeps that answer"), and whether the two runs' per-sample evaluation
files are identical (they must be).

    python benchmarks/bench_default_job.py [extra overrides...]

Runs in a fresh temporary cache and run dirs. Peak RSS is the largest of the child processes (the training jobs),
read from the OS after they exit.
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
    "wall_s": (0, 240),  # cold: under 4 minutes (issue "fast where researchers wait"; 5 in "sweeps that answer")
    "warm_wall_s": (0, 180),
    "base/pope/random/accuracy": (0.85, 1),
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
        walls, samples = [], []
        for name in ("cold", "warm"):
            run_dir = Path(tmp) / name
            cmd = [sys.executable, "-m", "reverie.run", f"hydra.run.dir={run_dir}", *sys.argv[1:]]
            start = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - start)
            samples.append({p.name: p.read_bytes() for p in sorted((run_dir / "eval").glob("*.jsonl"))})
        summary = json.loads((Path(tmp) / "cold" / "summary.json").read_text())
    figures = {"wall_s": walls[0], "warm_wall_s": walls[1]}
    figures["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    figures |= summary["eval"] | {f"base/{k}": v for k, v in (summary["base"] or {}).get("eval", {}).items()}
    print(f"default job on {platform.machine()}, {os.cpu_count()} CPUs, cold then warm: {' '.join(sys.argv[1:])}")
    print(f"  code {summary['provenance']['code']}")
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in summary["timings_s"].items())
    print(f"  cold run's time: {parts} (base: with world, tokenizer and tower)")
    same = samples[0] == samples[1] and bool(samples[0])
    print(f"  per-sample eval files identical cold vs warm ({len(samples[0])} files): {'yes' if same else 'NO'}")
    for key, (low, high) in TARGETS.items():
        if key not in figures:
            continue
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
