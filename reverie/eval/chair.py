"""CHAIR caption parsing: object mentions in free text, mapped to canonical categories through a synonym table.

A synonym table is ``{canonical: [surface names]}`` (the canonical name is a surface name too). Captions are lowercased
and split into words at every non-letter; at each word the longest surface name wins ("hot dog" before "dog", "teddy
bear" before "bear"), and the last word of a candidate may be plural ("traffic lights", "wine glasses", "people"):
a small rule-based singulariser proposes singular forms and the table decides which one exists. The official CHAIR
hand rules are ordinary longest-match entries: "baby elephant" is an elephant (not a person), "passenger jet" an
airplane, "toilet seat" a toilet. The COCO table shipped in ``data/coco_synonyms.json`` covers the 80 categories with
common synonyms; like the official one it reads colour words such as "orange" as objects.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from reverie.eval.io import EvalDataError, read_json

COCO_SYNONYMS = resources.files("reverie.eval") / "data" / "coco_synonyms.json"

_WORD = re.compile(r"[a-z]+")
_IRREGULAR_PLURALS = {
    "people": "person",
    "men": "man",
    "women": "woman",
    "children": "child",
    "mice": "mouse",
    "geese": "goose",
    "oxen": "ox",
    "feet": "foot",
    "teeth": "tooth",
    "cacti": "cactus",
    "leaves": "leaf",
}


def words(text: str) -> list[str]:
    """Lowercase words of ``text``; hyphens, apostrophes and digits separate words."""
    return _WORD.findall(text.lower())


def singular_forms(word: str) -> tuple[str, ...]:
    """``word`` followed by its candidate singulars, most specific rule first (``"skies"`` -> skies, sky, skie)."""
    forms = [word]
    if word in _IRREGULAR_PLURALS:
        forms.append(_IRREGULAR_PLURALS[word])
    if word.endswith("ies"):  # skies -> sky, ties -> tie; never "ski"
        forms += [word[:-3] + "y"] if len(word) > 4 else []
        forms.append(word[:-1])
        return tuple(forms)
    if word.endswith("ves"):
        forms += [word[:-3] + "f", word[:-3] + "fe"]
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    return tuple(forms)


class Mention(NamedTuple):
    """An object mention: the words as written and the category they name."""

    text: str
    category: str


@dataclass(frozen=True)
class CaptionObjects:
    """What one caption says against the ground truth."""

    mentions: tuple[Mention, ...]
    hallucinated: tuple[Mention, ...]
    covered: frozenset[str]


class ObjectVocabulary:
    """Maps surface names to canonical categories and finds object mentions in captions."""

    def __init__(self, synonyms: Mapping[str, Iterable[str]], source: str = "<dict>") -> None:
        self.source = source
        self.categories = frozenset(synonyms)
        self._surfaces: dict[tuple[str, ...], str] = {}
        for category, names in synonyms.items():
            for name in (category, *names):
                key = tuple(words(name))
                if not key:
                    raise ValueError(f"{source}: surface name {name!r} of {category!r} has no words")
                known = self._surfaces.setdefault(key, category)
                if known != category:
                    raise ValueError(f"{source}: {name!r} is a name of both {known!r} and {category!r}")
        self._longest = max((len(key) for key in self._surfaces), default=0)

    @classmethod
    def from_json(cls, path: str | Path) -> ObjectVocabulary:
        """Load ``{canonical: [names]}`` from a JSON file."""
        path = Path(path)
        table = read_json(path)
        if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
            raise EvalDataError(path, None, "expected an object {canonical: [names]}")
        return cls(table, source=str(path))

    @classmethod
    def coco(cls) -> ObjectVocabulary:
        """The shipped table of COCO's 80 categories."""
        with resources.as_file(COCO_SYNONYMS) as path:
            return cls.from_json(path)

    def _match(self, tokens: Sequence[str]) -> str | None:
        """The category ``tokens`` name exactly, allowing a plural last word."""
        for last in singular_forms(tokens[-1]):
            category = self._surfaces.get((*tokens[:-1], last))
            if category is not None:
                return category
        return None

    def canonical(self, name: str) -> str | None:
        """The category a whole name denotes ("Traffic Lights" -> "traffic light"), or None."""
        tokens = words(name)
        return self._match(tokens) if tokens else None

    def mentions(self, caption: str) -> list[Mention]:
        """Object mentions in ``caption`` in order, repeats included; longest surface name first at each word."""
        return [mention for _, _, mention in self.spans(words(caption))]

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int, Mention]]:
        """``(start, end, mention)`` for each mention in a list of ``words`` (end exclusive), for readers that look at
        the words around a mention (numbers, attributes, negations)."""
        found, i = [], 0
        while i < len(tokens):
            for size in range(min(self._longest, len(tokens) - i), 0, -1):
                category = self._match(tokens[i : i + size])
                if category is not None:
                    found.append((i, i + size, Mention(" ".join(tokens[i : i + size]), category)))
                    i += size
                    break
            else:
                i += 1
        return found

    def compare(self, caption: str, ground_truth: Iterable[str]) -> CaptionObjects:
        """Mentions of ``caption``, those not in ``ground_truth`` (canonical names), and ground truth mentioned."""
        truth = frozenset(ground_truth)
        mentions = tuple(self.mentions(caption))
        hallucinated = tuple(m for m in mentions if m.category not in truth)
        return CaptionObjects(mentions, hallucinated, truth & {m.category for m in mentions})


def cooccurring_objects(object_sets: Iterable[Iterable[str]], top_k: int) -> dict[str, frozenset[str]]:
    """Per category, the ``top_k`` categories that share an image with it most often in ``object_sets`` (ties by
    name): the objects a model that learned co-occurrence is tempted to add (POPE's adversarial rule)."""
    together: dict[str, Counter[str]] = {}
    for objects in object_sets:
        present = set(objects)
        for a in present:
            together.setdefault(a, Counter()).update(present - {a})
    return {
        a: frozenset(b for b, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k])
        for a, counts in together.items()
    }
