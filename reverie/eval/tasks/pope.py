"""POPE: yes/no object probes, one question file per split (random, popular, adversarial)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from reverie.eval.answers import DEFAULT_STOP_STRINGS
from reverie.eval.io import normalize_yes_no, read_jsonl, require, resolve_image
from reverie.eval.metrics import PopeMetrics, encode_yes_no
from reverie.eval.records import SampleRecord
from reverie.eval.tasks.base import EvalPrediction, EvalQuestion, EvalTask, check_unique_ids

POPE_SPLITS = ("random", "popular", "adversarial")


class PopeTask(EvalTask):
    """Questions from JSONL ``{"question_id", "image", "text", "label"}``; images relative to ``image_dir``.

    ``split`` names the metrics (``pope/{split}/f1``); by default it is the POPE split named in the file name, else the
    file's stem. ``image_dir`` defaults to the question file's folder.
    """

    def __init__(
        self,
        questions_file: str | Path,
        image_dir: str | Path | None = None,
        *,
        split: str | None = None,
        parser: str = "pope_llava",
        stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS,
        split_rationale: bool = True,
    ) -> None:
        path = Path(questions_file)
        split = split or next((s for s in POPE_SPLITS if s in path.stem), path.stem)
        super().__init__(f"pope/{split}", parser, "yes_no", stop_strings=stop_strings, split_rationale=split_rationale)
        self.inputs["questions"] = str(path)
        image_root = Path(image_dir) if image_dir is not None else path.parent
        self.questions = []
        for line, row in read_jsonl(path):
            require(row, ("question_id", "image", "text", "label"), path, line)
            self.questions.append(
                EvalQuestion(
                    question_id=str(row["question_id"]),
                    image=resolve_image(row["image"], image_root, path, line),
                    prompt=row["text"],
                    label=normalize_yes_no(row["label"], path, line),
                    meta={"source": f"{path}:{line}"},
                )
            )
        check_unique_ids(self.questions)

    def metric(self, **kwargs) -> PopeMetrics:
        return PopeMetrics(**kwargs)

    def update(self, metric: PopeMetrics, predictions: Sequence[EvalPrediction]) -> list[SampleRecord]:
        values, records = self.parse_predictions(predictions)
        metric.update(encode_yes_no(values), encode_yes_no([p.question.label for p in predictions]))
        return records


def pope_mean_f1(metrics: Mapping[str, float]) -> dict[str, float]:
    """``{"pope/mean_f1": ...}``, the mean F1 over the three splits (LLaVA's POPE number), when all three were run."""
    keys = [f"pope/{split}/f1" for split in POPE_SPLITS]
    if not all(key in metrics for key in keys):
        return {}
    return {"pope/mean_f1": sum(metrics[key] for key in keys) / len(keys)}


def pope_cooccurrence_gap(metrics: Mapping[str, float]) -> dict[str, float]:
    """``{"pope/adversarial_gap": ...}``: how much more often absent objects are called present when they co-occur
    with the image's objects (adversarial negatives) than when drawn at random (false-yes rate, adversarial minus
    random). Near 0: no co-occurrence hallucination for a method to remove. Empty unless both splits were run."""
    keys = ("pope/adversarial/false_yes_rate", "pope/random/false_yes_rate")
    if not all(key in metrics for key in keys):
        return {}
    return {"pope/adversarial_gap": metrics[keys[0]] - metrics[keys[1]]}
