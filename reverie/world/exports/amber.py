"""An AMBER-style set in AMBER's own file layout, so ``reverie.eval.tasks.amber.AmberTask`` reads it as it reads AMBER.

Per split folder ``amber/{split}/``: ``query_all.json`` (descriptions first, ids from 1, then the yes/no questions),
``query_generative.json``, ``query_discriminative.json`` and one ``query_discriminative-{dimension}.json`` per
dimension, each a JSON list of ``{"id", "image", "query"}``; ``annotations.json``, ``{"id", "type", "truth"[,
"hallu"]}`` (each line also carries its ``image``, and a yes/no line the world's ``probe``, what was asked, for checking
against the scene; AMBER's reader ignores both). Shared by the splits: ``amber/relation.json`` (each category -> its other surface names, the words that
are no hallucination when it is present) and ``amber/safe_words.txt`` (empty: every world word names an object).

A description's ``truth`` is the image's categories; its ``hallu`` the absent categories that co-occur most with them
in the split's images (summed image-level co-occurrence counts, ties in vocabulary order): the tempting hallucinations
AMBER's Cog measures. The yes/no questions are the world's own probes, worded as its training questions are:
existence (present, or absent and tempting), attribute (colour = AMBER's state, count = number; the world has no
actions) and relation (left/right/above/below/next to, when two single objects allow it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reverie.world.facts import SceneFacts
from reverie.world.phrases import Names
from reverie.world.probes import make_probe
from reverie.world.questions import question
from reverie.world.rand import Rand
from reverie.world.stats import Stats
from reverie.world.vocab import Vocab

DESCRIBE = "Describe this image."  # AMBER's generative query
HALLU_PER_IMAGE = 5  # co-occurring absent categories listed per image (AMBER lists about five)
# world probe kind -> AMBER annotation type
TYPES = {
    "existence": "discriminative-hallucination",
    "color": "discriminative-attribute-state",
    "count": "discriminative-attribute-number",
    "relation": "discriminative-relation",
}
DIMENSION_FILES = {"existence": ("existence",), "attribute": ("color", "count"), "relation": ("relation",)}


def cooccurring_absent(facts: SceneFacts, stats: Stats, k: int = HALLU_PER_IMAGE) -> list[str]:
    """The ``k`` absent categories seen most often with the image's categories (never seen together: left out)."""
    order = {name: i for i, name in enumerate(facts.vocab.names)}
    score = {c: sum(stats.cooccurrence[p][c] for p in facts.present) for c in facts.absent}
    ranked = sorted((c for c in facts.absent if score[c] > 0), key=lambda c: (-score[c], order[c]))
    return ranked[:k]


def amber_split(facts: Sequence[SceneFacts], rand: Rand) -> dict[str, list[dict[str, Any]]]:
    """File name -> records of one split's folder."""
    if not facts:
        return {"query_all.json": [], "annotations.json": []}
    stats = Stats([f.scene for f in facts], facts[0].vocab)
    queries: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    kinds: dict[int, str] = {}
    for f in facts:
        queries.append({"id": len(queries) + 1, "image": f.scene.image, "query": DESCRIBE})
        truth = sorted(f.present, key=f.vocab.names.index)
        notes.append(
            {
                "id": len(notes) + 1,
                "image": f.scene.image,
                "type": "generative",
                "truth": truth,
                "hallu": cooccurring_absent(f, stats),
            }
        )
    for f in facts:
        names = Names(f.vocab)
        for kind, amber_type in TYPES.items():
            probe = make_probe("yes_no", kind, f, rand)
            if probe is None:
                continue
            qid = len(queries) + 1
            queries.append({"id": qid, "image": f.scene.image, "query": question(probe, f, names, rand)})
            notes.append(
                {
                    "id": qid,
                    "image": f.scene.image,
                    "type": amber_type,
                    "truth": "yes" if probe.truth else "no",
                    "probe": probe.record(),
                }
            )
            kinds[qid] = kind
    out = {"query_all.json": queries, "annotations.json": notes}
    out["query_generative.json"] = [q for q in queries if q["id"] not in kinds]
    out["query_discriminative.json"] = [q for q in queries if q["id"] in kinds]
    for dimension, members in DIMENSION_FILES.items():
        out[f"query_discriminative-{dimension}.json"] = [q for q in queries if kinds.get(q["id"]) in members]
    return out


def amber_relation(vocab: Vocab) -> dict[str, list[str]]:
    """Category -> its other surface names (AMBER's ``relation.json``)."""
    return {c.name: list(c.names[1:]) for c in vocab.categories}
