"""Hallucination specificity: how different two models' profiles are.

``python -m reverie.dftg.specificity A/profile.json B/profile.json [--top 5]`` prints the overlap of their top
concepts (shared / k, and Jaccard) and the Spearman rank correlation of their per-concept rates over the concepts
both could invent (torchmetrics).
"""

from __future__ import annotations

import argparse
import json

import torch
from torchmetrics.functional import spearman_corrcoef

from reverie.dftg.profile import load_profile, ranked


def compare(a: dict, b: dict, top: int = 5, key: str = "invention_rate") -> dict:
    """Top-``top`` overlap and rank correlation of ``key`` between profiles ``a`` and ``b``."""
    top_a, top_b = ranked(a["concepts"], key)[:top], ranked(b["concepts"], key)[:top]
    shared = set(top_a) & set(top_b)
    common = sorted(c for c in set(a["concepts"]) & set(b["concepts"]) if a["concepts"][c]["absent_images"] > 0)
    if len(common) < 3:
        raise ValueError(f"profiles share only {len(common)} concepts; a rank correlation needs at least 3")
    x = torch.tensor([a["concepts"][c][key] for c in common], dtype=torch.float64)
    y = torch.tensor([b["concepts"][c][key] for c in common], dtype=torch.float64)
    return {
        "top": top,
        "top_a": top_a,
        "top_b": top_b,
        "top_overlap": len(shared) / top,
        "top_jaccard": len(shared) / len(set(top_a) | set(top_b)) if top_a or top_b else 1.0,
        "spearman": float(spearman_corrcoef(x, y)),
        "concepts": len(common),
        "key": key,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--top", type=int, default=5, help="how many top concepts to compare")
    parser.add_argument("--key", default="invention_rate", help="per-concept rate to rank by")
    args = parser.parse_args(argv)
    print(json.dumps(compare(load_profile(args.a), load_profile(args.b), args.top, args.key), indent=2))


if __name__ == "__main__":
    main()
