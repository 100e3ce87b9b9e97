"""AMBER (Wang et al. 2023, "An LLM-free multi-dimensional benchmark for MLLMs hallucination evaluation") scoring.

Generative part, per description (the official ``inference.py`` rules): the object words of the response are the
words of AMBER's vocabulary (``relation.json``'s keys and associated words) found in it, minus the global safe words.
A word is *safe* when it is an annotated object (``truth``) or a word associated with one; every other object word
is a hallucination. A safe word covers the truth object it names (or, for an associated word, the first truth object
it is associated with); a hallucinated word that names (or is associated with) one of the annotation's ``hallu``
objects covers that object. Over all descriptions:

- CHAIR = hallucinated object words / object words (repeats counted);
- Cover = truth objects covered / truth objects (annotation entries);
- Hal = descriptions with at least one hallucinated object word / descriptions;
- Cog = ``hallu`` objects covered / ``hallu`` objects (hallucinations of the tempting, co-occurring objects).

Discriminative part: yes/no questions on existence, attribute (state, number, action; each also reported alone) and
relation, with "no" as the positive class: precision = right "no" answers / "no" answers, recall = right "no" answers / "no" questions. An
answer that is neither yes nor no is wrong and not a "no" (the official script compares to "Yes"/"No" exactly).
AMBER score = ((1 - CHAIR) + F1) / 2 with the overall discriminative F1. All figures are fractions (the paper's
percentages / 100).

Differences from the official script, on purpose: object words are found by longest match against the vocabulary with
plural forms (``reverie.eval.chair.ObjectVocabulary``) instead of NLTK's noun tagger and lemmatiser (a word followed
by "be", "see", "not", ... is read as a verb and skipped, e.g. "can be seen"; other verb uses of a vocabulary word
still count), and the spaCy word-vector similarity fallback (similarity > 0.8 counts as the same word) is not used; a
word is the vocabulary word it spells.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torchmetrics import Metric

from reverie.eval.chair import ObjectVocabulary, words
from reverie.eval.metrics import NO_ID, YES_ID

DIMENSIONS = ("existence", "attribute", "relation")
# AMBER's annotation types -> the dimension they are reported under
TYPES = {
    "discriminative-hallucination": "existence",
    "discriminative-attribute-state": "attribute",
    "discriminative-attribute-number": "attribute",
    "discriminative-attribute-action": "attribute",
    "discriminative-relation": "relation",
}
GENERATIVE = "generative"
# words that follow a vocabulary word only when it is a verb or modal ("can be seen", "can see", "watch over"):
# the official script drops those readings with a part-of-speech tagger
VERB_FOLLOWERS = frozenset({"be", "see", "also", "not", "only", "still", "clearly", "easily", "over"})
GENERATIVE_COUNTS = (
    "hallucinated",
    "words",
    "covered",
    "truth",
    "hallu_covered",
    "hallu",
    "hal_responses",
    "responses",
)


def normal_word(word: str) -> str:
    """A vocabulary word as the matcher sees it: lowercase words joined by one space ("air-conditioning" ->
    "air conditioning")."""
    return " ".join(words(word))


@dataclass(frozen=True)
class DescriptionScore:
    """What one description says against its annotation."""

    mentions: tuple[str, ...]  # object words, in order, repeats included (global safe words left out)
    hallucinated: tuple[str, ...]
    covered: frozenset[str]  # truth objects covered
    hallu_covered: frozenset[str]  # ``hallu`` objects covered


class AmberVocabulary:
    """AMBER's object words (``relation.json``: object -> associated words) and its global safe words."""

    def __init__(self, association: Mapping[str, Sequence[str]], safe_words: Iterable[str] = ()) -> None:
        self.association = {
            normal_word(k): tuple(normal_word(w) for w in v if normal_word(w)) for k, v in association.items()
        }
        vocabulary = set(self.association) | {w for v in self.association.values() for w in v}
        vocabulary.discard("")
        self.matcher = ObjectVocabulary({w: [] for w in sorted(vocabulary)}, source="relation.json")
        self.safe_words = frozenset(normal_word(w) for w in safe_words) - {""}

    def associated(self, word: str) -> tuple[str, ...]:
        return self.association.get(word, ())

    def object_words(self, text: str) -> list[str]:
        """The vocabulary words of ``text`` in order (plurals read as their singular), global safe words left out,
        and a word followed by a verb's companion ("can be seen", "can see") left out: a verb, not an object."""
        tokens = words(text)
        return [
            m.category
            for _, end, m in self.matcher.spans(tokens)
            if m.category not in self.safe_words and (end == len(tokens) or tokens[end] not in VERB_FOLLOWERS)
        ]

    def score(self, text: str, truth: Sequence[str], hallu: Sequence[str]) -> DescriptionScore:
        """Score one description against its annotation (``truth`` and ``hallu`` object lists)."""
        truth = [normal_word(t) for t in truth]
        hallu = [normal_word(h) for h in hallu]
        mentions = self.object_words(text)
        hallucinated, covered, hallu_covered = [], set(), set()
        for word in mentions:
            owner = _owner(word, truth, self)
            if owner is not None:
                covered.add(owner)
                continue
            hallucinated.append(word)
            tempting = _owner(word, hallu, self)
            if tempting is not None:
                hallu_covered.add(tempting)
        return DescriptionScore(tuple(mentions), tuple(hallucinated), frozenset(covered), frozenset(hallu_covered))


def _owner(word: str, objects: Sequence[str], vocabulary: AmberVocabulary) -> str | None:
    """The object of ``objects`` that ``word`` names, else the first one it is associated with, else None."""
    if word in objects:
        return word
    return next((o for o in objects if word in vocabulary.associated(o)), None)


def generative_counts(score: DescriptionScore, truth: Sequence[str], hallu: Sequence[str]) -> list[int]:
    """The generative counts of one description, in ``GENERATIVE_COUNTS`` order. Truth and hallu entries are counted as
    the annotation lists them (a repeated entry is counted twice and covered once, as in the official script)."""
    return [
        len(score.hallucinated),
        len(score.mentions),
        len(score.covered),
        len(truth),
        len(score.hallu_covered),
        len(hallu),
        int(bool(score.hallucinated)),
        1,
    ]


def _ratio(numerator: Tensor, denominator: Tensor) -> Tensor:
    numerator, denominator = numerator.double(), denominator.double()
    return torch.where(denominator > 0, numerator / denominator.clamp(min=1), 0.0).float()


def _no_positive(right_no: Tensor, said_no: Tensor, asked_no: Tensor, right: Tensor, total: Tensor) -> dict:
    precision, recall = _ratio(right_no, said_no), _ratio(right_no, asked_no)
    return {
        "accuracy": _ratio(right, total),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "questions": total,
    }


class AmberMetrics(Metric):
    """AMBER's generative and discriminative figures from summed counts (DDP-safe). ``compute`` reports only the
    parts that saw questions, and ``score`` when both did."""

    is_differentiable = False
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.add_state("gen", default=torch.zeros(len(GENERATIVE_COUNTS), dtype=torch.long), dist_reduce_fx="sum")
        # per annotation type (TYPES' order): right "no", said "no", asked "no" (truth no), right, questions, unparsed
        self.add_state("disc", default=torch.zeros(len(TYPES), 6, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, counts: Tensor, preds: Tensor, target: Tensor, kind: Tensor) -> None:
        """``counts`` (descriptions, 8) from ``generative_counts``; per yes/no question ``preds`` in {1 yes, 0 no,
        -1 unknown}, ``target`` in {1, 0} and ``kind`` its annotation type (``encode_type``); any part may be empty."""
        self.gen += counts.reshape(-1, len(GENERATIVE_COUNTS)).sum(0)
        said_no, asked_no = preds == NO_ID, target == NO_ID
        right = (preds == target) & (preds != -1)
        columns = torch.stack([said_no & asked_no, said_no, asked_no, right, torch.ones_like(right), preds == -1], 1)
        self.disc.index_add_(0, kind, columns.long())

    def compute(self) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        g = dict(zip(GENERATIVE_COUNTS, self.gen, strict=True))
        if g["responses"] > 0:
            out |= {
                "generative/chair": _ratio(g["hallucinated"], g["words"]),
                "generative/cover": _ratio(g["covered"], g["truth"]),
                "generative/hal": _ratio(g["hal_responses"], g["responses"]),
                "generative/cog": _ratio(g["hallu_covered"], g["hallu"]),
                "generative/responses": g["responses"],
            }
        for name in DIMENSIONS:
            rows = self.disc[[i for i, t in enumerate(TYPES) if TYPES[t] == name]]
            if rows[:, 4].sum() > 0:
                out |= {f"{name}/{k}": v for k, v in _no_positive(*rows.sum(0)[:5]).items()}
        for i, kind in enumerate(TYPES):  # attribute's parts, as the official script prints them
            if TYPES[kind] == "attribute" and self.disc[i, 4] > 0:
                part = kind.removeprefix("discriminative-attribute-")
                out |= {f"attribute/{part}/{k}": v for k, v in _no_positive(*self.disc[i, :5]).items()}
        total = self.disc.sum(0)
        if total[4] > 0:
            out |= {f"discriminative/{k}": v for k, v in _no_positive(*total[:5]).items()}
            out["discriminative/unknown"] = total[5]
            if "generative/chair" in out:
                out["score"] = amber_score(out["generative/chair"], out["discriminative/f1"])
        return out


def amber_score(chair: Tensor | float, f1: Tensor | float) -> Tensor | float:
    """AMBER score = ((1 - CHAIR) + F1) / 2, fractions (the paper: ((100 - CHAIR) + F1) / 2 in percent)."""
    return ((1 - chair) + f1) / 2


def encode_type(kinds: Sequence[str]) -> Tensor:
    """Annotation types as indices into ``TYPES``."""
    order = list(TYPES)
    return torch.tensor([order.index(k) for k in kinds], dtype=torch.long)


__all__ = [
    "DIMENSIONS",
    "GENERATIVE",
    "GENERATIVE_COUNTS",
    "TYPES",
    "YES_ID",
    "AmberMetrics",
    "AmberVocabulary",
    "DescriptionScore",
    "amber_score",
    "encode_type",
    "generative_counts",
]
