"""`python -m reverie.report DIR [--metrics K ...] [baseline=ARM] [primary=M1,M2]`: a multirun folder (local or
SLURM) -> one table and one plot, and with a baseline, paired differences against it.

Reads every `summary.json` below DIR with the job's `.hydra/overrides.yaml`. The swept keys (overrides that differ
between jobs; several sweeps may share DIR) become columns; seeds are pooled. Writes `report.csv` (one row per run,
with its code commit and world hash, and, for runs that branched from a base, the base's key and its evaluation
under `base/<metric>`: the "before" of every run), `report.md` (one row per setting: mean ± the half-width of its
95 % Student-t interval over seeds, n; a `base (before)` row over the distinct base models when the runs name one)
and `report.png` (the chosen metrics per setting, error bars = that interval), and prints the Markdown table.
Metrics: `eval/...`, `val_loss`, `val_losses/<segment>` and, for DPO runs, `preference/<train_last_epoch|val>/<stat>`.

`baseline=ARM` (or `--baseline ARM`): an arm is a setting, named `key=value[,key=value...]` over the swept keys other
than `seed`, or by its value(s) alone when unambiguous. Every other arm is compared with it seed by seed (arm minus
baseline, runs paired by `seed`; unpaired seeds are left out and counted): mean difference, its 95 % Student-t
interval, in how many seeds the arm is better, and the two-sided paired t-test p. `primary=M1,M2` (or `--primary M1
M2`): those metrics also get Holm-adjusted p-values (over the primary metrics, within each arm). Writes `paired.md` and
`paired.csv` and prints the table. Runs from different code versions or worlds (their `provenance`) get a warning line
at the top of report.md and paired.md and on stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

import yaml
from omegaconf import OmegaConf

from reverie.cli import user_errors
from reverie.errors import InputError
from reverie.paired import arm_label, find_arm, mean_ci, paired_differences, paired_table, write_paired_csv
from reverie.provenance import code_label

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
BASE_LABEL = "base (before)"


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
                "preference": data.get("preference") or {},  # DPO: rewards, margins, accuracy (train, val)
            }
        )
        runs.append(
            {
                "job": str(job.relative_to(root)),
                "params": params,
                "metrics": metrics,
                "dir": job,
                "base": data.get("base"),
                "provenance": data.get("provenance"),
            }
        )
    if not runs:
        raise FileNotFoundError(f"no summary.json below {root} (is it a multirun folder of reverie.run?)")
    return runs


def _csv(value) -> object:
    """A metric as a csv cell: empty when the run lacks it or it is undefined (null)."""
    return "" if value is None else value


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


# ---- provenance and the base models -----------------------------------------------------------------------------


def code_version(run: dict) -> str:
    """`abc1234` or `abc1234+dirty`; `no provenance` for runs written before provenance was recorded."""
    prov = run.get("provenance")
    if not prov:
        return "no provenance"
    return code_label(prov.get("code"))


def world_hash(run: dict) -> str | None:
    return ((run.get("provenance") or {}).get("hashes") or {}).get("world")


def provenance_warnings(runs: list[dict]) -> list[str]:
    """Markdown warning lines when the runs come from more than one code version or more than one world."""
    worlds = [world_hash(r)[:12] if world_hash(r) else "unknown world" for r in runs]
    lines = []
    for what, values in (("code versions", [code_version(r) for r in runs]), ("worlds", worlds)):
        counts = sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))
        if len(counts) > 1:
            listed = ", ".join(f"{v} ({n} run{'s' * (n != 1)})" for v, n in counts)
            lines.append(f"> **WARNING: these runs come from {len(counts)} {what}: {listed}; compare with care.**")
    return lines


def distinct_bases(runs: list[dict]) -> list[dict]:
    """The runs' base models, one per model: its weights' content hash where the run recorded it (two cache keys can
    hold the same weights: runs before commit 5c7b21b keyed an arm's tree settings), else its key."""
    bases: dict[str, dict] = {}
    for r in runs:
        base = r.get("base")
        if base:
            bases.setdefault(str(base.get("content_hash") or base.get("key") or base.get("dir") or r["job"]), base)
    return list(bases.values())


# ---- the report -------------------------------------------------------------------------------------------------


def _cells(members: list[dict], metrics: list[str]) -> tuple[list[str], dict[str, tuple[float, float]]]:
    cells, stats = [], {}
    for m in metrics:
        values = [float(r["metrics"][m]) for r in members if r["metrics"].get(m) is not None]
        if values:
            stats[m] = mean_ci(values)
            cells.append("{:.4f} ± {:.4f}".format(*stats[m]))
        else:
            cells.append("–")
    return cells, stats


def _markdown(title: str, warnings: list[str], table: str) -> str:
    return f"# {title}\n\n" + "".join(f"{w}\n\n" for w in warnings) + f"{table}\n"


def report(root: Path, metrics: list[str], baseline: str | None = None, primary: list[str] | tuple = ()) -> str:
    """Write report.csv/.md/.png (and with a baseline paired.md/.csv) under ``root``; return the Markdown table(s)."""
    if primary and baseline is None:
        raise InputError("primary metrics need a baseline (baseline=ARM)")
    runs = load_runs(root)
    swept = swept_keys(runs)
    setting_keys = [k for k in swept if k != "seed"]
    metrics = list(dict.fromkeys([*metrics, *primary]))
    for m in primary:
        if not any(r["metrics"].get(m) is not None for r in runs):
            raise InputError(f"primary {m}: no run has this metric")
    metrics = [m for m in metrics if any(m in r["metrics"] for r in runs)]
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault(tuple(r["params"].get(k, "") for k in setting_keys), []).append(r)
    base_setting = None if baseline is None else find_arm(baseline, list(groups), setting_keys)
    warnings = provenance_warnings(runs)
    for w in warnings:
        print(w.removeprefix("> ").replace("**", ""), file=sys.stderr)
    base_metrics = [m for m in metrics if m.startswith("eval/")] if any(r.get("base") for r in runs) else []
    base_columns = ["base", *(f"base/{m}" for m in base_metrics)] if base_metrics else []
    with (root / "report.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["job", *swept, "commit", "world", *metrics, *base_columns])
        for r in runs:
            code = (r.get("provenance") or {}).get("code") or {}
            commit = (code.get("commit") or "") + ("+dirty" if code.get("dirty") else "")
            base = r.get("base") or {}
            before = flatten({"eval": base.get("eval") or {}})
            writer.writerow(
                [r["job"], *(r["params"].get(k, "") for k in swept), commit, world_hash(r) or ""]
                + [_csv(r["metrics"].get(m)) for m in metrics]
                + ([base.get("key", ""), *(_csv(before.get(m)) for m in base_metrics)] if base_columns else [])
            )
    bases = distinct_bases(runs)
    label_column = ["arm"] if bases and not setting_keys else []  # somewhere to name the base row
    header = [*label_column, *setting_keys, "n", *metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    stats: dict[tuple, dict[str, tuple[float, float]]] = {}
    for setting, members in groups.items():
        cells, stats[setting] = _cells(members, metrics)
        lines.append(
            "| " + " | ".join([*(["all"] * len(label_column)), *map(str, setting), str(len(members)), *cells]) + " |"
        )
    if bases:
        base_runs = [{"metrics": flatten({"eval": b.get("eval") or {}})} for b in bases]
        cells, stats[(BASE_LABEL,)] = _cells(base_runs, metrics)
        label = [BASE_LABEL, *[""] * (len(label_column) + len(setting_keys) - 1)]
        lines.append("| " + " | ".join([*label, str(len(bases)), *cells]) + " |")
    table = "\n".join(lines)
    (root / "report.md").write_text(_markdown(root.name, warnings, table))
    plot(root / "report.png", setting_keys, stats, metrics)
    if base_setting is None:
        return table
    rows = paired_differences(groups, setting_keys, base_setting, metrics, list(primary))
    paired = paired_table(rows)
    title = f"{root.name}: paired differences against {arm_label(base_setting, setting_keys)}"
    note = (
        "Difference = arm minus baseline, runs paired by seed. 95 % CI: Student-t interval of the mean difference. "
        "Better in: seeds in which the arm is better. p: two-sided paired t-test; p (Holm): Holm-adjusted over the "
        "primary metrics within each arm."
    )
    (root / "paired.md").write_text(_markdown(title, warnings, f"{note}\n\n{paired}"))
    write_paired_csv(root / "paired.csv", rows)
    return f"{table}\n\n{paired}"


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


_KEY_VALUE = ("baseline", "primary", "metrics")


def hydra_style(argv: list[str]) -> list[str]:
    """`baseline=ARM`, `primary=M1,M2`, `metrics=M1,M2` -> `--baseline=ARM` ... (split at the first `=` only)."""
    return [f"--{a}" if a.partition("=")[0] in _KEY_VALUE and "=" in a else a for a in argv]


def _split_commas(values: list[str] | None) -> list[str]:
    return [v for value in values or [] for v in value.split(",") if v]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reverie.report", description="Turn a reverie multirun folder into a table and a plot."
    )
    parser.add_argument("dir", type=Path, help="multirun folder (e.g. outputs/train/multiruns/<time>)")
    parser.add_argument(
        "--metrics",
        nargs="+",
        default=list(DEFAULT_METRICS),
        help="metric keys (eval/..., val_loss, val_losses/SEGMENT); also metrics=M1,M2",
    )
    parser.add_argument(
        "--baseline",
        metavar="ARM",
        help="compare every arm with this one, seed by seed (key=value[,key=value] or the value(s)); also baseline=ARM",
    )
    parser.add_argument(
        "--primary",
        nargs="+",
        metavar="M",
        help="metrics that get Holm-adjusted p-values (needs a baseline); also primary=M1,M2",
    )
    args = parser.parse_args(hydra_style(sys.argv[1:] if argv is None else argv))
    args.metrics = _split_commas(args.metrics)
    args.primary = _split_commas(args.primary)
    return args


@user_errors
def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    print(report(args.dir, args.metrics, args.baseline, args.primary))
    written = ["report.md", "report.csv", "report.png"] + (["paired.md", "paired.csv"] if args.baseline else [])
    print("\nwrote " + ", ".join(str(args.dir / name) for name in written))


if __name__ == "__main__":
    main()
