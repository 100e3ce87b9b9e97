"""Study 02's rerun (issue 20): the difference in differences per seed and arm, paired by seed, and each seed's base.

Usage: python experiments/02-dftg/analyze_rerun.py D [OUT_DIR]
D is the folder of the pre-registered chain (README, "Commands"): base_s<seed>/, diag_val_s<seed>/, targeted_s<seed>.
report.json, and the arms' runs under sweeps/ (each with did.json from `python -m reverie.dftg.did`). Writes
rerun_runs.csv (one row per arm run: seed, arm, the DiD's rates, the primary POPE/CHAIR metrics; one row per base)
and rerun_did.md to OUT_DIR (default: this folder's 2026-12-rerun/). Every number in rerun_did.md is recomputed from
the csv's rows. The POPE/CHAIR comparisons against `none` come from `python -m reverie.report` (paired.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

from reverie.dftg.did import pooled_rate
from reverie.dftg.profile import load_profile
from reverie.paired import Paired
from reverie.report import code_version, flatten, load_runs

HERE = Path(__file__).resolve().parent
DID = ("targeted/before", "targeted/after", "untargeted/before", "untargeted/after", "did")
PRIMARY = (
    "eval/pope/adversarial/false_yes_rate",
    "eval/pope/adversarial_gap",
    "eval/chair/chair_i",
    "eval/chair/cooccur_share",
)
ARMS = ("none", "untargeted", "targeted")


def arm_rows(folder: Path) -> list[dict]:
    """One row per finished arm run; a run without did.json (its chain not finished) is counted and left out."""
    rows, unfinished = [], []
    for run in load_runs(folder / "sweeps"):
        did_file = Path(run["dir"]) / "did.json"
        if not did_file.is_file():
            unfinished.append(run["job"])
            continue
        did = json.loads(did_file.read_text())
        rows.append(
            {
                "kind": "arm",
                "seed": int(run["params"]["seed"]),
                "arm": run["params"]["data.arm"],
                "commit": code_version(run),
                **{f"did/{k}": did.get(k) for k in DID},
                **{m: run["metrics"].get(m) for m in PRIMARY},
            }
        )
    if unfinished:
        print(f"left out {len(unfinished)} run(s) without did.json (chain not finished): {', '.join(unfinished)}")
    return rows


def base_rows(folder: Path, seeds: list[int]) -> list[dict]:
    """Each seed's target model: its invention rate on its own top-5 targets (val) and its POPE figures (test)."""
    rows = []
    for seed in seeds:
        summary = json.loads((folder / f"base_s{seed}" / "summary.json").read_text())
        report = json.loads((folder / f"targeted_s{seed}.report.json").read_text())
        targets = list(report["concept_weights"])
        profile = load_profile(folder / f"diag_val_s{seed}" / "profile.json")
        others = [c for c in profile["concepts"] if c not in targets]
        metrics = flatten({"eval": summary.get("eval") or {}})
        rows.append(
            {
                "kind": "base",
                "seed": seed,
                "arm": "target model",
                "targets": " ".join(targets),
                "val/targeted_rate": pooled_rate(profile, targets),
                "val/other_rate": pooled_rate(profile, others) if others else None,
                **{m: metrics.get(m) for m in PRIMARY},
            }
        )
    return rows


def interval(diffs: list[float]) -> str:
    """Mean [95 % t-interval], paired t-test p and seeds lower, as reverie.report computes them."""
    pair = Paired("", "did", -1, diffs)  # lower is better
    if pair.ci is None:
        return f"{pair.mean:+.3f} (n=1)"
    low, high = pair.ci
    return f"{pair.mean:+.3f} [{low:+.3f}, {high:+.3f}], p={pair.p:.3g}, lower in {pair.n_better}/{pair.n}"


def main(folder: Path, out: Path) -> None:
    arms = arm_rows(folder)
    seeds = sorted({r["seed"] for r in arms})
    bases = base_rows(folder, seeds)
    out.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(k for r in bases + arms for k in r))
    with (out / "rerun_runs.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(bases + arms)
    commits = sorted({r["commit"] for r in arms})
    lines = [
        f"# Study 02 rerun: difference in differences ({len(arms)} arm runs, seeds {seeds}, code {', '.join(commits)})",
        "",
        "## The target models (each seed's default run, diagnosed on val)",
        "",
        "| seed | targets (top 5) | invention rate on targets (val) | on the others (val) | POPE adv. false-yes |",
        "|---|---|---|---|---|",
    ]
    for b in bases:
        other = "–" if b["val/other_rate"] is None else f"{b['val/other_rate']:.3f}"
        fy = b["eval/pope/adversarial/false_yes_rate"]
        lines.append(f"| {b['seed']} | {b['targets']} | {b['val/targeted_rate']:.3f} | {other} | {fy:.3f} |")
    lines += [
        "",
        "## Means per arm (test split; `did` = change on the targeted concepts minus change on the others)",
        "",
        "| arm | n | " + " | ".join(k for k in DID) + " |",
        "|---|---|" + "---|" * len(DID),
    ]
    by = {(r["seed"], r["arm"]): r for r in arms}
    for arm in ARMS:
        members = [r for r in arms if r["arm"] == arm]
        if members:
            cells = [f"{statistics.fmean(r[f'did/{k}'] for r in members):.4f}" for k in DID]
            lines.append(f"| {arm} | {len(members)} | " + " | ".join(cells) + " |")
    lines += ["", "## Paired by seed: the difference in differences", "", "| comparison | did |", "|---|---|"]
    for arm, against in (("targeted", "none"), ("targeted", "untargeted"), ("untargeted", "none")):
        diffs = [
            by[(s, arm)]["did/did"] - by[(s, against)]["did/did"]
            for s in seeds
            if (s, arm) in by and (s, against) in by
        ]
        if diffs:
            lines.append(f"| {arm} - {against} | {interval(diffs)} |")
    (out / "rerun_did.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the chain's folder D")
    parser.add_argument("out", type=Path, nargs="?", default=HERE / "2026-12-rerun", help="where the tables go")
    args = parser.parse_args()
    main(args.folder, args.out)
