"""Evaluation tasks: each loads its questions from files and scores predictions into metrics and records."""

from reverie.eval.tasks.amber import AmberTask
from reverie.eval.tasks.base import EvalPrediction, EvalQuestion, EvalTask
from reverie.eval.tasks.chair import CAPTION_PROMPT, ChairTask
from reverie.eval.tasks.mcq import PROMPT_SUFFIX, MultipleChoiceTask
from reverie.eval.tasks.mme import MMETask
from reverie.eval.tasks.pope import POPE_SPLITS, PopeTask, pope_cooccurrence_gap, pope_mean_f1

__all__ = [
    "AmberTask",
    "CAPTION_PROMPT",
    "POPE_SPLITS",
    "PROMPT_SUFFIX",
    "ChairTask",
    "EvalPrediction",
    "EvalQuestion",
    "EvalTask",
    "MMETask",
    "MultipleChoiceTask",
    "PopeTask",
    "pope_cooccurrence_gap",
    "pope_mean_f1",
]
