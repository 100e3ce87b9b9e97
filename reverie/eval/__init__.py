"""Hallucination evaluation: tasks (POPE, MME, CHAIR, multiple choice), answer parsing, metrics and result files.

The generation side iterates ``task.questions`` (``EvalQuestion``: id, image path, user prompt), generates, wraps each
output in an ``EvalPrediction`` and calls ``task.score(predictions)`` (or ``task.update`` per batch under DDP), then
``write_results`` with its generation config and seed.
"""

from reverie.eval.answers import (
    DEFAULT_STOP_STRINGS,
    NO,
    PARSERS,
    UNKNOWN,
    YES,
    ParsedAnswer,
    get_parser,
    parse_answer,
    register_parser,
    split_rationale,
    strip_stop_strings,
)
from reverie.eval.chair import ObjectVocabulary
from reverie.eval.io import EvalDataError
from reverie.eval.metrics import ChairMetrics, MMEMetrics, MultipleChoiceAccuracy, PopeMetrics, encode_yes_no
from reverie.eval.records import SampleRecord, ScoreResult, write_results
from reverie.eval.tasks import (
    ChairTask,
    EvalPrediction,
    EvalQuestion,
    EvalTask,
    MMETask,
    MultipleChoiceTask,
    PopeTask,
    pope_cooccurrence_gap,
    pope_mean_f1,
)

__all__ = [
    "DEFAULT_STOP_STRINGS",
    "NO",
    "PARSERS",
    "UNKNOWN",
    "YES",
    "ChairMetrics",
    "ChairTask",
    "EvalDataError",
    "EvalPrediction",
    "EvalQuestion",
    "EvalTask",
    "MMEMetrics",
    "MMETask",
    "MultipleChoiceAccuracy",
    "MultipleChoiceTask",
    "ObjectVocabulary",
    "ParsedAnswer",
    "PopeMetrics",
    "PopeTask",
    "SampleRecord",
    "ScoreResult",
    "encode_yes_no",
    "get_parser",
    "parse_answer",
    "pope_cooccurrence_gap",
    "pope_mean_f1",
    "register_parser",
    "split_rationale",
    "strip_stop_strings",
    "write_results",
]
