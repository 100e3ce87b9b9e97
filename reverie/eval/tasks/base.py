"""The task contract: questions loaded from files, predictions scored into metrics and per-sample records.

A task loads its questions once, at construction, so bad inputs fail before any generation. The generation side adds
``<image>`` and the chat template to ``EvalQuestion.prompt``, generates, and hands back ``EvalPrediction``s. Scoring in
one process is ``task.score(predictions)``; under DDP each rank calls ``task.update(metric, its_predictions)`` on a
``task.metric()`` and ``task.summarize(metric)`` then reduces the summed states across ranks.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torchmetrics import Metric

from reverie.errors import InputError
from reverie.eval.answers import DEFAULT_STOP_STRINGS, ParserKind, get_parser, parse_answer
from reverie.eval.records import SampleRecord, ScoreResult


@dataclass(frozen=True)
class EvalQuestion:
    """One question: ``prompt`` is the user text only; ``image`` an absolute path or None (text-only)."""

    question_id: str
    image: Path | None
    prompt: str
    label: Any
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalPrediction:
    """A question and the model's raw decoded output for it."""

    question: EvalQuestion
    output: str


class EvalTask(ABC):
    """Base of every task. Subclasses set ``questions`` in ``__init__`` and implement ``metric`` and ``update``."""

    questions: list[EvalQuestion]

    def __init__(
        self,
        name: str,
        parser: str,
        parser_kind: ParserKind | None,
        *,
        stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS,
        split_rationale: bool = True,
    ) -> None:
        if parser_kind is not None:
            get_parser(parser, parser_kind)
        self.name = name
        self.parser = parser
        self.stop_strings = tuple(stop_strings)
        self.split_rationale = split_rationale
        self.inputs: dict[str, str] = {}  # input files by role, for the results file

    @abstractmethod
    def metric(self, **kwargs) -> Metric:
        """A fresh metric sized for this task's questions; kwargs go to torchmetrics (e.g. `sync_on_compute`)."""

    @abstractmethod
    def update(self, metric: Metric, predictions: Sequence[EvalPrediction]) -> list[SampleRecord]:
        """Parse ``predictions``, update ``metric`` with them and return their records."""

    def summarize(self, metric: Metric) -> dict[str, float]:
        """``metric.compute()`` as plain numbers keyed ``{task name}/{metric}``; an undefined one (NaN) is None, which
        summaries write as null and reports and loggers leave out."""
        values = {f"{self.name}/{key}": value.item() for key, value in metric.compute().items()}
        return {key: None if isinstance(v, float) and math.isnan(v) else v for key, v in values.items()}

    def score(self, predictions: Sequence[EvalPrediction]) -> ScoreResult:
        """Metrics and per-sample records for ``predictions`` in one process: ``predictions`` are all of them (the
        runner gathers sharded answers first), so the metric must not also sync with other ranks."""
        metric = self.metric(sync_on_compute=False)
        records = self.update(metric, predictions)
        return ScoreResult(self.summarize(metric), records)

    def describe(self) -> dict[str, Any]:
        """How answers are read, for the results file (see ``records.write_results``)."""
        return {
            "parser": self.parser,
            "split_rationale": self.split_rationale,
            "stop_strings": list(self.stop_strings),
            "num_questions": len(self.questions),
            "inputs": self.inputs,
        }

    def parse_predictions(self, predictions: Sequence[EvalPrediction]) -> tuple[list[str], list[SampleRecord]]:
        """Parsed values (``yes|no|unknown`` or a letter) and records; options come from ``meta["options"]``."""
        values, records = [], []
        for prediction in predictions:
            question = prediction.question
            parsed = parse_answer(
                prediction.output,
                self.parser,
                question.meta.get("options", ()),
                stop_strings=self.stop_strings,
                split=self.split_rationale,
            )
            values.append(parsed.value)
            correct = parsed.value == question.label
            records.append(self.record(prediction, parsed.value, parsed.answer, correct, rationale=parsed.rationale))
        return values, records

    def record(
        self, prediction: EvalPrediction, parsed: Any, answer: str, correct: bool, **details: Any
    ) -> SampleRecord:
        """The per-sample record of ``prediction``."""
        question = prediction.question
        return SampleRecord(
            question_id=question.question_id,
            image=str(question.image) if question.image is not None else None,
            prompt=question.prompt,
            output=prediction.output,
            answer=answer,
            parsed=parsed,
            label=question.label,
            correct=correct,
            parser=self.parser,
            meta=question.meta,
            details=details,
        )


def check_unique_ids(questions: Sequence[EvalQuestion]) -> None:
    """Raise naming both sources when two questions share an id (records and metrics are keyed by it)."""
    seen: dict[str, EvalQuestion] = {}
    for question in questions:
        first = seen.setdefault(question.question_id, question)
        if first is not question:
            raise InputError(
                f"{question.meta.get('source')}: duplicate question_id {question.question_id!r} "
                f"(first at {first.meta.get('source')})"
            )
