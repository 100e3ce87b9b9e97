"""Evaluation results on disk: per-sample JSONL and a metrics JSON with everything needed to reproduce the numbers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple


@dataclass(frozen=True)
class SampleRecord:
    """One scored question: what was asked, what the model said, what the parser made of it."""

    question_id: str
    image: str | None
    prompt: str
    output: str
    answer: str
    parsed: Any
    label: Any
    correct: bool
    parser: str
    meta: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


class ScoreResult(NamedTuple):
    """A task's scores: metrics keyed ``task/metric`` and one record per prediction."""

    metrics: dict[str, float]
    records: list[SampleRecord]


def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``rows`` one JSON object per line, creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    return path


def write_results(
    directory: str | Path,
    task: str,
    result: ScoreResult,
    *,
    info: Mapping[str, Any],
    generation: Mapping[str, Any] | None,
    seed: int | None,
) -> dict[str, Any]:
    """Write ``{task}.samples.jsonl`` and ``{task}.metrics.json`` (``/`` in ``task`` becomes ``_``) to ``directory``.

    ``info`` describes how answers were read (``EvalTask.describe()``: parser, rationale splitting, stop strings,
    data files); ``generation`` and ``seed`` are the caller's decoding settings, recorded because scores move with
    them. Returns the metrics document.
    """
    directory = Path(directory)
    stem = task.replace("/", "_")
    write_jsonl(directory / f"{stem}.samples.jsonl", (asdict(record) for record in result.records))
    document = {
        "task": task,
        "metrics": result.metrics,
        "num_samples": len(result.records),
        **info,
        "generation": dict(generation) if generation is not None else None,
        "seed": seed,
    }
    (directory / f"{stem}.metrics.json").write_text(
        json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return document
