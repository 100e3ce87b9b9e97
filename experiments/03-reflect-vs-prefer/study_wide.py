"""Study 03's study-wide figures from its per-run rows (2026-12-rerun/report.csv): Holm over all 16 registered
comparisons (4 DPO arms, each against the SFT control at its lr, x 4 primary metrics) and each arm's minimal
detectable effect at its number of seeds (5 % two-sided, 80 % power, from the paired sd).

    python experiments/03-reflect-vs-prefer/study_wide.py [experiments/03-reflect-vs-prefer/2026-12-rerun/report.csv]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from reverie.paired import Paired, holm

CONTROL = {
    "dpo_lr1e-3_b01": "sft_lr1e-3",
    "dpo_lr1e-3_b05": "sft_lr1e-3",
    "dpo_lr3e-4_b01": "sft_lr3e-4",
    "dpo_lr3e-4_b05": "sft_lr3e-4",
}
PRIMARY = (
    "eval/pope/adversarial/false_yes_rate",
    "eval/pope/adversarial_gap",
    "eval/chair/chair_i",
    "eval/chair/cooccur_share",
)


def main(path: Path) -> None:
    value = {(r["arm"], r["seed"], m): r[m] for r in csv.DictReader(path.open()) for m in PRIMARY}
    seeds = sorted({seed for _, seed, _ in value}, key=int)
    pvalues, rows = {}, []
    for arm, control in CONTROL.items():
        for m in PRIMARY:
            pairs = [(value[(arm, s, m)], value[(control, s, m)]) for s in seeds if (arm, s, m) in value]
            diffs = [float(a) - float(b) for a, b in pairs if a != "" and b != ""]
            d = Paired(arm, m, -1, diffs)
            pvalues[f"{arm} {m}"] = d.p
            rows.append((f"{arm} {m}", d, d.mde))
    adjusted = holm(pvalues)
    print(f"{'arm and metric':60s} {'mean':>8s} {'p':>7s} {'p (Holm, 16)':>12s} {'MDE':>6s}")
    for name, d, mde in rows:
        print(f"{name:60s} {d.mean:+8.4f} {d.p:7.4f} {adjusted[name]:12.3f} {mde:6.3f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "experiments/03-reflect-vs-prefer/2026-12-rerun/report.csv"))
