"""Study 03's two tables from a folder of arm folders (one run folder per seed, `s0`, `s1`, ...):
1. each arm: mean ± the half-width of the 95 % Student-t interval over seeds (`reverie.report.mean_ci`, the
   computation `python -m reverie.report` prints);
2. paired differences: each phase-2 arm minus the phase-1 run it started from (same seed), and DPO minus the
   extra-SFT control. Every phase-2 run starts from its own phase-1 run, so the seed-to-seed spread cancels.

    python experiments/03-reflect-vs-prefer/tables.py outputs/study03/arms
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reverie.report import flatten, mean_ci, plot

METRICS = (
    "eval/pope/random/accuracy",
    "eval/pope/popular/accuracy",
    "eval/pope/adversarial/accuracy",
    "eval/pope/adversarial/false_yes_rate",
    "eval/pope/adversarial/yes_ratio",
    "eval/pope/adversarial_gap",
    "eval/chair/chair_i",
    "eval/chair/chair_s",
    "eval/chair/recall",
    "val_losses/answer",
    "preference/val/rewards/margins",
    "preference/val/rewards/accuracy",
)
ARMS = {  # folder: label
    "sft_none": "1. answers-only SFT",
    "sft_both": "2. REVERIE (both, separate)",
    "dpo_none": "3. DPO from answers-only",
    "dpo_both": "4. REVERIE then DPO",
    "more_none": "control: answers-only + extra SFT",
    "more_both": "control: REVERIE + extra SFT",
    "dpo_none_lr1e-3": "DPO from answers-only, lr 1e-3",
    "more_none_lr1e-3": "answers-only + extra SFT, lr 1e-3",
}
COMPARISONS = (  # (label, arm, baseline arm)
    ("DPO from answers-only - answers-only", "dpo_none", "sft_none"),
    ("extra SFT from answers-only - answers-only", "more_none", "sft_none"),
    ("DPO - extra SFT (from answers-only)", "dpo_none", "more_none"),
    ("REVERIE then DPO - REVERIE", "dpo_both", "sft_both"),
    ("extra SFT from REVERIE - REVERIE", "more_both", "sft_both"),
    ("DPO - extra SFT (from REVERIE)", "dpo_both", "more_both"),
    ("DPO at lr 1e-3 - answers-only", "dpo_none_lr1e-3", "sft_none"),
    ("extra SFT at lr 1e-3 - answers-only", "more_none_lr1e-3", "sft_none"),
)


def load(arms: Path, arm: str) -> dict[str, dict]:
    """{seed folder name: flattened metrics} of one arm ({} when the arm was not run)."""
    out = {}
    for run in sorted((arms / arm).iterdir()) if (arms / arm).is_dir() else []:
        summary = json.loads((run / "summary.json").read_text())
        parts = {"eval": summary["eval"], "val_losses": summary.get("val_losses") or {}}
        out[run.name] = flatten(parts | {"preference": summary.get("preference") or {}})
    return out


def cell(values: list[float], sign: str = "") -> str:
    return ("{:" + sign + ".3f} ± {:.3f}").format(*mean_ci(values)) if values else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arms", type=Path, help="folder of arm folders, each with one run folder per seed (s0, ...)")
    parser.add_argument("--plot", type=Path, help="also write the arms' means and intervals as a bar chart here")
    args = parser.parse_args()
    names = [m.removeprefix("eval/") for m in METRICS]
    lines = ["| arm | seeds | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 2)]
    stats: dict[tuple, dict] = {}
    for arm, label in ARMS.items():
        runs = load(args.arms, arm)
        if runs:
            stats[(label,)] = {m: mean_ci(v) for m in METRICS if (v := [r[m] for r in runs.values() if m in r])}
            cells = [cell([r[m] for r in runs.values() if m in r]) for m in METRICS]
            lines.append("| " + " | ".join([label, ",".join(s[1:] for s in runs), *cells]) + " |")
    lines += ["", "| comparison (paired by seed) | seeds | " + " | ".join(names) + " |"]
    lines.append("|" + "---|" * (len(names) + 2))
    for label, arm, base in COMPARISONS:
        a, b = load(args.arms, arm), load(args.arms, base)
        seeds = sorted(a.keys() & b.keys())
        if not seeds:
            continue
        cells = []
        for m in METRICS:
            cells.append(cell([a[s][m] - b[s][m] for s in seeds if m in a[s] and m in b[s]], sign="+"))
        lines.append("| " + " | ".join([label, str(len(seeds)), *cells]) + " |")
    print("\n".join(lines))
    if args.plot:
        plot(args.plot, ["arm"], stats, list(METRICS))


if __name__ == "__main__":
    main()
