"""Study 02 (d): how detector errors propagate into the profile and the targeted concepts.

Re-judges model A's val descriptions (outputs/study02/diagnose/both_s0_val/descriptions.jsonl, the diagnosis the
targeted data came from) against a NoisyDetector over the world's truth at several miss / false-positive rates,
3 noise seeds each, and compares each noisy profile with the clean one: rank correlation and top-5 overlap of the
invention rates, and the total-variation distance between the targeted concept distributions (what
`reverie.targeted` would draw). No model runs: the descriptions are the model's, only the truth changes.
Prints a Markdown table and appends nothing; analyze.py's results.md is separate.
"""

from __future__ import annotations

import json
from pathlib import Path

from reverie.dftg.detectors import NoisyDetector, WorldTruth
from reverie.dftg.extract import Triple
from reverie.dftg.judge import judge
from reverie.dftg.profile import Diagnosed, build_profile, load_profile
from reverie.dftg.specificity import compare
from reverie.eval.chair import ObjectVocabulary
from reverie.report import mean_ci

DIAG = Path(__file__).resolve().parents[2] / "outputs" / "study02" / "diagnose" / "both_s0_val"
RATES = [(0.1, 0.02), (0.2, 0.05), (0.3, 0.1)]


def weights(profile: dict) -> dict[str, float]:
    w = {c: v["invention_rate"] for c, v in profile["concepts"].items() if v["hallucinations"] > 0}
    total = sum(w.values())
    return {c: x / total for c, x in w.items()}


def main() -> None:
    clean = load_profile(DIAG / "profile.json")
    vocabulary = ObjectVocabulary.from_json(clean["source"]["extractor"]["vocabulary"])
    scenes = Path(clean["source"]["image_list"])
    rows = [json.loads(x) for x in (DIAG / "descriptions.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "triples" in r]
    triples = [tuple(Triple(**t) for t in r["triples"]) for r in rows]
    images = [scenes.parent / "images" / r["image"] for r in rows]
    base = WorldTruth(scenes)
    print("| miss rate | false-positive rate | Spearman vs clean | top-5 overlap | TV distance of targeted draws |")
    print("|---|---|---|---|---|")
    for miss, fp in RATES:
        stats = {"spearman": [], "overlap": [], "tv": []}
        for seed in range(3):
            detector = NoisyDetector(base, miss, fp, seed, vocabulary)
            truths = detector.detect(images)
            items = [
                Diagnosed(r["image"], r["description"], t, truth, judge(t, truth))
                for r, t, truth in zip(rows, triples, truths, strict=True)
            ]
            noisy = build_profile(items, vocabulary.categories)
            result = compare(clean, noisy, 5)
            a, b = weights(clean), weights(noisy)
            stats["spearman"].append(result["spearman"])
            stats["overlap"].append(result["top_overlap"])
            stats["tv"].append(0.5 * sum(abs(a.get(c, 0) - b.get(c, 0)) for c in set(a) | set(b)))
        cells = [f"{m:.3f} ± {h:.3f}" for m, h in (mean_ci(v) for v in stats.values())]
        print(f"| {miss} | {fp} | " + " | ".join(cells) + " |")
    uniform = 1 / len(vocabulary.categories)
    a = weights(clean)
    tv = 0.5 * sum(abs(a.get(c, 0) - uniform) for c in vocabulary.categories)
    print(f"\nFor scale: the untargeted control's draws (uniform) are at TV distance {tv:.3f} from the clean ones.")


if __name__ == "__main__":
    main()
