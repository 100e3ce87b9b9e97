"""Study 04's tables and plot from its sweep folder: per-run rows, the bases' binding, the dose response paired by
seed against dose 0, and the minimal detectable effect (MDE) of each primary metric at the study's seed count.

Usage: python experiments/04-positive-control/analyze.py SWEEP_DIR [OUT_DIR] [--answers-only DIR] [--extra-bases DIR]
Writes runs.csv (one row per run, base and arm metrics, code commit; with --answers-only and --extra-bases their runs
too, in the `arm` column), results.md and dose_response.png to OUT_DIR (default: this folder). Every number in
results.md is recomputed from runs.csv's rows. CHAIR_i and the co-occurrence share of a model that names no object
are undefined (empty), as reverie defines them since commit 1e362db, not 0.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path

from reverie.paired import Paired, min_detectable
from reverie.report import code_version, load_runs

DOSE = "data.train_sources.3.weight"
PRIMARY = (
    "eval/pope/adversarial/false_yes_rate",
    "eval/pope/adversarial_gap",
    "eval/chair/chair_i",
    "eval/chair/cooccur_share",
)
SECONDARY = (
    "eval/pope/random/accuracy",
    "eval/pope/adversarial/accuracy",
    "eval/pope/random/false_yes_rate",
    "eval/pope/adversarial/yes_ratio",
    "eval/pope/random/yes_ratio",
    "eval/chair/mentions",  # objects named in the 240 descriptions: CHAIR_i is 0 when none are
)
BINDS = 0.85  # a model "binds" (looks at the object asked about) at POPE random accuracy >= this


def rows_of(sweep: Path, arm: str = "both") -> list[dict]:
    rows = []
    for run in load_runs(sweep):
        base = {f"base/{k}": v for k, v in flatten_eval(run["base"]["eval"]).items()} if run["base"] else {}
        rows.append(
            {
                "arm": arm,
                "job": run["job"],
                "seed": int(run["params"]["seed"]),
                "dose": float(run["params"].get(DOSE, 0.0)),
                "commit": code_version(run),
                "base_key": run["base"]["key"] if run["base"] else "",
                **{m: run["metrics"].get(m) for m in (*PRIMARY, *SECONDARY)},
                **{f"base/{m}": base.get(f"base/{m}") for m in (*PRIMARY, *SECONDARY)},
            }
        )
    for row in rows:
        for prefix in ("", "base/"):
            if row.get(f"{prefix}eval/chair/mentions") == 0:  # no object named: CHAIR is undefined, not perfect
                row[f"{prefix}eval/chair/chair_i"] = row[f"{prefix}eval/chair/cooccur_share"] = None
    return sorted(rows, key=lambda r: (r["dose"], r["seed"]))


def flatten_eval(metrics: dict) -> dict:
    return {f"eval/{k}": v for k, v in metrics.items()}


def paired(rows: list[dict], metric: str, dose: float) -> list[float]:
    """Per-seed differences (dose minus dose 0) of one metric; a seed where either side is undefined is left out."""
    zero = {r["seed"]: r[metric] for r in rows if r["dose"] == 0.0 and r[metric] is not None}
    return [
        r[metric] - zero[r["seed"]] for r in rows if r["dose"] == dose and r["seed"] in zero and r[metric] is not None
    ]


def mean_of(values: list) -> str:
    """Mean of the defined values, with their count when some are undefined."""
    defined = [v for v in values if v is not None]
    text = f"{statistics.fmean(defined):.3f}" if defined else "–"
    return text if len(defined) == len(values) else f"{text} (n={len(defined)})"


def interval(diffs: list[float]) -> tuple[float, float, float, float]:
    """Mean, 95 % t-interval (low, high) and two-sided paired t-test p of per-seed differences (as reverie.report)."""
    d = Paired(arm="", metric="", direction=None, diffs=diffs)
    low, high = d.ci
    return d.mean, low, high, d.p


def main(sweep: Path, out: Path, answers_only: Path | None = None, extra_bases: Path | None = None) -> None:
    rows = rows_of(sweep)
    baseline = rows_of(answers_only, "answers_only") if answers_only else []
    extra = rows_of(extra_bases, "extra_base") if extra_bases else []
    every = rows + baseline + extra
    with (out / "runs.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(every[0]))
        writer.writeheader()
        writer.writerows(every)
    doses = sorted({r["dose"] for r in rows})
    commits = sorted({r["commit"] for r in every})
    lines = [f"# Study 04 results (recomputed from runs.csv: {len(every)} runs, code {', '.join(commits)})", ""]

    bases = {r["seed"]: r["base/eval/pope/random/accuracy"] for r in rows + extra if r["base_key"]}
    bound = sum(v >= BINDS for v in bases.values())
    lines += [
        f"## The bases ({len(bases)} seeds)",
        "",
        f"POPE random accuracy per seed: {', '.join(f'{s}: {v:.3f}' for s, v in sorted(bases.items()))}; "
        f"{bound} of {len(bases)} reach {BINDS}.",
        "",
        "## Means per dose (mean over seeds)",
        "",
        "| dose | n | " + " | ".join(m.removeprefix("eval/") for m in (*PRIMARY, *SECONDARY)) + " |",
        "|---|---|" + "---|" * (len(PRIMARY) + len(SECONDARY)),
    ]
    zero = [r for r in rows if r["dose"] == 0.0]
    base_means = [mean_of([r[f"base/{m}"] for r in zero]) for m in (*PRIMARY, *SECONDARY)]
    lines.append(f"| base (before) | {len(zero)} | " + " | ".join(base_means) + " |")
    for dose in doses:
        members = [r for r in rows if r["dose"] == dose]
        cells = [mean_of([r[m] for r in members]) for m in (*PRIMARY, *SECONDARY)]
        lines.append(f"| {dose:g} | {len(members)} | " + " | ".join(cells) + " |")
    if baseline:
        cells = [mean_of([r[m] for r in baseline]) for m in (*PRIMARY, *SECONDARY)]
        lines.append(f"| answers-only, dose 0 | {len(baseline)} | " + " | ".join(cells) + " |")

    lines += [
        "",
        "## Paired differences against dose 0 (same seed): mean [95 % t-interval], p, seeds lower",
        "",
        "| dose | " + " | ".join(m.removeprefix("eval/") for m in PRIMARY) + " |",
        "|---|" + "---|" * len(PRIMARY),
    ]
    sds: dict[str, list[float]] = {m: [] for m in PRIMARY}
    curves: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in PRIMARY}
    for dose in doses[1:]:
        cells = []
        for m in PRIMARY:
            diffs = paired(rows, m, dose)
            mean, low, high, p = interval(diffs)
            sds[m].append(statistics.stdev(diffs))
            curves[m].append((dose, mean, low, high))
            lower = sum(d < 0 for d in diffs)
            cells.append(f"{mean:+.3f} [{low:+.3f}, {high:+.3f}], p={p:.3g}, {lower}/{len(diffs)}")
        lines.append(f"| {dose:g} | " + " | ".join(cells) + " |")

    n = len({r["seed"] for r in rows if r["dose"] == 0.0})
    lines += [
        "",
        f"## Minimal detectable effect at {n} seeds (paired t-test, two-sided 5 %, power 80 %)",
        "",
        "sd = root mean square over the doses of the per-seed differences' standard deviation.",
        "",
        f"| metric | sd of paired differences | MDE at {n} seeds | MDE at 8 seeds (same sd) |",
        "|---|---|---|---|",
    ]
    for m in PRIMARY:
        sd = statistics.fmean(s**2 for s in sds[m]) ** 0.5
        lines.append(
            f"| {m.removeprefix('eval/')} | {sd:.4f} | {min_detectable(sd, n):.4f} | {min_detectable(sd, 8):.4f} |"
        )
    if baseline:
        lines += recipe_check(rows, baseline)
    (out / "results.md").write_text("\n".join(lines) + "\n")
    plot(out / "dose_response.png", curves)
    print("\n".join(lines))


def recipe_check(rows: list[dict], baseline: list[dict]) -> list[str]:
    """Answers-only against the default arm (both rationales), both at dose 0 on the same bases, paired by seed."""
    default = {r["seed"]: r for r in rows if r["dose"] == 0.0}
    lines = [
        "",
        "## The recipe on the baseline arm: answers-only minus both rationales, dose 0, same base (paired by seed)",
        "",
        "| metric | mean [95 % t-interval] | p | seeds where answers-only is higher |",
        "|---|---|---|---|",
    ]
    for m in ("eval/pope/random/accuracy", *PRIMARY):
        diffs = [
            r[m] - default[r["seed"]][m]
            for r in baseline
            if r["seed"] in default and r[m] is not None and default[r["seed"]][m] is not None
        ]
        if len(diffs) < 2:
            continue
        mean, low, high, p = interval(diffs)
        higher = sum(d > 0 for d in diffs)
        lines.append(
            f"| {m.removeprefix('eval/')} | {mean:+.3f} [{low:+.3f}, {high:+.3f}] | {p:.3g} | {higher}/{len(diffs)} |"
        )
    return lines


def plot(path: Path, curves: dict[str, list[tuple[float, float, float, float]]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(3.4 * len(curves), 3.2))
    for ax, (metric, points) in zip(axes, curves.items(), strict=True):
        doses = [0.0] + [p[0] for p in points]
        means = [0.0] + [p[1] for p in points]
        lows = [0.0] + [p[1] - p[2] for p in points]
        highs = [0.0] + [p[3] - p[1] for p in points]
        ax.errorbar(doses, means, yerr=[lows, highs], marker="o", capsize=3)
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xlabel("dose (uses per epoch of 8 hard questions per image)", fontsize=7)
        ax.set_title(metric.removeprefix("eval/") + "\nminus dose 0, paired", fontsize=8)
    fig.suptitle("Positive control: dose response (mean and 95 % t-interval over seeds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="the dose sweep's folder")
    parser.add_argument("out", type=Path, nargs="?", default=Path(__file__).parent, help="where the tables go")
    parser.add_argument("--answers-only", type=Path, help="answers-only runs at dose 0 on the same bases")
    parser.add_argument("--extra-bases", type=Path, help="default runs of further seeds (their bases count too)")
    args = parser.parse_args()
    main(args.sweep, args.out, args.answers_only, args.extra_bases)
