"""Triples against truth: which claims in a description are hallucinations, and of which type.

- ``object``: a mentioned (not negated) object whose category is not in the image;
- ``attribute``: a present object given an attribute value none of that category's objects has ("a red mug" when
  every mug is blue); checked only when the truth knows that attribute;
- ``count``: an explicit number that differs from the number of objects of that category in the image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from reverie.dftg.extract import Triple
from reverie.dftg.truth import ImageTruth


@dataclass(frozen=True)
class Hallucination:
    type: str  # object | attribute | count
    object: str
    text: str
    attribute: str | None = None  # attribute kind (attribute hallucinations)
    said: str | int | None = None  # the value the description gives (attribute value or count)
    truth: list | int | None = None  # the real values or count

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Checks:
    """What one description was checked for (attribute and count claims about present objects) and what failed."""

    hallucinations: tuple[Hallucination, ...]
    attribute_checks: tuple[tuple[str, str], ...]  # (category, attribute kind) per checked attribute claim
    count_checks: tuple[str, ...]  # category per checked count claim


def judge(triples: Sequence[Triple], truth: ImageTruth) -> Checks:
    found: list[Hallucination] = []
    attribute_checks: list[tuple[str, str]] = []
    count_checks: list[str] = []
    counts = truth.counts
    for t in triples:
        if t.negated:
            continue
        if t.object not in counts:
            if not t.refers_back:
                found.append(Hallucination("object", t.object, t.text))
            continue
        if truth.attributes_known:
            for kind, value in t.attributes.items():
                real = truth.values(t.object, kind)
                if not real:
                    continue  # the truth has no value for this kind (e.g. a detector's false positive)
                attribute_checks.append((t.object, kind))
                if value not in real:
                    found.append(Hallucination("attribute", t.object, t.text, kind, value, sorted(real)))
        if t.count is not None:
            count_checks.append(t.object)
            if t.count != counts[t.object]:
                found.append(Hallucination("count", t.object, t.text, None, t.count, counts[t.object]))
    return Checks(tuple(found), tuple(attribute_checks), tuple(count_checks))
