"""The three steps of the paper's pipeline over any backend:

1. ``qa``: per image, questions with one correct and one confusing answer (rules: missing answer, same answers);
2. ``positive`` / ``negative``: per QA pair, why the correct answer is right and why the confusing one is wrong
   (rules: empty rationale, rationale that only repeats an answer);
3. ``judge``: a text-only judge drops pairs whose rationales contradict each other beyond their natural opposition.

``annotate`` returns the records (REVERIE format, the QA item's extra keys after the standard ones) and every
intermediate row; ``on_step`` receives each step's rows as soon as the step ends (the CLI writes them to JSONL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from reverie.annotate.backends.base import Backend, Request
from reverie.annotate.images import ImageRef
from reverie.annotate.parse import parse_qa, parse_rationale, parse_verdict
from reverie.annotate.prompts import Prompts
from reverie.annotate.rules import CONTRADICTION, qa_rule, rationale_rule
from reverie.annotate.runner import Job, Outcome, Runner
from reverie.annotate.stats import Stats

RECORD_KEYS = (
    "id",
    "image",
    "question",
    "correct_answer",
    "confusing_answer",
    "correct_rationale",
    "incorrect_rationale",
)


@dataclass
class PipelineSettings:
    """How the steps run (``pipeline`` in conf/annotate.yaml)."""

    questions_per_image: int = 3  # questions asked per image (the paper: 3)
    accept_fewer: bool = True  # keep a QA reply with fewer questions than asked (counted); False: ask again
    max_attempts: int = 3  # tries per request while the reply is malformed; then a counted failure
    retry_failed: bool = False  # resend requests that failed for good in an earlier run (their failure is cached)
    judge: bool = True  # step 3, the consistency judge; False keeps every pair that passes the rules
    id_prefix: str | None = None  # record ids are {id_prefix}{image stem}-r{n}; None: the backend's own prefix

    def __post_init__(self) -> None:
        if self.questions_per_image < 1:
            raise ValueError(f"pipeline.questions_per_image must be >= 1, got {self.questions_per_image}")


@dataclass
class AnnotateResult:
    """Records kept, and what each step produced (rows written to qa/rationales/filter/failures JSONL)."""

    records: list[dict[str, Any]]
    qa: list[dict[str, Any]] = field(default_factory=list)
    rationales: list[dict[str, Any]] = field(default_factory=list)
    filter: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


def annotate(
    images: list[ImageRef],
    backend: Backend,
    prompts: Prompts,
    settings: PipelineSettings,
    runner: Runner,
    on_step: Callable[[str, list[dict[str, Any]]], None] | None = None,
) -> AnnotateResult:
    """Run the three steps over ``images``."""
    stats = runner.stats
    result = AnnotateResult(records=[])
    fate: dict[str, str] = {}  # pair id -> why it was dropped ("failed:<step>" for failed requests)
    prefix = backend.id_prefix if settings.id_prefix is None else settings.id_prefix

    pairs = _questions(images, prompts, settings, runner, result, prefix)
    result.qa = [dict(p) for p in pairs]
    for pair in pairs:
        _drop(fate, stats, pair, qa_rule(pair))
    _emit(on_step, "qa", result.qa)

    by_name = {image.name: image for image in images}
    live = [p for p in pairs if p["id"] not in fate]
    _rationales(live, by_name, prompts, runner, result, fate)
    result.rationales = [_record(p) for p in live]
    for pair in live:
        if pair["id"] not in fate:
            _drop(fate, stats, pair, rationale_rule(pair))
    _emit(on_step, "rationales", result.rationales)

    live = [p for p in live if p["id"] not in fate]
    verdicts = _judge(live, prompts, runner, result, fate) if settings.judge else {}
    for pair in live:
        if verdicts.get(pair["id"]):
            _drop(fate, stats, pair, CONTRADICTION)
    result.filter = [
        {
            "id": p["id"],
            "image": p["image"],
            "kept": p["id"] not in fate,
            "reason": fate.get(p["id"]),
            "contradiction": verdicts.get(p["id"]),
        }
        for p in pairs
    ]
    _emit(on_step, "filter", result.filter)
    result.records = [_record(p) for p in pairs if p["id"] not in fate]
    return result


def _questions(images, prompts, settings, runner, result, prefix) -> list[dict[str, Any]]:
    n = settings.questions_per_image
    prompt = prompts.render("qa", num_questions=n)
    parse = partial(parse_qa, expected=n, accept_fewer=settings.accept_fewer)
    jobs = [Job(Request("qa", prompt, im.path, {"image": im.name, "num_questions": n}), parse) for im in images]
    pairs = []
    for image, outcome in zip(images, runner.run("qa", jobs), strict=True):
        if not outcome.ok:
            result.failures.append(_failure("qa", image.name, None, outcome))
            continue
        if len(outcome.value) < n:
            runner.stats.add(short_replies=1)
        for j, item in enumerate(outcome.value):
            pairs.append({"id": f"{prefix}{image.stem}-r{j}", "image": image.name, **item})
    return pairs


def _rationales(pairs, by_name, prompts, runner, result, fate) -> None:
    for step, answer_key, target in (
        ("positive", "correct_answer", "correct_rationale"),
        ("negative", "confusing_answer", "incorrect_rationale"),
    ):
        jobs = []
        for p in pairs:
            values = {"question": p["question"], "answer": p[answer_key]}
            fields = {"image": p["image"], "id": p["id"], **values}
            jobs.append(
                Job(Request(step, prompts.render(step, **values), by_name[p["image"]].path, fields), parse_rationale)
            )
        for pair, outcome in zip(pairs, runner.run(step, jobs), strict=True):
            pair[target] = outcome.value
            if not outcome.ok:
                result.failures.append(_failure(step, pair["image"], pair["id"], outcome))
                fate.setdefault(pair["id"], f"failed:{step}")


def _judge(pairs, prompts, runner, result, fate) -> dict[str, bool]:
    jobs = []
    for p in pairs:
        values = {k: p[k] for k in RECORD_KEYS[2:]}
        fields = {"image": p["image"], "id": p["id"], **values}
        jobs.append(Job(Request("judge", prompts.render("judge", **values), None, fields), parse_verdict))
    verdicts = {}
    for pair, outcome in zip(pairs, runner.run("judge", jobs), strict=True):
        if outcome.ok:
            verdicts[pair["id"]] = outcome.value
        else:
            result.failures.append(_failure("judge", pair["image"], pair["id"], outcome))
            fate[pair["id"]] = "failed:judge"
    return verdicts


def _record(pair: dict[str, Any]) -> dict[str, Any]:
    """Standard REVERIE keys first (the order the world and the paper write), then the QA item's extra keys."""
    out = {k: pair.get(k) for k in RECORD_KEYS}
    out.update({k: v for k, v in pair.items() if k not in RECORD_KEYS})
    return out


def _drop(fate: dict[str, str], stats: Stats, pair: dict[str, Any], reason: str | None) -> None:
    if reason is not None and pair["id"] not in fate:
        fate[pair["id"]] = reason
        stats.add(drops=(reason, 1))


def _failure(step: str, image: str, pair_id: str | None, outcome: Outcome) -> dict[str, Any]:
    reply = outcome.reply
    return {
        "step": step,
        "image": image,
        "id": pair_id,
        "error": outcome.error,
        "reply": reply if reply is None or len(reply) <= 2000 else reply[:2000] + "...",
    }


def _emit(on_step, name: str, rows: list[dict[str, Any]]) -> None:
    if on_step is not None:
        on_step(name, rows)
