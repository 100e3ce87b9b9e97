"""CHAIR: describe each image, then count object mentions that are not in the image.

Ground truth is JSONL ``{"image", "objects": [...]}`` (object names mapped to categories through the synonym table;
a name outside it is an error), united with the objects named in optional reference captions, JSONL ``{"image",
"caption"}`` with any number of lines per image.

Besides CHAIR, it measures *which* objects are hallucinated: the share of hallucinated mentions that are among the
``cooccur_top_k`` objects seen most often with one of the image's objects (co-occurrence counted over every annotated
image in the file), and the share expected if hallucinated objects were drawn at random from the absent ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from reverie.eval.answers import DEFAULT_STOP_STRINGS, strip_stop_strings
from reverie.eval.chair import ObjectVocabulary, cooccurring_objects
from reverie.eval.io import EvalDataError, read_jsonl, require, resolve_image
from reverie.eval.metrics import ChairMetrics
from reverie.eval.records import SampleRecord
from reverie.eval.tasks.base import EvalPrediction, EvalQuestion, EvalTask, check_unique_ids

CAPTION_PROMPT = "Describe the image in detail."


class ChairTask(EvalTask):
    """Captioning questions, one per annotated image; ``synonyms`` a JSON path or vocabulary (default: COCO's)."""

    def __init__(
        self,
        annotations_file: str | Path,
        image_dir: str | Path | None = None,
        *,
        synonyms: str | Path | ObjectVocabulary | None = None,
        references: str | Path | None = None,
        prompt: str = CAPTION_PROMPT,
        name: str = "chair",
        stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS,
        cooccur_top_k: int = 3,
    ) -> None:
        super().__init__(name, "chair", None, stop_strings=stop_strings, split_rationale=False)
        if synonyms is None:
            self.vocabulary = ObjectVocabulary.coco()
        elif isinstance(synonyms, ObjectVocabulary):
            self.vocabulary = synonyms
        else:
            self.vocabulary = ObjectVocabulary.from_json(synonyms)
        path = Path(annotations_file)
        self.inputs.update(annotations=str(path), synonyms=self.vocabulary.source)
        image_root = Path(image_dir) if image_dir is not None else path.parent
        truth: dict[str, set[str]] = {}
        rows = []
        for line, row in read_jsonl(path):
            require(row, ("image", "objects"), path, line)
            objects = truth.setdefault(str(row["image"]), set())
            for name in row["objects"]:
                category = self.vocabulary.canonical(str(name))
                if category is None:
                    raise EvalDataError(path, line, f"object {name!r} is not in the synonym table")
                objects.add(category)
            rows.append((line, row))
        if references is not None:
            self.inputs["references"] = str(references)
            self._add_references(Path(references), truth)
        self.questions = [
            EvalQuestion(
                question_id=str(row.get("question_id", row["image"])),
                image=resolve_image(row["image"], image_root, path, line),
                prompt=prompt,
                label=sorted(truth[str(row["image"])]),
                meta={"source": f"{path}:{line}"},
            )
            for line, row in rows
        ]
        check_unique_ids(self.questions)
        self.cooccurring = cooccurring_objects(truth.values(), cooccur_top_k)

    def tempting(self, present: Sequence[str]) -> set[str]:
        """Absent objects among the top co-occurring ones of the present objects."""
        return {b for a in present for b in self.cooccurring.get(a, ())} - set(present)

    def _add_references(self, path: Path, truth: dict[str, set[str]]) -> None:
        for line, row in read_jsonl(path):
            require(row, ("image", "caption"), path, line)
            if str(row["image"]) not in truth:
                raise EvalDataError(path, line, f"reference caption for {row['image']!r}, which has no annotations")
            truth[str(row["image"])].update(m.category for m in self.vocabulary.mentions(str(row["caption"])))

    def metric(self, **kwargs) -> ChairMetrics:
        return ChairMetrics(**kwargs)

    def update(self, metric: ChairMetrics, predictions: Sequence[EvalPrediction]) -> list[SampleRecord]:
        records, counts, chance = [], [], []
        for prediction in predictions:
            caption = strip_stop_strings(prediction.output, self.stop_strings)
            present = prediction.question.label
            found = self.vocabulary.compare(caption, present)
            tempting = self.tempting(present)
            absent = len(self.vocabulary.categories - set(present))
            cooccurring = sum(m.category in tempting for m in found.hallucinated)
            counts.append((len(found.mentions), len(found.hallucinated), len(present), len(found.covered), cooccurring))
            chance.append(len(found.hallucinated) * len(tempting) / max(absent, 1))
            records.append(
                self.record(
                    prediction,
                    [m.category for m in found.mentions],
                    caption,
                    not found.hallucinated,
                    hallucinated=[m._asdict() for m in found.hallucinated],
                    mentions=[m.text for m in found.mentions],
                )
            )
        columns = torch.tensor(counts, dtype=torch.long).reshape(-1, 5).unbind(dim=1)
        metric.update(*columns, torch.tensor(chance, dtype=torch.float64))
        return records
