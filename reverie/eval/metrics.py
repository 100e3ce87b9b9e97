"""torchmetrics metrics for the hallucination benchmarks.

Every state is a count (or, for CHAIR's chance share, a float sum) reduced with ``sum``, so metrics synchronise
correctly across DDP ranks. Inputs are tensors: yes/no answers encoded with ``encode_yes_no`` (yes 1, no 0,
unknown -1), option letters as indices (unknown -1), and non-tensor keys (MME image pairs, MCQ base questions)
mapped to indices by the task before ``update``. Per-group states have a fixed size known from the task's question
list, so every rank agrees on the indices. Like any summed metric, a sample a distributed sampler duplicates to pad
a batch is counted twice: score each question exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchmetrics import Metric

from reverie.eval.answers import NO, YES

YES_ID, NO_ID, UNKNOWN_ID = 1, 0, -1
PERCEPTION_SUBTASKS = (
    "existence",
    "count",
    "position",
    "color",
    "posters",
    "celebrity",
    "scene",
    "landmark",
    "artwork",
    "OCR",
)
COGNITION_SUBTASKS = ("commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning")


_CATEGORIES = ("perception", "cognition")
NAN = float("nan")  # an undefined ratio (nothing to count)
_CATEGORY_OF = {name.casefold(): "perception" for name in PERCEPTION_SUBTASKS} | {
    name.casefold(): "cognition" for name in COGNITION_SUBTASKS
}


def mme_category(subtask: str) -> str | None:
    """``"perception"``/``"cognition"`` by MME's official subtask lists (case-insensitive), else None."""
    return _CATEGORY_OF.get(subtask.casefold())


def encode_yes_no(values: Sequence[str]) -> Tensor:
    """``"yes"`` -> 1, ``"no"`` -> 0, anything else (``"unknown"``) -> -1."""
    codes = {YES: YES_ID, NO: NO_ID}
    return torch.tensor([codes.get(value, UNKNOWN_ID) for value in values], dtype=torch.long)


def _ratio(numerator: Tensor, denominator: Tensor, undefined: float = 0.0) -> Tensor:
    """``numerator / denominator`` as float, ``undefined`` where the denominator is 0."""
    numerator, denominator = numerator.float(), denominator.float()
    positive = denominator > 0
    return torch.where(positive, numerator / torch.where(positive, denominator, 1.0), undefined)


def _count_state(metric: Metric, name: str, size: int | None = None) -> None:
    default = torch.tensor(0, dtype=torch.long) if size is None else torch.zeros(size, dtype=torch.long)
    metric.add_state(name, default=default, dist_reduce_fx="sum")


class PopeMetrics(Metric):
    """POPE with "yes" as the positive class.

    ``yes_ratio`` is the fraction of *predicted* yes over all questions (not of ground-truth yes); an unknown answer
    counts as not-yes there. Unknowns are wrong for accuracy, and an unknown on a yes question is a miss for recall;
    ``fn`` counts only explicit "no" answers to yes questions, ``unknown`` all unparseable answers.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        for name in ("tp", "fp", "tn", "fn", "unknown_pos", "unknown_neg"):
            _count_state(self, name)

    def update(self, preds: Tensor, target: Tensor) -> None:
        """``preds`` in {1, 0, -1}, ``target`` in {1, 0}."""
        positive, unknown = target == YES_ID, preds == UNKNOWN_ID
        self.tp += (positive & (preds == YES_ID)).sum()
        self.fn += (positive & (preds == NO_ID)).sum()
        self.fp += (~positive & (preds == YES_ID)).sum()
        self.tn += (~positive & (preds == NO_ID)).sum()
        self.unknown_pos += (positive & unknown).sum()
        self.unknown_neg += (~positive & unknown).sum()

    def compute(self) -> dict[str, Tensor]:
        counts = torch.stack([self.tp, self.fp, self.tn, self.fn, self.unknown_pos, self.unknown_neg])
        out = _pope_figures(counts)
        unknown = self.unknown_pos + self.unknown_neg
        total = counts.sum()
        out["accuracy_ci_low"], out["accuracy_ci_high"] = wilson_interval(self.tp + self.tn, total)
        out["yes_ratio_ci_low"], out["yes_ratio_ci_high"] = wilson_interval(self.tp + self.fp, total)
        negatives = self.fp + self.tn + self.unknown_neg
        out["false_yes_rate_ci_low"], out["false_yes_rate_ci_high"] = wilson_interval(self.fp, negatives)
        out["f1_ci_low"], out["f1_ci_high"] = _bootstrap_interval(counts, "f1")
        return out | {"tp": self.tp, "fp": self.fp, "tn": self.tn, "fn": self.fn, "unknown": unknown, "total": total}


def _pope_figures(counts: Tensor) -> dict[str, Tensor]:
    """POPE's figures from counts (tp, fp, tn, fn, unknown on yes questions, unknown on no questions); ``counts``
    may carry leading batch dimensions (bootstrap resamples)."""
    tp, fp, tn, fn, unknown_pos, unknown_neg = counts.unbind(-1)
    total = counts.sum(-1)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn + unknown_pos)
    return {
        "accuracy": _ratio(tp + tn, total),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "yes_ratio": _ratio(tp + fp, total),
        "false_yes_rate": _ratio(fp, fp + tn + unknown_neg),  # absent objects called present (hallucinations)
    }


def wilson_interval(successes: Tensor, trials: Tensor, z: float = 1.96) -> tuple[Tensor, Tensor]:
    """95 % Wilson score interval of a binomial proportion (well-behaved near 0 and 1); (0, 0) without trials."""
    n, k = trials.double(), successes.double()
    if n.item() == 0:
        return torch.tensor(0.0), torch.tensor(0.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * torch.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half).clamp(0, 1).float(), (centre + half).clamp(0, 1).float()


def _bootstrap_interval(counts: Tensor, figure: str, resamples: int = 2000, seed: int = 0) -> tuple[Tensor, Tensor]:
    """95 % percentile-bootstrap interval of a POPE figure: the questions resampled with replacement (multinomial
    over the confusion counts), seeded so the same answers always give the same interval."""
    total = int(counts.sum().item())
    if total == 0:
        return torch.tensor(0.0), torch.tensor(0.0)
    generator = torch.Generator().manual_seed(seed)
    cells = counts.numel()
    draws = torch.multinomial(counts.double() / total, total * resamples, replacement=True, generator=generator)
    rows = torch.arange(resamples).repeat_interleave(total) * cells  # one bincount for all resamples
    resampled = torch.bincount(draws + rows, minlength=resamples * cells).view(resamples, cells)
    values = _pope_figures(resampled)[figure]
    low, high = torch.quantile(values.double(), torch.tensor([0.025, 0.975], dtype=torch.double))
    return low.float(), high.float()


class _GroupedAccuracy(Metric):
    """Per-question correctness kept per group (an MME image, an MMBench base question) to score whole groups."""

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, num_groups: int, **kwargs) -> None:
        super().__init__(**kwargs)
        _count_state(self, "correct", num_groups)
        _count_state(self, "asked", num_groups)
        _count_state(self, "unknown")

    def update(self, preds: Tensor, target: Tensor, group: Tensor) -> None:
        """``preds``/``target`` as codes (-1 = unknown prediction); ``group`` the group index of each question."""
        self.correct.index_add_(0, group, (preds == target).long())
        self.asked.index_add_(0, group, torch.ones_like(group))
        self.unknown += (preds == UNKNOWN_ID).sum()

    def _groups_right(self) -> Tensor:
        return (self.asked > 0) & (self.correct == self.asked)


class MultipleChoiceAccuracy(_GroupedAccuracy):
    """Accuracy per question, and MMBench CircularEval: a base question counts only if all its rotations are right.

    Without rotations give every question its own group; ``circular_accuracy`` then equals ``accuracy``.
    """

    def compute(self) -> dict[str, Tensor]:
        asked = self.asked > 0
        return {
            "accuracy": _ratio(self.correct.sum(), self.asked.sum()),
            "circular_accuracy": _ratio(self._groups_right().sum(), asked.sum()),
            "questions": self.asked.sum(),
            "groups": asked.sum(),
            "unknown": self.unknown,
        }


class MMEMetrics(_GroupedAccuracy):
    """MME per subtask: acc (per question), acc_plus (images with both questions right), score = 100 (acc + acc_plus).

    Groups are images: ``image_subtask[i]`` is the index into ``subtasks`` of image ``i``. Totals are labelled:
    ``perception_score`` sums the perception subtasks present (MME's ten: 0-2000 when all run), ``cognition_score``
    the cognition ones (0-800), ``total_score`` both; ``*_subtasks`` say how many of each were scored. Subtasks in
    neither official list are reported alone and left out of the totals.
    """

    def __init__(self, subtasks: Sequence[str], image_subtask: Sequence[int], **kwargs) -> None:
        super().__init__(len(image_subtask), **kwargs)
        self.subtasks = list(subtasks)
        category = [_CATEGORIES.index(c) if (c := mme_category(name)) else -1 for name in self.subtasks]
        self.register_buffer("image_subtask", torch.as_tensor(image_subtask, dtype=torch.long), persistent=False)
        self.register_buffer("subtask_category", torch.tensor(category, dtype=torch.long), persistent=False)

    def compute(self) -> dict[str, Tensor]:
        def per_subtask(values: Tensor) -> Tensor:
            zeros = torch.zeros(len(self.subtasks), dtype=torch.long, device=values.device)
            return zeros.index_add_(0, self.image_subtask, values.long())

        images = per_subtask(self.asked > 0)
        acc = _ratio(per_subtask(self.correct), per_subtask(self.asked))
        acc_plus = _ratio(per_subtask(self._groups_right()), images)
        score = 100 * (acc + acc_plus)
        present = images > 0
        out: dict[str, Tensor] = {}
        for i, name in enumerate(self.subtasks):
            if present[i]:
                out.update({f"{name}/acc": acc[i], f"{name}/acc_plus": acc_plus[i], f"{name}/score": score[i]})
        for index, category in enumerate(_CATEGORIES):
            scored = present & (self.subtask_category == index)
            out[f"{category}_score"] = score[scored].sum()
            out[f"{category}_subtasks"] = scored.sum()
        out["total_score"] = out["perception_score"] + out["cognition_score"]
        out["unknown"] = self.unknown
        return out


class ChairMetrics(Metric):
    """CHAIR over captions (lower is better).

    CHAIR_i = hallucinated object mentions / object mentions (repeats count, as in the official code); CHAIR_s =
    captions with at least one hallucinated mention / captions; recall = ground-truth objects mentioned / ground-truth
    objects, summed over captions. cooccur_share = hallucinated mentions of objects that often co-occur with the
    image's objects / hallucinated mentions; cooccur_chance = the same share if each hallucinated object were drawn
    uniformly from the absent ones (a share above it: the model hallucinates what usually comes along).
    A ratio with nothing to count is undefined (NaN; None in a summary), not 0: CHAIR_i of captions that name no
    object, the co-occurrence shares of captions with no hallucinated object. Scoring such a model's CHAIR_i 0 would
    make it look perfect.
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        names = ("captions", "hallucinated_captions", "mentions", "hallucinated_mentions", "gt_objects", "covered")
        for name in (*names, "cooccurring_mentions"):
            _count_state(self, name)
        self.add_state("cooccur_expected", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(
        self,
        mentions: Tensor,
        hallucinated: Tensor,
        gt_objects: Tensor,
        covered: Tensor,
        cooccurring: Tensor | None = None,
        cooccur_expected: Tensor | None = None,
    ) -> None:
        """Per caption: object mentions, hallucinated mentions, ground-truth objects, ground-truth objects mentioned,
        and optionally hallucinated mentions of co-occurring objects and how many of those chance would give."""
        self.captions += mentions.numel()
        self.hallucinated_captions += (hallucinated > 0).sum()
        self.mentions += mentions.sum()
        self.hallucinated_mentions += hallucinated.sum()
        self.gt_objects += gt_objects.sum()
        self.covered += covered.sum()
        if cooccurring is not None:
            self.cooccurring_mentions += cooccurring.sum()
        if cooccur_expected is not None:
            self.cooccur_expected += cooccur_expected.sum()

    def compute(self) -> dict[str, Tensor]:
        return {
            "chair_s": _ratio(self.hallucinated_captions, self.captions),
            "chair_i": _ratio(self.hallucinated_mentions, self.mentions, NAN),
            "recall": _ratio(self.covered, self.gt_objects),
            "cooccur_share": _ratio(self.cooccurring_mentions, self.hallucinated_mentions, NAN),
            "cooccur_chance": _ratio(self.cooccur_expected, self.hallucinated_mentions, NAN),
            "captions": self.captions,
            "hallucinated_captions": self.hallucinated_captions,
            "mentions": self.mentions,
            "hallucinated_mentions": self.hallucinated_mentions,
        }
