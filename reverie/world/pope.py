"""POPE question files sampled by POPE's rules on the world's ground truth.

Per image, up to ``k`` present categories are probed ("yes"), each followed by one absent category ("no"):
random = uniform over the vocabulary; popular = the most frequent categories of the probed split first;
adversarial = the categories that co-occur most often with that present category first. A negative is never in the
image and never repeats within an image; popular and adversarial fall back to random when their list runs out. The
present categories probed are the same in all three files, so the files differ only in their negatives. When an image
has fewer than ``k`` categories, all of them are probed (the yes/no balance is kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reverie.world.facts import SceneFacts
from reverie.world.language import with_article
from reverie.world.rand import Rand
from reverie.world.stats import Stats

STRATEGIES = ("random", "popular", "adversarial")


def pope_text(category: str) -> str:
    return f"Is there {with_article(category)} in the image?"


def _negative(
    strategy: str, positive: str, taken: set[str], stats: Stats, vocab_names: Sequence[str], rand: Rand
) -> str | None:
    if strategy == "popular":
        ranked = stats.by_frequency()
    elif strategy == "adversarial":
        ranked = stats.by_cooccurrence(positive)
    else:
        ranked = []
    for category in ranked:
        if category not in taken:
            return category
    free = [c for c in vocab_names if c not in taken]
    return rand.choice(free) if free else None


def pope_files(facts: Sequence[SceneFacts], k: int, rand: Rand) -> dict[str, list[dict[str, Any]]]:
    """Question lists for the three strategies over one split's images."""
    if not facts:
        return {s: [] for s in STRATEGIES}
    vocab = facts[0].vocab
    stats = Stats([f.scene for f in facts], vocab)
    positives = [rand.sample(f.present, k) for f in facts]
    out: dict[str, list[dict[str, Any]]] = {}
    for strategy in STRATEGIES:
        questions: list[dict[str, Any]] = []
        for f, chosen in zip(facts, positives, strict=True):
            taken = set(f.present)
            for positive in chosen:
                negative = _negative(strategy, positive, taken, stats, vocab.names, rand)
                if negative is None:  # every category is in the image or already asked: keep the balance
                    break
                taken.add(negative)
                for category, label in ((positive, "yes"), (negative, "no")):
                    questions.append(
                        {
                            "question_id": len(questions) + 1,
                            "image": f.scene.image,
                            "text": pope_text(category),
                            "label": label,
                            "object": category,
                        }
                    )
        out[strategy] = questions
    return out
