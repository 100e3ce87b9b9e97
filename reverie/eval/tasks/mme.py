"""MME: yes/no questions in pairs (two per image), scored per subtask with acc, acc+ and perception/cognition totals.

Two inputs: the official release folder (one folder per subtask, either ``images/`` plus a question folder of
``NAME.txt`` files, or images beside their ``NAME.txt``; each line ``question<TAB>answer``), or a JSONL file
``{"question_id", "image", "text", "label", "subtask"}`` as the built-in world writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reverie.eval.answers import DEFAULT_STOP_STRINGS
from reverie.eval.io import EvalDataError, normalize_yes_no, read_jsonl, require, resolve_image
from reverie.eval.metrics import MMEMetrics, encode_yes_no
from reverie.eval.records import SampleRecord
from reverie.eval.tasks.base import EvalPrediction, EvalQuestion, EvalTask, check_unique_ids

# The release calls the question folder "questions_answers_YN"; other copies spell it differently.
QUESTION_FOLDERS = ("questions_answers_YN", "questions_answers_YES_NO", "questions_answer_YES_NO")
IMAGE_SUFFIXES = (".jpg", ".png", ".jpeg", ".JPG", ".PNG", ".JPEG")


@dataclass(frozen=True)
class _Row:
    subtask: str
    image: Path
    text: str
    label: str
    question_id: str | None
    path: Path
    line: int


class MMETask(EvalTask):
    """MME from the official folder (``source`` a directory) or a JSONL file; ``image_dir`` is for JSONL only."""

    def __init__(
        self,
        source: str | Path,
        image_dir: str | Path | None = None,
        *,
        parser: str = "mme",
        stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS,
        split_rationale: bool = True,
    ) -> None:
        super().__init__("mme", parser, "yes_no", stop_strings=stop_strings, split_rationale=split_rationale)
        source = Path(source)
        self.inputs["questions"] = str(source)
        rows = _official_rows(source) if source.is_dir() else _jsonl_rows(source, image_dir)
        self.subtasks: list[str] = []
        self.image_subtask: list[int] = []
        self.questions = []
        for pair in _pairs(rows):
            first = pair[0]
            if first.subtask not in self.subtasks:
                self.subtasks.append(first.subtask)
            image_index = len(self.image_subtask)
            self.image_subtask.append(self.subtasks.index(first.subtask))
            for k, row in enumerate(pair):
                self.questions.append(
                    EvalQuestion(
                        question_id=row.question_id or f"{row.subtask}/{row.image.name}/{k}",
                        image=row.image,
                        prompt=row.text,
                        label=row.label,
                        meta={"subtask": row.subtask, "image_index": image_index, "source": f"{row.path}:{row.line}"},
                    )
                )
        check_unique_ids(self.questions)

    def metric(self, **kwargs) -> MMEMetrics:
        return MMEMetrics(self.subtasks, self.image_subtask, **kwargs)

    def update(self, metric: MMEMetrics, predictions: Sequence[EvalPrediction]) -> list[SampleRecord]:
        values, records = self.parse_predictions(predictions)
        labels = encode_yes_no([p.question.label for p in predictions])
        metric.update(
            encode_yes_no(values), labels, labels.new_tensor([p.question.meta["image_index"] for p in predictions])
        )
        return records


def _pairs(rows: Sequence[_Row]) -> list[list[_Row]]:
    """Rows grouped by (subtask, image) in first-seen order; each group must hold exactly two questions."""
    groups: dict[tuple[str, Path], list[_Row]] = {}
    for row in rows:
        groups.setdefault((row.subtask, row.image), []).append(row)
    for (subtask, image), group in groups.items():
        if len(group) != 2:
            lines = ", ".join(str(row.line) for row in group)
            raise EvalDataError(
                group[0].path,
                group[0].line,
                f"MME pair for {subtask}/{image.name} has {len(group)} questions, expected 2 (lines {lines})",
            )
    return list(groups.values())


def _jsonl_rows(path: Path, image_dir: str | Path | None) -> list[_Row]:
    root = Path(image_dir) if image_dir is not None else path.parent
    rows = []
    for line, row in read_jsonl(path):
        require(row, ("question_id", "image", "text", "label", "subtask"), path, line)
        image = resolve_image(row["image"], root, path, line)
        label = normalize_yes_no(row["label"], path, line)
        rows.append(_Row(str(row["subtask"]), image, row["text"], label, str(row["question_id"]), path, line))
    return rows


def _official_rows(root: Path) -> list[_Row]:
    rows: list[_Row] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        image_dir, question_dir = folder, folder
        if (folder / "images").is_dir():
            image_dir = folder / "images"
            found = [folder / name for name in QUESTION_FOLDERS if (folder / name).is_dir()]
            if not found:
                raise EvalDataError(folder, None, f"has images/ but no question folder (one of {QUESTION_FOLDERS})")
            question_dir = found[0]
        for text_file in sorted(question_dir.glob("*.txt")):
            image = _image_for(text_file, image_dir)
            rows.extend(_Row(folder.name, image, q, a, None, text_file, n) for n, q, a in _question_lines(text_file))
    if not rows:
        raise EvalDataError(root, None, "no MME questions found (expected one folder per subtask with NAME.txt files)")
    return rows


def _image_for(text_file: Path, image_dir: Path) -> Path:
    for suffix in IMAGE_SUFFIXES:
        image = image_dir / f"{text_file.stem}{suffix}"
        if image.is_file():
            return image.resolve()
    raise EvalDataError(text_file, None, f"image file not found: {image_dir / text_file.stem}.jpg/.png")


def _question_lines(text_file: Path) -> Iterator[tuple[int, str, str]]:
    """``(line, question, yes|no)`` per non-blank ``question<TAB>answer`` line."""
    for number, text in enumerate(text_file.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        question, tab, answer = text.rstrip().rpartition("\t")
        if not tab or not question.strip():
            raise EvalDataError(text_file, number, "expected 'question<TAB>answer'")
        yield number, question.strip(), normalize_yes_no(answer, text_file, number)
