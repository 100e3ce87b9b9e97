"""`python -m reverie.report DIR [--metrics K ...]`: a multirun folder (local or SLURM) -> one table and one plot.

Reads every `summary.json` below DIR with the job's `.hydra/overrides.yaml`. The swept keys (overrides that differ
between jobs; several sweeps may share DIR) become columns; seeds are pooled. Writes `report.csv` (one row per run),
`report.md` (one row per setting: mean ± the half-width of its 95 % Student-t interval over seeds, n) and
`report.png` (the chosen metrics per setting, error bars = that interval), and prints the Markdown table.
Metrics: `eval/...`, `val_loss` and `val_losses/<segment>`.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from pathlib import Path

import yaml
from omegaconf import OmegaConf

DEFAULT_METRICS = (
    "eval/pope/random/f1",
    "eval/pope/popular/f1",
    "eval/pope/adversarial/f1",
    "eval/pope/mean_f1",
    "eval/pope/adversarial/yes_ratio",
    "eval/pope/adversarial_gap",
    "eval/chair/chair_s",
    "eval/chair/chair_i",
    "val_loss",
)


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        out.update(flatten(v, f"{key}/") if isinstance(v, dict) else {key: v})
    return out


def load_runs(root: Path) -> list[dict]:
    runs = []
    for summary in sorted(root.rglob("summary.json")):
        job = summary.parent
        overrides_file = job / ".hydra" / "overrides.yaml"
        overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
        params = dict(o.lstrip("+").split("=", 1) for o in overrides if "=" in o)
        data = json.loads(summary.read_text())
        metrics = flatten(
            {
                "eval": data.get("eval") or {},
                "val_loss": data.get("val_loss"),
                "val_losses": data.get("val_losses") or {},
            }
        )
        runs.append({"job": str(job.relative_to(root)), "params": params, "metrics": metrics, "dir": job})
    if not runs:
        raise FileNotFoundError(f"no summary.json below {root} (is it a multirun folder of reverie.run?)")
    return runs


def swept_keys(runs: list[dict]) -> list[str]:
    """Keys whose value differs between runs. A key set on the command line of one sweep but left at its config
    value in another (e.g. two sweeps under one folder) takes that value from the job's resolved `config.yaml`."""
    keys = sorted({k for r in runs for k in r["params"]})
    for r in runs:
        missing = [k for k in keys if k not in r["params"]]
        config_file = r["dir"] / ".hydra" / "config.yaml"
        if missing and config_file.is_file():
            config = OmegaConf.load(config_file)
            for key in missing:
                value = OmegaConf.select(config, key, throw_on_resolution_failure=False)
                if value is not None:
                    r["params"][key] = str(value)
    return [k for k in keys if len({r["params"].get(k) for r in runs}) > 1]


# Student-t 97.5 % quantiles by degrees of freedom (two-sided 95 %); beyond the table the normal 1.96 is close.
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % Student-t interval over the values (0 for a single value)."""
    if len(values) < 2:
        return statistics.fmean(values), 0.0
    t = _T975.get(len(values) - 1, 1.96 + 2.5 / (len(values) - 1))
    return statistics.fmean(values), t * statistics.stdev(values) / len(values) ** 0.5


def report(root: Path, metrics: list[str]) -> str:
    runs = load_runs(root)
    swept = swept_keys(runs)
    setting_keys = [k for k in swept if k != "seed"]
    metrics = [m for m in metrics if any(m in r["metrics"] for r in runs)]
    with (root / "report.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["job", *swept, *metrics])
        for r in runs:
            writer.writerow(
                [r["job"], *(r["params"].get(k, "") for k in swept), *(r["metrics"].get(m, "") for m in metrics)]
            )
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault(tuple(r["params"].get(k, "") for k in setting_keys), []).append(r)
    header = [*setting_keys, "n", *metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    stats: dict[tuple, dict[str, tuple[float, float]]] = {}
    for setting, members in groups.items():
        stats[setting] = {}
        cells = []
        for m in metrics:
            values = [float(r["metrics"][m]) for r in members if r["metrics"].get(m) is not None]
            if values:
                stats[setting][m] = mean_ci(values)
                cells.append("{:.4f} ± {:.4f}".format(*stats[setting][m]))
            else:
                cells.append("–")
        lines.append("| " + " | ".join([*map(str, setting), str(len(members)), *cells]) + " |")
    table = "\n".join(lines)
    (root / "report.md").write_text(f"# {root.name}\n\n{table}\n")
    plot(root / "report.png", setting_keys, stats, metrics)
    return table


def plot(path: Path, setting_keys: list[str], stats: dict, metrics: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = list(stats)
    labels = [" / ".join(map(str, s)) or "all" for s in settings]  # values only; the keys are in the title
    cols = min(4, len(metrics))
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat[len(metrics) :]:
        ax.axis("off")
    for ax, m in zip(axes.flat, metrics, strict=False):
        means = [stats[s].get(m, (float("nan"), 0))[0] for s in settings]
        halves = [stats[s].get(m, (0, 0))[1] for s in settings]
        ax.bar(range(len(settings)), means, yerr=halves, capsize=3, color="tab:blue")
        ax.set_xticks(range(len(settings)), labels, rotation=60, ha="right", fontsize=7)
        ax.set_title(m.removeprefix("eval/"), fontsize=8)
    fig.suptitle(" / ".join(setting_keys) + "  (mean and 95 % interval over seeds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description="Turn a reverie multirun folder into a table and a plot.")
    parser.add_argument("dir", type=Path, help="multirun folder (e.g. outputs/train/multiruns/<time>)")
    parser.add_argument(
        "--metrics",
        nargs="+",
        default=list(DEFAULT_METRICS),
        help="metric keys (eval/..., val_loss, val_losses/SEGMENT)",
    )
    args = parser.parse_args()
    print(report(args.dir, args.metrics))
    print(f"\nwrote {args.dir / 'report.md'}, {args.dir / 'report.csv'}, {args.dir / 'report.png'}")


if __name__ == "__main__":
    main()
