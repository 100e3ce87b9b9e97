"""AMBER: descriptions scored for hallucinated objects and yes/no questions on existence, attribute and relation.

Reads AMBER's official layout: a query file (``query_all.json``, ``query_generative.json`` or one of the
``query_discriminative*.json``), a JSON list of ``{"id", "image", "query"}``; ``annotations.json``, a JSON list of
``{"id", "type", "truth"[, "hallu"]}`` (generative: object lists; discriminative: "yes"/"no"); ``relation.json``
(object -> associated words) and ``safe_words.txt`` (one word a line). The official ``metrics.txt`` only initialises
the script's counters and is not needed. Scoring rules and figures: ``reverie.eval.amber``. The world writes the same
layout (``reverie.world.exports.amber``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from reverie.eval.amber import (
    GENERATIVE,
    GENERATIVE_COUNTS,
    TYPES,
    AmberMetrics,
    AmberVocabulary,
    encode_type,
    generative_counts,
    normal_word,
)
from reverie.eval.answers import DEFAULT_STOP_STRINGS, strip_stop_strings
from reverie.eval.io import EvalDataError, normalize_yes_no, read_json, resolve_image
from reverie.eval.metrics import encode_yes_no
from reverie.eval.records import SampleRecord
from reverie.eval.tasks.base import EvalPrediction, EvalQuestion, EvalTask, check_unique_ids


def _records(path: Path, keys: Sequence[str]) -> dict[int, dict[str, Any]]:
    """A JSON list of objects keyed by their integer ``id``; each must have ``keys``."""
    rows = read_json(path)
    if not isinstance(rows, list):
        raise EvalDataError(path, None, f"expected a JSON list of records, got {type(rows).__name__}")
    out: dict[int, dict[str, Any]] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise EvalDataError(path, None, f"record {i}: expected an object, got {type(row).__name__}")
        for key in keys:
            if row.get(key) is None:
                raise EvalDataError(path, None, f"record {i} (id {row.get('id')!r}): missing key {key!r}")
        if not isinstance(row["id"], int) or row["id"] in out:
            raise EvalDataError(path, None, f"record {i}: id {row['id']!r} is not a unique integer")
        out[row["id"]] = row
    return out


def read_safe_words(path: str | Path) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise EvalDataError(path, None, "file not found")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class AmberTask(EvalTask):
    """AMBER's questions of ``queries_file``, labelled by ``annotations_file``; images relative to ``image_dir``
    (default: the query file's folder). Metrics ``{name}/generative/chair``, ``{name}/existence/f1``, ...,
    ``{name}/score`` (see ``reverie.eval.amber``)."""

    def __init__(
        self,
        queries_file: str | Path,
        annotations_file: str | Path,
        relation_file: str | Path | None = None,
        safe_words_file: str | Path | None = None,
        image_dir: str | Path | None = None,
        *,
        name: str = "amber",
        parser: str = "pope_llava",
        stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS,
        split_rationale: bool = True,
        question_suffix: str = "",
    ) -> None:
        """``question_suffix`` is appended to the yes/no questions only (e.g. LLaVA's short-answer instruction; the
        runner's ``prompt_suffix`` would also reach the descriptions)."""
        super().__init__(name, parser, "yes_no", stop_strings=stop_strings, split_rationale=split_rationale)
        self.question_suffix = question_suffix
        queries_path, annotations_path = Path(queries_file), Path(annotations_file)
        self.inputs.update(queries=str(queries_path), annotations=str(annotations_path))
        image_root = Path(image_dir) if image_dir is not None else queries_path.parent
        queries = _records(queries_path, ("id", "image", "query"))
        annotations = _records(annotations_path, ("id", "type", "truth"))
        self.vocabulary: AmberVocabulary | None = None
        if relation_file is not None:
            self.inputs["relation"] = str(relation_file)
            association = read_json(relation_file)
            if not isinstance(association, dict) or not all(isinstance(v, list) for v in association.values()):
                raise EvalDataError(relation_file, None, "expected an object {object: [associated words]}")
            safe = read_safe_words(safe_words_file) if safe_words_file is not None else []
            if safe_words_file is not None:
                self.inputs["safe_words"] = str(safe_words_file)
            self.vocabulary = AmberVocabulary(association, safe)
        self.questions = [
            self._question(qid, query, annotations, queries_path, annotations_path, image_root)
            for qid, query in queries.items()
        ]
        check_unique_ids(self.questions)

    def _question(
        self, qid: int, query: dict, annotations: dict[int, dict], queries_path: Path, path: Path, image_root: Path
    ) -> EvalQuestion:
        where = f"{queries_path}: id {qid}"
        if qid not in annotations:
            raise EvalDataError(path, None, f"no annotation with id {qid} (asked in {queries_path})")
        note = annotations[qid]
        kind = note["type"]
        meta: dict[str, Any] = {"source": where, "type": kind}
        if kind == GENERATIVE:
            label = {"truth": self._objects(note, "truth", path), "hallu": self._objects(note, "hallu", path)}
        elif kind in TYPES:
            label = normalize_yes_no(note["truth"], path, None)
            meta["dimension"] = TYPES[kind]
        else:
            raise EvalDataError(path, None, f"id {qid}: unknown type {kind!r}; expected generative or {sorted(TYPES)}")
        return EvalQuestion(
            question_id=str(qid),
            image=resolve_image(str(query["image"]), image_root, queries_path, None),
            prompt=str(query["query"]) + (self.question_suffix if kind != GENERATIVE else ""),
            label=label,
            meta=meta,
        )

    def _objects(self, note: dict, key: str, path: Path) -> list[str]:
        objects = note.get(key, [])
        if not isinstance(objects, list):
            raise EvalDataError(path, None, f"id {note['id']}: {key!r} must be a list of objects")
        if self.vocabulary is None:
            raise EvalDataError(path, None, f"id {note['id']} is generative: the task needs relation_file")
        for name in objects:
            if not isinstance(name, str) or normal_word(name) not in self.vocabulary.association:
                raise EvalDataError(path, None, f"id {note['id']}: {key} object {name!r} is not in relation.json")
        return [str(o) for o in objects]

    def metric(self, **kwargs) -> AmberMetrics:
        return AmberMetrics(**kwargs)

    def update(self, metric: AmberMetrics, predictions: Sequence[EvalPrediction]) -> list[SampleRecord]:
        records: list[SampleRecord | None] = [None] * len(predictions)
        generative = [(i, p) for i, p in enumerate(predictions) if p.question.meta["type"] == GENERATIVE]
        discriminative = [(i, p) for i, p in enumerate(predictions) if p.question.meta["type"] != GENERATIVE]
        counts = []
        for i, prediction in generative:
            assert self.vocabulary is not None
            label = prediction.question.label
            text = strip_stop_strings(prediction.output, self.stop_strings)
            score = self.vocabulary.score(text, label["truth"], label["hallu"])
            counts.append(generative_counts(score, label["truth"], label["hallu"]))
            records[i] = self.record(
                prediction,
                list(score.mentions),
                text,
                not score.hallucinated,
                hallucinated=list(score.hallucinated),
                covered=sorted(score.covered),
                hallu_covered=sorted(score.hallu_covered),
            )
        values, parsed = self.parse_predictions([p for _, p in discriminative])
        for (i, _), record in zip(discriminative, parsed, strict=True):
            records[i] = record
        questions = [p.question for _, p in discriminative]
        metric.update(
            torch.tensor(counts, dtype=torch.long).reshape(-1, len(GENERATIVE_COUNTS)),
            encode_yes_no(values),
            encode_yes_no([q.label for q in questions]),
            encode_type([q.meta["type"] for q in questions]),
        )
        return [r for r in records if r is not None]
