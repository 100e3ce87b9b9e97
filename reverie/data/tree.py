"""Shared-prefix trees: several conversations that start the same (one REVERIE record under `context=separate`:
image + question + answer, then a positive and a negative branch) become ONE sequence, prefix once, then each branch.

Each branch token attends to the prefix and its own branch only, and its position ids continue from the prefix as in
its separate sample, so every branch computes exactly what that sample computes. Targets shared by the prefix count
once per branch by default (the objective equals separate samples); `shared_once=True` counts them once.
"""

from __future__ import annotations

import numpy as np

from reverie.data.sample import IGNORE_INDEX, EncodedSample


def common_prefix_length(arrays: list[np.ndarray]) -> int:
    n = min(len(a) for a in arrays)
    first = arrays[0][:n]
    same = np.ones(n, dtype=bool)
    for a in arrays[1:]:
        same &= a[:n] == first
    return n if same.all() else int(np.argmin(same))


def build_tree(samples: list[EncodedSample], image_token_id: int, shared_once: bool = False) -> EncodedSample:
    """One tree from samples that share a prefix. The shared part stops one token before the first difference,
    so the prefix's last position predicts a token that is the same in every branch."""
    if len(samples) < 2:
        raise ValueError("a tree needs at least two samples")
    if len({s.image for s in samples}) != 1:
        raise ValueError(f"samples {[s.id for s in samples]} do not share an image")
    shared = common_prefix_length([s.input_ids for s in samples]) - 1
    last_image = max((int(np.flatnonzero(s.input_ids == image_token_id).max(initial=-1)) for s in samples), default=-1)
    if shared <= last_image:
        raise ValueError(f"samples {[s.id for s in samples]} differ before the end of the image span")
    first = samples[0]
    mult = 1.0 if shared_once else float(len(samples))
    prefix_targets = first.target_ids[:shared]
    for s in samples[1:]:  # identical tokens, but a truncated or differently labelled prefix cannot be shared
        if not ((s.target_ids[:shared] == prefix_targets).all() and (s.labels[:shared] == first.labels[:shared]).all()):
            raise ValueError(f"samples {first.id} and {s.id} share tokens but not labels")
    parts = {
        "input_ids": [first.input_ids[:shared]],
        "labels": [first.labels[:shared]],
        "segment_ids": [first.segment_ids[:shared]],
        "target_ids": [prefix_targets],
        "target_segments": [first.target_segments[:shared]],
        "target_mult": [(prefix_targets != IGNORE_INDEX).astype(np.float32) * mult],
        "position_ids": [np.arange(shared)],
        "branch_ids": [np.zeros(shared, dtype=np.int64)],
    }
    for k, s in enumerate(samples, start=1):
        n = len(s) - shared
        for key in ("input_ids", "labels", "segment_ids", "target_ids", "target_segments", "target_mult"):
            parts[key].append(getattr(s, key)[shared:])
        parts["position_ids"].append(np.arange(shared, shared + n))
        parts["branch_ids"].append(np.full(n, k, dtype=np.int64))
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    arrays["target_mult"] = arrays["target_mult"].astype(np.float32)
    return EncodedSample(
        id="+".join(s.id for s in samples), image=first.image, members=tuple(s.id for s in samples), **arrays
    )


def make_trees(
    samples: list[EncodedSample], image_token_id: int, max_length: int, shared_once: bool = False
) -> tuple[list[EncodedSample], dict[str, int]]:
    """Samples of the same source record -> one tree each (when it fits `max_length`); others pass unchanged."""
    groups: dict[str, list[EncodedSample]] = {}
    for s in samples:
        groups.setdefault(s.origin or s.id, []).append(s)
    out, counts = [], {"trees": 0, "samples_in_trees": 0, "too_long_for_a_tree": 0}
    for group in groups.values():
        if len(group) < 2:
            out += group
            continue
        tree = build_tree(group, image_token_id, shared_once)
        if len(tree) > max_length:
            counts["too_long_for_a_tree"] += 1
            out += group
            continue
        counts["trees"] += 1
        counts["samples_in_trees"] += len(group)
        out.append(tree)
    return out, counts
