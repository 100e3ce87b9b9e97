"""Study 02's tables from the run folders under outputs/study02 (see run_study.sh and diagnose_models.sh).

(a) specificity: rank correlation and top-5 overlap of invention rates, between models (different seeds, same test
images) against the same model on two image sets (val vs test); (b) model A fine-tuned with no extra, untargeted or
targeted data; (c) model B with no extra, its own targeted data or A's. Every figure: mean ± half-width of the 95 %
Student-t interval over seeds (or pairs), n. Writes results.md next to this file and prints it.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from pathlib import Path

from reverie.dftg.profile import load_profile
from reverie.dftg.specificity import compare
from reverie.report import mean_ci

ROOT = Path(__file__).resolve().parents[2] / "outputs" / "study02"
HERE = Path(__file__).resolve().parent
TOP = 5


def fmt(values: list[float], digits: int = 3) -> str:
    if not values:
        return "–"
    mean, half = mean_ci(values)
    return f"{mean:.{digits}f} ± {half:.{digits}f} (n={len(values)})"


def specificity() -> list[str]:
    diag = ROOT / "diagnose"
    profiles = {p.parent.name: load_profile(p) for p in sorted(diag.glob("*/profile.json"))}
    rows = ["## (a) Specificity", "", "| pairs | Spearman of invention rates | top-5 overlap |", "|---|---|---|"]
    groups: dict[str, list[dict]] = {}
    for recipe in ("both", "none"):
        models = sorted({n.rsplit("_", 1)[0] for n in profiles if n.startswith(recipe)})
        for m in models:
            if f"{m}_val" in profiles and f"{m}_test" in profiles:
                groups.setdefault(f"same model, val vs test images ({recipe})", []).append(
                    compare(profiles[f"{m}_val"], profiles[f"{m}_test"], TOP)
                )
        for a, b in itertools.combinations(models, 2):
            if f"{a}_test" in profiles and f"{b}_test" in profiles:
                groups.setdefault(f"two seeds, same test images ({recipe})", []).append(
                    compare(profiles[f"{a}_test"], profiles[f"{b}_test"], TOP)
                )
    for s in range(5):
        if f"both_s{s}_test" in profiles and f"none_s{s}_test" in profiles:
            groups.setdefault("rationales vs answers only, same seed, test", []).append(
                compare(profiles[f"both_s{s}_test"], profiles[f"none_s{s}_test"], TOP)
            )
    for name, results in groups.items():
        if len(results) < 3:  # too few pairs for an interval (answers-only models were diagnosed only in part)
            continue
        rows.append(
            f"| {name} | {fmt([r['spearman'] for r in results])} | {fmt([r['top_overlap'] for r in results], 2)} |"
        )
    rows += ["", "Top-5 concepts by invention rate (test split):", ""]
    for name, p in profiles.items():
        if name.endswith("_test"):
            top = ", ".join(f"{c} {p['concepts'][c]['invention_rate']:.2f}" for c in p["top"][:TOP])
            rows.append(f"- {name[:-5]}: {top} (CHAIR_i {p['totals']['chair_i']:.3f})")
    return rows


def targeted_concepts(data_file: str) -> list[str]:
    report = json.loads((ROOT / "data" / data_file).read_text())
    weights = report["concept_weights"]
    return sorted(weights, key=lambda c: -weights[c])[:TOP]


_PROBE = re.compile(r"Is there an? (.+) in the image\?")


def false_yes(run: Path, concepts: list[str]) -> float:
    """Share of POPE probes about an absent object of ``concepts`` (all three splits pooled) answered yes."""
    asked = said_yes = 0
    for split in ("random", "popular", "adversarial"):
        for line in (run / "eval" / f"pope_{split}.samples.jsonl").read_text().splitlines():
            row = json.loads(line)
            match = _PROBE.fullmatch(row["prompt"])
            if row["label"] == "no" and match and match.group(1) in concepts:
                asked += 1
                said_yes += row["parsed"] == "yes"
    return said_yes / asked if asked else float("nan")


def arm_table(model: str, arms: list[str], concept_sets: dict[str, list[str]]) -> list[str]:
    metrics = {
        "POPE F1 random": "pope/random/f1",
        "POPE F1 popular": "pope/popular/f1",
        "POPE F1 adversarial": "pope/adversarial/f1",
        "false-yes adversarial": "pope/adversarial/false_yes_rate",
        "CHAIR_i (eval, 64 tokens)": "chair/chair_i",
        "CHAIR_s (eval)": "chair/chair_s",
    }
    header = ["arm", *metrics, "CHAIR_i (re-diagnosis)", "attribute error rate"]
    header += [f"invention rate, {name}" for name in concept_sets]
    header += [f"POPE false-yes, {name}" for name in concept_sets]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for arm in arms:
        runs = sorted((ROOT / "ft" / model).glob(f"{arm}_s*/summary.json"))
        evals = [json.loads(r.read_text())["eval"] for r in runs]
        profiles = [
            load_profile(r.parent / "diagnose_test" / "profile.json")
            for r in runs
            if (r.parent / "diagnose_test" / "profile.json").is_file()
        ]
        cells = [arm, *(fmt([e[k] for e in evals]) for k in metrics.values())]
        cells.append(fmt([p["totals"]["chair_i"] for p in profiles]))
        cells.append(fmt([p["totals"]["attribute_rate"] for p in profiles]))
        for concepts in concept_sets.values():
            rates = [sum(p["concepts"][c]["invention_rate"] for c in concepts) / len(concepts) for p in profiles]
            cells.append(fmt(rates))
        for concepts in concept_sets.values():
            cells.append(fmt([false_yes(r.parent, concepts) for r in runs]))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def paired(model: str, pairs: list[tuple[str, str]], concepts: list[str], label: str) -> list[str]:
    """Differences between two arms at the same training seed (seeds share initial weights and data order)."""
    rows = [
        f"| difference (same seed) | POPE F1 adversarial | false-yes adversarial | CHAIR_i (eval) | "
        f"invention rate, {label} | POPE false-yes, {label} |",
        "|---|---|---|---|---|---|",
    ]
    for a, b in pairs:
        diffs: dict[str, list[float]] = {k: [] for k in ("f1", "fy", "chair", "inv", "pfy")}
        for run_a in sorted((ROOT / "ft" / model).glob(f"{a}_s*")):
            run_b = run_a.with_name(run_a.name.replace(a, b, 1))
            files = [r / "diagnose_test" / "profile.json" for r in (run_a, run_b)]
            if not all(f.is_file() for f in files):
                continue
            ea, eb = (json.loads((r / "summary.json").read_text())["eval"] for r in (run_a, run_b))
            pa, pb = (load_profile(f) for f in files)
            diffs["f1"].append(ea["pope/adversarial/f1"] - eb["pope/adversarial/f1"])
            diffs["fy"].append(ea["pope/adversarial/false_yes_rate"] - eb["pope/adversarial/false_yes_rate"])
            diffs["chair"].append(ea["chair/chair_i"] - eb["chair/chair_i"])
            rate = [sum(p["concepts"][c]["invention_rate"] for c in concepts) / len(concepts) for p in (pa, pb)]
            diffs["inv"].append(rate[0] - rate[1])
            diffs["pfy"].append(false_yes(run_a, concepts) - false_yes(run_b, concepts))
        rows.append(f"| {a} − {b} | " + " | ".join(fmt(v) for v in diffs.values()) + " |")
    return rows


def before(name: str, base_run: str, concept_sets: dict[str, list[str]]) -> str:
    """The base model before fine-tuning: its test diagnosis and its own evaluation (study 01's run)."""
    p = load_profile(ROOT / "diagnose" / f"{name}_test" / "profile.json")
    run = ROOT.parent / "study01b" / base_run
    e = json.loads((run / "summary.json").read_text())["eval"]
    inv = ", ".join(
        f"{k} {sum(p['concepts'][c]['invention_rate'] for c in v) / len(v):.3f}" for k, v in concept_sets.items()
    )
    fy = ", ".join(f"{k} {false_yes(run, v):.3f}" for k, v in concept_sets.items())
    return (
        f"Before fine-tuning ({name}, one run): POPE F1 adversarial {e['pope/adversarial/f1']:.3f}, false-yes "
        f"adversarial {e['pope/adversarial/false_yes_rate']:.3f}, CHAIR_i (eval) {e['chair/chair_i']:.3f}, "
        f"CHAIR_i (diagnosis) {p['totals']['chair_i']:.3f}; invention rate: {inv}; POPE false-yes: {fy}."
    )


def main() -> None:
    lines = ["# Study 02 results (generated by analyze.py)", "", *specificity(), ""]
    a_top = targeted_concepts("targeted_A.report.json")
    b_top = targeted_concepts("targeted_B.report.json")
    all_concepts = sorted(load_profile(ROOT / "diagnose" / "both_s0_test" / "profile.json")["concepts"])
    a_rest = [c for c in all_concepts if c not in a_top]
    sets_a = {"A's top-5": a_top, "the other 15": a_rest}
    lines += ["## (b) Model A: no extra data vs untargeted vs targeted (10,000 samples), 1,000 steps", ""]
    lines += [f"A's targeted concepts (top-5 of its val diagnosis): {', '.join(a_top)}.", ""]
    lines += arm_table("A", ["none", "untargeted", "targeted"], sets_a) + [
        "",
        before("both_s0", "context/0", sets_a),
        "",
    ]
    pairs_a = [("targeted", "untargeted"), ("targeted", "none"), ("untargeted", "none")]
    lines += paired("A", pairs_a, a_top, "A's top-5") + [""]
    sets_b = {"B's top-5": b_top, "A's top-5": a_top}
    lines += ["## (c) Model B: no extra data vs its own targeted data vs A's targeted data", ""]
    lines += [f"B's targeted concepts: {', '.join(b_top)}.", ""]
    lines += arm_table("B", ["none", "targeted", "targeted_by_A"], sets_b) + [
        "",
        before("both_s1", "context/1", sets_b),
        "",
    ]
    pairs_b = [("targeted", "targeted_by_A"), ("targeted", "none"), ("targeted_by_A", "none")]
    lines += paired("B", pairs_b, b_top, "B's top-5") + [""]
    text = "\n".join(lines) + "\n"
    (HERE / "results.md").write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
