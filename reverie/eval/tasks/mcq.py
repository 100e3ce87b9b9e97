"""Multiple choice: the built-in world's, ScienceQA-style and MMBench-style questions; plain or circular scoring.

Row formats, told apart per row: ``{"question_id", "image", "question", "options": [...], "answer": "B"}`` (built-in
world), ``{"question", "choices": [...], "answer": 1}`` (ScienceQA, answer an index), and ``{"index", "question", "A",
"B", ..., "answer": "C"}`` (MMBench; JSONL or TSV, whose ``image`` cell may hold a base64 image). An optional ``hint``
goes above the question. With ``circular`` each N-option question is asked N times with the options rotated, and a
question counts for ``circular_accuracy`` only if every rotation is right (MMBench CircularEval).
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from reverie.eval.answers import DEFAULT_STOP_STRINGS, LETTERS, UNKNOWN
from reverie.eval.io import EvalDataError, read_rows, require, resolve_image
from reverie.eval.metrics import UNKNOWN_ID, MultipleChoiceAccuracy
from reverie.eval.records import SampleRecord
from reverie.eval.tasks.base import EvalPrediction, EvalQuestion, EvalTask, check_unique_ids

PROMPT_SUFFIX = "Answer with the option's letter from the given choices directly."
_ID_KEYS = ("question_id", "index", "id")


class MultipleChoiceTask(EvalTask):
    """Questions from a JSONL or TSV file; images relative to ``image_dir`` (default: the file's folder).

    ``image_cache`` is where base64 images (MMBench TSV) are written; ``images_only`` drops questions without an
    image (ScienceQA-IMG).
    """

    def __init__(
        self,
        questions_file: str | Path,
        image_dir: str | Path | None = None,
        *,
        name: str = "mcq",
        circular: bool = False,
        instruction: str = PROMPT_SUFFIX,
        images_only: bool = False,
        image_cache: str | Path | None = None,
        parser: str = "choice",
        stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS,
        split_rationale: bool = True,
    ) -> None:
        super().__init__(name, parser, "choice", stop_strings=stop_strings, split_rationale=split_rationale)
        path = Path(questions_file)
        self.inputs["questions"] = str(path)
        self.circular = circular
        self.instruction = instruction  # the line after the options ("" = none); the runner's prompt_suffix follows it
        image_root = Path(image_dir) if image_dir is not None else path.parent
        self.questions = []
        self.num_groups = 0
        for line, row in read_rows(path):
            question_id, question, options, answer = _parse_row(row, path, line)
            image = _image(row.get("image"), question_id, image_root, image_cache, path, line)
            if image is None and images_only:
                continue
            hint = str(row.get("hint") or "").strip()
            hint = "" if hint.lower() == "nan" else hint
            self.questions.extend(
                self._rotations(question_id, hint, question, options, answer, image, f"{path}:{line}")
            )
            self.num_groups += 1
        check_unique_ids(self.questions)

    def _rotations(
        self, base_id: str, hint: str, question: str, options: list[str], answer: int, image: Path | None, source: str
    ) -> list[EvalQuestion]:
        shifts = range(len(options)) if self.circular else range(1)
        questions = []
        for shift in shifts:
            rotated = options[shift:] + options[:shift]
            lines = [hint] if hint else []
            lines += [question, *(f"{LETTERS[i]}. {option}" for i, option in enumerate(rotated))]
            if self.instruction:
                lines.append(self.instruction)
            meta = {"options": rotated, "group_index": self.num_groups, "rotation": shift, "source": source}
            question_id = f"{base_id}/r{shift}" if self.circular else base_id
            label = LETTERS[(answer - shift) % len(options)]
            questions.append(EvalQuestion(question_id, image, "\n".join(lines), label, meta))
        return questions

    def metric(self, **kwargs) -> MultipleChoiceAccuracy:
        return MultipleChoiceAccuracy(self.num_groups, **kwargs)

    def update(self, metric: MultipleChoiceAccuracy, predictions: Sequence[EvalPrediction]) -> list[SampleRecord]:
        values, records = self.parse_predictions(predictions)

        def index(letter: str) -> int:
            return UNKNOWN_ID if letter == UNKNOWN else LETTERS.index(letter)

        metric.update(
            torch.tensor([index(value) for value in values], dtype=torch.long),
            torch.tensor([index(p.question.label) for p in predictions], dtype=torch.long),
            torch.tensor([p.question.meta["group_index"] for p in predictions], dtype=torch.long),
        )
        return records

    def summarize(self, metric: MultipleChoiceAccuracy) -> dict[str, float]:
        metrics = super().summarize(metric)
        if not self.circular:  # equal to accuracy: every question is its own group
            del metrics[f"{self.name}/circular_accuracy"]
        return metrics

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "circular": self.circular, "instruction": self.instruction}


def _parse_row(row: dict[str, Any], path: Path, line: int) -> tuple[str, str, list[str], int]:
    """``(question_id, question, options, answer index)`` of one row in any of the three formats."""
    require(row, ("question", "answer"), path, line)
    id_key = next((key for key in _ID_KEYS if row.get(key) not in (None, "")), None)
    if id_key is None:
        raise EvalDataError(path, line, f"missing key 'question_id' (or one of {_ID_KEYS[1:]})")
    if "options" in row or "choices" in row:
        options = row.get("options", row.get("choices"))
        if not isinstance(options, list):
            raise EvalDataError(path, line, "options/choices must be a list")
    elif "A" in row:
        options = [row[letter] for letter in LETTERS if str(row.get(letter, "")).strip() not in ("", "nan")]
    else:
        raise EvalDataError(path, line, "missing key 'options' (or 'choices', or columns 'A', 'B', ...)")
    options = [str(option) for option in options]
    if not 2 <= len(options) <= len(LETTERS):
        raise EvalDataError(path, line, f"expected 2-{len(LETTERS)} options, got {len(options)}")
    answer = row["answer"]
    if "choices" in row:  # ScienceQA: an index
        valid = isinstance(answer, int) or (isinstance(answer, str) and answer.strip().isdigit())
        index = int(answer) if valid else -1
    else:
        letter = str(answer).strip().upper()
        index = LETTERS.index(letter) if len(letter) == 1 and letter in LETTERS else -1
    if not 0 <= index < len(options):
        raise EvalDataError(path, line, f"answer {answer!r} is not one of the {len(options)} options")
    return str(row[id_key]), str(row["question"]), options, index


def _image(
    value: Any, question_id: str, image_root: Path, cache: str | Path | None, path: Path, line: int
) -> Path | None:
    """The question's image: None when absent, a file, or a base64 image (MMBench TSV) written into ``cache``."""
    if value is None or str(value).strip() in ("", "nan"):
        return None
    value = str(value)
    decoded = _decode_image(value) if "." not in value else None  # base64 has no dots; file names do
    if decoded is None:
        return resolve_image(value, image_root, path, line)
    if cache is None:
        raise EvalDataError(path, line, "image is base64 data: pass image_cache to write it to files")
    data, suffix = decoded
    image = Path(cache) / f"{question_id.replace('/', '_')}.{suffix}"
    image.parent.mkdir(parents=True, exist_ok=True)
    image.write_bytes(data)
    return image.resolve()


def _decode_image(value: str) -> tuple[bytes, str] | None:
    """``(bytes, file suffix)`` when ``value`` is a base64-encoded image PIL can identify, else None."""
    try:
        data = base64.b64decode(value, validate=True)
        with Image.open(io.BytesIO(data)) as image:
            return data, (image.format or "img").lower()
    except (binascii.Error, ValueError, OSError):
        return None
