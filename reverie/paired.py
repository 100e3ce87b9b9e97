"""Statistics over seeds for `reverie.report`: a mean with its Student-t interval, which way a metric is better, and
differences paired by seed between an arm and a baseline arm (mean, interval, better-in-k/n, paired t-test p,
Holm-adjusted p over the primary metrics, the smallest effect the seeds could detect), with their Markdown and CSV
tables.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf
from scipy import stats as scipy_stats

from reverie.errors import InputError


def t975(df: int) -> float:
    """The Student-t 97.5 % quantile (two-sided 95 %) for ``df`` degrees of freedom."""
    return float(scipy_stats.t.ppf(0.975, df))


def min_detectable(sd: float, n: int, power: float = 0.8) -> float:
    """The smallest true mean paired difference that a two-sided 5 % paired t-test over ``n`` seeds detects with
    probability ``power``, when the per-seed differences have standard deviation ``sd``:
    (t(0.975, n-1) + t(power, n-1)) x sd / sqrt(n)."""
    return float((scipy_stats.t.ppf(0.975, n - 1) + scipy_stats.t.ppf(power, n - 1)) * sd / n**0.5)


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
    def mde(self) -> float | None:
        """Minimal detectable effect at these seeds (80 % power, two-sided 5 %; `min_detectable`): an interval that
        covers 0 rules out effects of about this size or larger, not smaller ones. None with fewer than two pairs."""
        return None if self.n < 2 else min_detectable(statistics.stdev(self.diffs), self.n)

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
    header = ["arm", "metric", "better", "n pairs", "left out", "mean diff", "95 % CI", "better in", "p"]
    header += ["p (Holm)", "MDE"]
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
            _num(r.mde),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_paired_csv(path: Path, rows: list[Paired]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["arm", "metric", "better", "n_pairs", "n_left_out", "left_out_seeds", "mean_diff", "ci_low", "ci_high"]
            + ["n_better", "p", "primary", "p_holm", "mde"]
        )
        for r in rows:
            ci = r.ci or ("", "")
            writer.writerow(
                [r.arm, r.metric, _DIRECTION[r.direction].replace("–", ""), r.n, len(r.left_out), " ".join(r.left_out)]
                + [_blank(r.mean), *ci, _blank(r.n_better), _blank(r.p), int(r.primary), _blank(r.p_holm)]
                + [_blank(r.mde)]
            )


def _blank(x: object) -> object:
    return "" if x is None else x
