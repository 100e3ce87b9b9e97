"""Checks every generated yes/no instruction against the image's truth before it is written.

Works from the sample's own description of what it asks (``dftg`` metadata: type, concept, claim, other, relation,
answer) and an ``ImageTruth`` read from the scene file, not from the objects the generator used, so a generator bug
that contradicts the image is caught here.
"""

from __future__ import annotations

from reverie.dftg.truth import ImageTruth
from reverie.world.grid import holds


class ContradictionError(ValueError):
    """A generated answer that the image's truth contradicts."""


def true_answer(meta: dict, truth: ImageTruth) -> bool:
    """Whether the claim a sample asks about holds in the image."""
    kind, concept = meta["type"], meta["concept"]
    if kind in ("existence", "description"):  # description: whether the described image holds the concept
        return concept in truth.categories
    if kind == "attribute":
        return meta["claim"] in truth.values(concept, meta["attribute"])
    cells = [o.cell for o in truth.objects if o.category == concept]
    if kind == "position":
        return tuple(meta["claim"]) in cells
    if kind == "relation":
        others = [o.cell for o in truth.objects if o.category == meta["other"]]
        if len(cells) != 1 or len(others) != 1:
            raise ContradictionError(f"{truth.image}: relation about {concept!r} and {meta['other']!r}, not single")
        return holds(meta["relation"], cells[0], others[0])
    raise ValueError(f"unknown instruction type {kind!r}")


def verify(meta: dict, truth: ImageTruth) -> None:
    """Raise ContradictionError when the sample's answer (``meta["answer"]``: yes/no) is not the true one, or its
    polarity (positive = yes) does not match."""
    holds_now = true_answer(meta, truth)
    said = meta["answer"] == "yes"
    if holds_now != said:
        raise ContradictionError(f"{truth.image}: {meta} answers {meta['answer']!r}, the truth says {holds_now}")
    if (meta["polarity"] == "positive") != said:
        raise ContradictionError(f"{truth.image}: {meta} is {meta['polarity']} but answers {meta['answer']!r}")
