"""Rule-based extraction of (object, attributes, count) triples from a free-text description.

Objects are found by the CHAIR parser (`reverie.eval.chair.ObjectVocabulary`: synonyms, plurals, two-word names,
longest match first), so a diagnosis and CHAIR read a description the same way. Around each mention, in its
clause, the extractor reads:
- a **negation** before it ("there is no cat", "isn't a cup", "without any plates"): the mention is kept with
  ``negated=True`` and is not counted as a claim;
- **attributes**: attribute words (colours, sizes, ...) directly before the noun ("a small red mug"), after a copula
  ("the mug is red"), or on a later "one" that refers back to it ("two mugs: a large red one ...");
- a **count**: a number word directly before the noun, attributes allowed in between ("three blue plates").
A word that is both an attribute and an object name (COCO's "orange") is an attribute when an object follows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reverie.eval.chair import ObjectVocabulary, words

NUMBERS = {
    "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
NEGATIONS = ("no", "not", "without", "none", "nothing", "neither", "nor", "never")
CLAUSE_BREAKS = ("but", "and", "while", "although", "whereas")  # a negation does not reach past these
COPULAS = ("is", "are", "looks", "look", "appears", "appear", "seems", "seem")
_SENTENCE = re.compile(r"[.;!?\n]+")
_CLAUSE = re.compile(r"[,:]+")
_NOT = re.compile(r"n't\b", re.IGNORECASE)


class EmptyDescriptionError(ValueError):
    """A description with no text in it."""


@dataclass(frozen=True)
class Triple:
    """One object mention: the category, its words, attributes said of it, an explicit count, and whether it was
    negated ("no cat": not a claim that a cat is there)."""

    object: str
    text: str
    attributes: dict[str, str] = field(default_factory=dict)  # attribute kind -> canonical value ("color": "red")
    count: int | None = None
    negated: bool = False
    refers_back: bool = False  # a later "one" standing for this object: carries attributes, is not a new mention

    def to_dict(self) -> dict:
        return {
            "object": self.object,
            "text": self.text,
            "attributes": dict(self.attributes),
            "count": self.count,
            "negated": self.negated,
            "refers_back": self.refers_back,
        }


class Extractor:
    """Base of the extractors: ``extract(description)`` -> triples; ``vocabulary`` maps names to categories."""

    vocabulary: ObjectVocabulary

    def extract(self, description: str) -> list[Triple]:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"kind": type(self).__name__, "vocabulary": self.vocabulary.source}


def load_vocabulary(synonyms: str | Path | ObjectVocabulary | None) -> ObjectVocabulary:
    """A JSON synonym table (e.g. the world's ``chair.synonyms``), a vocabulary, or None for COCO's 80 categories."""
    if isinstance(synonyms, ObjectVocabulary):
        return synonyms
    return ObjectVocabulary.coco() if synonyms is None else ObjectVocabulary.from_json(synonyms)


def check_description(description: object) -> str:
    if not isinstance(description, str):
        raise TypeError(f"a description must be a string, got {type(description).__name__}")
    if not description.strip():
        raise EmptyDescriptionError("the description is empty")
    return description


class RulesExtractor(Extractor):
    """Object vocabulary + attribute words + number words + negation cues (see the module docstring).

    ``attributes``: ``{kind: {canonical value: [surface words]}}``, one word per surface (e.g. ``size: {medium:
    [medium, mid]}``); ``fillers`` are words that may sit between an attribute and its noun ("medium-sized").
    """

    def __init__(
        self,
        synonyms: str | Path | ObjectVocabulary | None = None,
        attributes: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
        fillers: Sequence[str] = ("sized", "colored", "coloured", "very", "bright", "dark", "light"),
        negations: Sequence[str] = NEGATIONS,
    ) -> None:
        self.vocabulary = load_vocabulary(synonyms)
        self.attribute_words: dict[str, tuple[str, str]] = {}
        for kind, values in (attributes or {}).items():
            for value, surfaces in values.items():
                for surface in (value, *surfaces):
                    key = " ".join(words(surface))
                    if len(key.split()) != 1:
                        raise ValueError(f"attribute {kind}.{value}: surface {surface!r} must be one word")
                    known = self.attribute_words.setdefault(key, (kind, value))
                    if known != (kind, value):
                        raise ValueError(f"attribute word {key!r} is both {known} and {(kind, value)}")
        self.fillers = frozenset(fillers)
        self.negations = frozenset(negations)

    def describe(self) -> dict:
        kinds = sorted({kind for kind, _ in self.attribute_words.values()})
        return {"kind": "rules", "vocabulary": self.vocabulary.source, "attributes": kinds}

    def extract(self, description: str) -> list[Triple]:
        text = _NOT.sub(" not", check_description(description))
        triples: list[Triple] = []
        for sentence in _SENTENCE.split(text):
            triples += self._sentence(sentence)
        return triples

    def _sentence(self, sentence: str) -> list[Triple]:
        tokens: list[str] = []
        clause_of: list[int] = []  # clause index of each token (commas and colons end a negation's reach)
        spans = []
        for number, clause in enumerate(_CLAUSE.split(sentence)):
            clause_tokens = words(clause)
            offset = len(tokens)
            spans += [(s + offset, e + offset, m) for s, e, m in self.vocabulary.spans(clause_tokens)]
            tokens += clause_tokens
            clause_of += [number] * len(clause_tokens)
        starts = {start for start, _, _ in spans}
        # An attribute word that is also an object name, directly followed by another object: an attribute.
        spans = [
            (s, e, m)
            for s, e, m in spans
            if not (e - s == 1 and tokens[s] in self.attribute_words and self._object_follows(tokens, e, starts))
        ]
        starts = {start for start, _, _ in spans}
        triples: list[Triple] = []
        for index, (start, end, mention) in enumerate(spans):
            attributes, count, first = self._modifiers(tokens, start)
            negated = self._negated(tokens, clause_of, first)
            stop = spans[index + 1][0] if index + 1 < len(spans) else len(tokens)
            if not negated:
                self._predicate(tokens, end, stop, attributes)
            triples.append(Triple(mention.category, mention.text, attributes, count, negated))
            if not negated:
                triples += self._referring_ones(tokens, end, stop, starts, mention.category)
        return triples

    def _modifiers(self, tokens: Sequence[str], end: int) -> tuple[dict[str, str], int | None, int]:
        """Attributes and count in the words just before ``end``; also where that run of modifiers starts."""
        attributes: dict[str, str] = {}
        count, i = None, end - 1
        while i >= 0:
            token = tokens[i]
            if token in self.attribute_words:
                kind, value = self.attribute_words[token]
                attributes.setdefault(kind, value)
            elif token in NUMBERS and count is None:
                count = NUMBERS[token]
            elif token not in self.fillers:
                break
            i -= 1
        return attributes, count, i + 1

    def _negated(self, tokens: Sequence[str], clause_of: Sequence[int], first: int) -> bool:
        """A negation cue earlier in the same clause, with no "but"/"and" between it and the mention."""
        i = first - 1
        while i >= 0 and clause_of[i] == clause_of[first] and tokens[i] not in CLAUSE_BREAKS:
            if tokens[i] in self.negations:
                return True
            i -= 1
        return False

    def _object_follows(self, tokens: Sequence[str], end: int, starts: set[int]) -> bool:
        i = end
        while i < len(tokens) and (tokens[i] in self.attribute_words or tokens[i] in self.fillers):
            i += 1
        return i in starts

    def _predicate(self, tokens: Sequence[str], end: int, stop: int, attributes: dict[str, str]) -> None:
        """Attributes after a copula: "the mug is red" (not "the mug is not red")."""
        if end >= stop or tokens[end] not in COPULAS:
            return
        j = end + 1
        if j < stop and tokens[j] in self.negations:
            return
        while j < stop and (tokens[j] in self.attribute_words or tokens[j] in self.fillers):
            if tokens[j] in self.attribute_words:
                kind, value = self.attribute_words[tokens[j]]
                attributes.setdefault(kind, value)
            j += 1

    def _referring_ones(
        self, tokens: Sequence[str], end: int, stop: int, starts: set[int], category: str
    ) -> list[Triple]:
        """ "two mugs: a large red one ... and a small blue one": each "one" with attributes that is not a count
        (no object follows it) is an instance of the mention before it."""
        found = []
        for j in range(end, stop):
            if tokens[j] != "one" or self._object_follows(tokens, j + 1, starts):
                continue
            attributes, _, first = self._modifiers(tokens, j)
            if attributes and not any(tokens[i] in self.negations for i in range(max(first - 2, 0), first)):
                found.append(Triple(category, "one", attributes, None, False, refers_back=True))
        return found
