"""Per-seed differences between each phase-2 arm and the phase-1 run it started from (same seed), as mean ± the
half-width of the 95 % Student-t interval over seeds (`reverie.report.mean_ci`), and the same for DPO minus the
extra-SFT control. Paired: every phase-2 run starts from its own phase-1 run, so seed-to-seed spread cancels.

    python experiments/03-reflect-vs-prefer/paired.py outputs/study03/arms
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reverie.report import flatten, mean_ci

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
)
COMPARISONS = (  # (label, arm, baseline arm)
    ("DPO from answers-only - answers-only", "dpo_none", "sft_none"),
    ("extra SFT from answers-only - answers-only", "more_none", "sft_none"),
    ("DPO - extra SFT (from answers-only)", "dpo_none", "more_none"),
    ("REVERIE then DPO - REVERIE", "dpo_both", "sft_both"),
    ("extra SFT from REVERIE - REVERIE", "more_both", "sft_both"),
    ("DPO - extra SFT (from REVERIE)", "dpo_both", "more_both"),
)


def load(arms: Path, arm: str) -> dict[str, dict]:
    """{seed folder name: flattened metrics} of one arm."""
    out = {}
    for run in sorted((arms / arm).iterdir()):
        summary = json.loads((run / "summary.json").read_text())
        out[run.name] = flatten({"eval": summary["eval"], "val_losses": summary.get("val_losses") or {}})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arms", type=Path, help="folder of arm folders, each with one run folder per seed (s0, ...)")
    args = parser.parse_args()
    header = ["comparison", "seeds", *(m.removeprefix("eval/") for m in METRICS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, arm, base in COMPARISONS:
        a, b = load(args.arms, arm), load(args.arms, base)
        seeds = sorted(a.keys() & b.keys())
        cells = []
        for m in METRICS:
            diffs = [a[s][m] - b[s][m] for s in seeds if m in a[s] and m in b[s]]
            cells.append("{:+.3f} ± {:.3f}".format(*mean_ci(diffs)) if diffs else "–")
        lines.append("| " + " | ".join([label, str(len(seeds)), *cells]) + " |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
