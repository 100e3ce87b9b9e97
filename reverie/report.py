"""`python -m reverie.report DIR [--metrics K ...] [baseline=ARM] [primary=M1,M2]`: a multirun folder (local or
SLURM) -> one table and one plot, and with a baseline, paired differences against it.

Reads every `summary.json` below DIR with the job's `.hydra/overrides.yaml`. The swept keys (overrides that differ
between jobs; several sweeps may share DIR) become columns; seeds are pooled. Writes `report.csv` (one row per run,
with its code commit and world hash), `report.md` (one row per setting: mean ± the half-width of its 95 % Student-t
interval over seeds, n; a `base (before)` row over the distinct base models when the runs name one) and `report.png`
(the chosen metrics per setting, error bars = that interval), and prints the Markdown table.
Metrics: `eval/...`, `val_loss` and `val_losses/<segment>`.

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
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from omegaconf import OmegaConf
from scipy import stats as scipy_stats

from reverie.cli import user_errors
from reverie.errors import InputError

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


def t975(df: int) -> float:
    """The Student-t 97.5 % quantile (two-sided 95 %) for ``df`` degrees of freedom."""
    return float(scipy_stats.t.ppf(0.975, df))


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % Student-t interval over the values (0 for a single value)."""
    if len(values) < 2:
        return statistics.fmean(values), 0.0
    return statistics.fmean(values), t975(len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5


# ---- which way is better ----------------------------------------------------------------------------------------

_HIGHER = {"accuracy", "circular_accuracy", "f1", "mean_f1", "precision", "recall", "acc", "acc_plus", "score"}


def better_direction(metric: str) -> int | None:
    """+1 when higher is better, -1 when lower is better, None when neither or unknown.

    Lower: losses (`val_loss`, `val_losses/...`), CHAIR (`chair_s`, `chair_i`, `cooccur_share`: the hallucinated
    objects' share that co-occurs with the image's objects), `false_yes_rate` and
    `pope/adversarial_gap` (the false-yes rate on adversarial minus random POPE negatives: co-occurrence
    hallucination, 0 when there is none). Higher: accuracy, F1, precision, recall, MME's acc/acc_plus/score.
    None: `yes_ratio` (0.5 is ideal on balanced POPE, so neither way is better), counts and anything else.
    A `_ci_low`/`_ci_high` bound follows its metric.
    """
    if metric == "val_loss" or metric.startswith("val_losses/"):
        return -1
    name = metric.rsplit("/", 1)[-1].removesuffix("_ci_low").removesuffix("_ci_high")
    if name.startswith("chair_") or name.startswith("false_yes") or name in ("adversarial_gap", "cooccur_share"):
        return -1
    if name in _HIGHER:
        return 1
    return None


# ---- arms and pairs ---------------------------------------------------------------------------------------------


def arm_label(setting: tuple, setting_keys: list[str]) -> str:
    """`key=value,key=value` over the setting keys (the swept keys other than seed)."""
    return ",".join(f"{k}={v}" for k, v in zip(setting_keys, setting, strict=True))


def find_arm(name: str, settings: list[tuple], setting_keys: list[str]) -> tuple:
    """The setting named ``name``: its full label, its values joined by `,`, or (when that picks one arm) some of
    its `key=value` parts or values."""
    labels = {arm_label(s, setting_keys): s for s in settings}
    known = ", ".join(labels) or "(none: no key but seed is swept)"
    if name in labels:
        return labels[name]
    exact = [s for s in settings if ",".join(map(str, s)) == name]
    if not exact:
        parts = name.split(",")
        exact = [
            s
            for s in settings
            if all(p in {f"{k}={v}" for k, v in zip(setting_keys, s, strict=True)} or p in map(str, s) for p in parts)
        ]
    if len(exact) == 1:
        return exact[0]
    if exact:
        matches = ", ".join(arm_label(s, setting_keys) for s in exact)
        raise InputError(f"baseline {name}: more than one arm matches ({matches}); name it in full")
    raise InputError(f"baseline {name}: no such arm; arms: {known}")


def run_seed(run: dict) -> str | None:
    """The run's `seed` override, else the seed in its resolved config; None when neither says."""
    if "seed" in run["params"]:
        return str(run["params"]["seed"])
    config_file = run["dir"] / ".hydra" / "config.yaml"
    if config_file.is_file():
        value = OmegaConf.select(OmegaConf.load(config_file), "seed", throw_on_resolution_failure=False)
        if value is not None:
            return str(value)
    return None


def _seed_order(seed: str) -> tuple:
    return (0, int(seed), "") if seed.lstrip("-").isdigit() else (1, 0, seed)


def by_seed(members: list[dict], label: str) -> dict[str, dict]:
    """The arm's runs by seed; two runs of one arm with the same seed cannot be paired."""
    out: dict[str, dict] = {}
    for r in members:
        seed = run_seed(r)
        if seed is None:
            continue
        if seed in out:
            raise InputError(f"arm {label or 'all'} has two runs with seed {seed} ({out[seed]['job']}, {r['job']})")
        out[seed] = r
    return out


@dataclass
class Paired:
    """One arm against the baseline on one metric (difference = arm minus baseline, same seed)."""

    arm: str
    metric: str
    direction: int | None
    diffs: list[float]
    left_out: list[str] = field(default_factory=list)  # seeds in one arm only or without the metric ('?': no seed)
    primary: bool = False
    p_holm: float | None = None

    @property
    def n(self) -> int:
        return len(self.diffs)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.diffs) if self.diffs else None

    @property
    def ci(self) -> tuple[float, float] | None:
        """95 % Student-t interval of the mean difference (needs two pairs)."""
        if self.n < 2:
            return None
        half = t975(self.n - 1) * statistics.stdev(self.diffs) / self.n**0.5
        return self.mean - half, self.mean + half

    @property
    def n_better(self) -> int | None:
        """Seeds in which the arm beats the baseline (ties are not better); None without a better direction."""
        return None if self.direction is None else sum(d * self.direction > 0 for d in self.diffs)

    @property
    def p(self) -> float | None:
        """Two-sided paired t-test (one-sample t on the differences); None with fewer than two pairs."""
        if self.n < 2:
            return None
        sd = statistics.stdev(self.diffs)
        if sd == 0:  # every seed moved by the same amount: t is infinite (or 0/0 when nothing moved)
            return 1.0 if self.mean == 0 else 0.0
        t = self.mean / (sd / self.n**0.5)
        return float(2 * scipy_stats.t.sf(abs(t), self.n - 1))


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjustment: the i-th smallest of m p-values times (m - i + 1), kept monotone, at most 1."""
    out, running = {}, 0.0
    ordered = sorted(pvalues.items(), key=lambda kv: kv[1])
    for i, (name, p) in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - i) * p))
        out[name] = running
    return out


def paired_differences(
    groups: dict[tuple, list[dict]], setting_keys: list[str], baseline: tuple, metrics: list[str], primary: list[str]
) -> list[Paired]:
    """Every other arm against the baseline arm, metric by metric, runs paired by seed."""
    base_runs = by_seed(groups[baseline], arm_label(baseline, setting_keys))
    rows = []
    for setting, members in groups.items():
        if setting == baseline:
            continue
        label = arm_label(setting, setting_keys)
        arm_runs = by_seed(members, label)
        seeds = sorted(set(base_runs) | set(arm_runs), key=_seed_order)
        unseeded = sum(run_seed(r) is None for r in [*members, *groups[baseline]])
        arm_rows = []
        for m in metrics:
            diffs, left_out = [], ["?"] * unseeded
            for seed in seeds:
                a, b = arm_runs.get(seed), base_runs.get(seed)
                if a is None or b is None or a["metrics"].get(m) is None or b["metrics"].get(m) is None:
                    left_out.append(seed)
                else:
                    diffs.append(float(a["metrics"][m]) - float(b["metrics"][m]))
            arm_rows.append(Paired(label, m, better_direction(m), diffs, left_out, primary=m in primary))
        adjusted = holm({r.metric: r.p for r in arm_rows if r.primary and r.p is not None})
        for r in arm_rows:
            r.p_holm = adjusted.get(r.metric)
        rows += arm_rows
    return rows


def _num(x: float | None, signed: bool = False) -> str:
    return "–" if x is None else f"{x:+.4f}" if signed else f"{x:.4f}"


def _p(p: float | None) -> str:
    return "–" if p is None else f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


_DIRECTION = {1: "higher", -1: "lower", None: "–"}


def paired_table(rows: list[Paired]) -> str:
    header = ["arm", "metric", "better", "n pairs", "left out", "mean diff", "95 % CI", "better in", "p", "p (Holm)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        seeds = "seed" + "s" * (len(r.left_out) > 1)
        left = f"{len(r.left_out)} ({seeds} {', '.join(r.left_out)})" if r.left_out else "0"
        cells = [
            r.arm,
            r.metric,
            _DIRECTION[r.direction],
            str(r.n),
            left,
            _num(r.mean, signed=True),
            "–" if r.ci is None else f"[{r.ci[0]:+.4f}, {r.ci[1]:+.4f}]",
            "–" if r.n_better is None else f"{r.n_better}/{r.n}",
            _p(r.p),
            _p(r.p_holm) if r.primary else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_paired_csv(path: Path, rows: list[Paired]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["arm", "metric", "better", "n_pairs", "n_left_out", "left_out_seeds", "mean_diff", "ci_low", "ci_high"]
            + ["n_better", "p", "primary", "p_holm"]
        )
        for r in rows:
            ci = r.ci or ("", "")
            writer.writerow(
                [r.arm, r.metric, _DIRECTION[r.direction].replace("–", ""), r.n, len(r.left_out), " ".join(r.left_out)]
                + [_blank(r.mean), *ci, _blank(r.n_better), _blank(r.p), int(r.primary), _blank(r.p_holm)]
            )


def _blank(x: object) -> object:
    return "" if x is None else x


# ---- provenance and the base models -----------------------------------------------------------------------------


def code_version(run: dict) -> str:
    """`abc1234` or `abc1234+dirty`; `no provenance` for runs written before provenance was recorded."""
    prov = run.get("provenance")
    if not prov:
        return "no provenance"
    code = prov.get("code") or {}
    commit = code.get("commit")
    label = commit[:7] if commit else f"{code['version']} (no commit)" if code.get("version") else "unknown code"
    return label + ("+dirty" if code.get("dirty") else "")


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
    """The runs' base models, one per `key` (every arm of a seed shares its seed's base)."""
    bases: dict[str, dict] = {}
    for r in runs:
        base = r.get("base")
        if base:
            bases.setdefault(str(base.get("key") or base.get("dir") or r["job"]), base)
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
    with (root / "report.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["job", *swept, "commit", "world", *metrics])
        for r in runs:
            code = (r.get("provenance") or {}).get("code") or {}
            commit = (code.get("commit") or "") + ("+dirty" if code.get("dirty") else "")
            writer.writerow(
                [r["job"], *(r["params"].get(k, "") for k in swept), commit, world_hash(r) or ""]
                + [r["metrics"].get(m, "") for m in metrics]
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
