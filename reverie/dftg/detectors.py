"""Detectors: where a diagnosis gets an image's real contents.

- ``WorldTruth``: the built-in world's scene graphs (``scenes.jsonl``): objects, counts, colours, sizes, cells.
- ``CocoTruth``: a COCO instances JSON (objects and counts; no attributes), category names mapped through the
  extractor's synonym table.
- ``NoisyDetector``: another detector's output with seeded misses and false positives, to measure how detector
  errors propagate into the diagnosis and the targeted data.
- ``OwlDetector`` (``reverie.dftg.owl``): an open-vocabulary detector (OWLv2) from a local folder.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from reverie.dftg.extract import load_vocabulary
from reverie.dftg.truth import ImageTruth, ObjectFact
from reverie.errors import InputError
from reverie.eval.chair import ObjectVocabulary
from reverie.eval.io import EvalDataError, read_jsonl


class Detector:
    """``detect(images)`` -> one ``ImageTruth`` per image, in order; ``describe()`` for the results file."""

    def detect(self, images: Sequence[Path]) -> list[ImageTruth]:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"kind": type(self).__name__}


class _TableDetector(Detector):
    """Looks images up by file name in a table read from an annotation file."""

    source: Path
    table: dict[str, ImageTruth]

    def detect(self, images: Sequence[Path]) -> list[ImageTruth]:
        out = []
        for image in images:
            truth = self.table.get(Path(image).name)
            if truth is None:
                raise EvalDataError(self.source, None, f"no annotations for image {Path(image).name!r}")
            out.append(truth)
        return out

    def describe(self) -> dict:
        return {"kind": type(self).__name__, "source": str(self.source)}


class WorldTruth(_TableDetector):
    """The world's scene graphs: every object with its colour, size and cell."""

    def __init__(self, scenes: str | Path) -> None:
        self.source = Path(scenes)
        self.table = {}
        for line, row in read_jsonl(self.source):
            try:
                objects = tuple(
                    ObjectFact(
                        o["category"],
                        {"color": o["color"], "size": o["size"]},
                        tuple(o["cell"]),
                        tuple(float(v) for v in o["bbox"]),
                    )
                    for o in row["objects"]
                )
                self.table[str(row["image"])] = ImageTruth(str(row["image"]), objects, attributes_known=True)
            except (KeyError, TypeError) as error:
                raise EvalDataError(self.source, line, f"not a world scene record ({error!r})") from error


class CocoTruth(_TableDetector):
    """COCO instances: objects and counts per image (boxes kept; no attributes)."""

    def __init__(self, instances_file: str | Path, synonyms: str | Path | ObjectVocabulary | None = None) -> None:
        self.source = Path(instances_file)
        vocabulary = load_vocabulary(synonyms)
        try:
            data = json.loads(self.source.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise EvalDataError(self.source, None, "file not found") from error
        except json.JSONDecodeError as error:
            raise EvalDataError(self.source, error.lineno, f"malformed JSON: {error.msg}") from error
        for key in ("images", "annotations", "categories"):
            if not isinstance(data.get(key), list):
                raise EvalDataError(self.source, None, f"expected a COCO instances file with a {key!r} list")
        names = {}
        for category in data["categories"]:
            canonical = vocabulary.canonical(str(category["name"]))
            if canonical is None:
                raise EvalDataError(self.source, None, f"category {category['name']!r} is not in {vocabulary.source}")
            names[category["id"]] = canonical
        files = {im["id"]: im["file_name"] for im in data["images"]}
        objects: dict[str, list[ObjectFact]] = {name: [] for name in files.values()}
        for index, ann in enumerate(data["annotations"]):
            if ann.get("image_id") not in files or ann.get("category_id") not in names:
                raise EvalDataError(self.source, None, f"annotations[{index}]: unknown image_id or category_id")
            x, y, w, h = ann.get("bbox", (0, 0, 0, 0))
            fact = ObjectFact(names[ann["category_id"]], box=(x, y, x + w, y + h))
            objects[files[ann["image_id"]]].append(fact)
        self.table = {name: ImageTruth(name, tuple(objs), attributes_known=False) for name, objs in objects.items()}


class NoisyDetector(Detector):
    """``base``'s detections, each object missed with probability ``miss_rate``, and each absent category of the
    vocabulary reported (once, without attributes) with probability ``false_positive_rate``. Seeded per image by
    ``seed`` and the file name, so the noise does not depend on which other images are detected."""

    def __init__(
        self,
        base: Detector,
        miss_rate: float,
        false_positive_rate: float,
        seed: int = 0,
        synonyms: str | Path | ObjectVocabulary | None = None,
    ) -> None:
        for name, value in (("miss_rate", miss_rate), ("false_positive_rate", false_positive_rate)):
            if not 0.0 <= value <= 1.0:
                raise InputError(f"NoisyDetector: {name} must be in [0, 1], got {value}")
        self.base, self.miss_rate, self.false_positive_rate, self.seed = base, miss_rate, false_positive_rate, seed
        self.categories = sorted(load_vocabulary(synonyms).categories)

    def detect(self, images: Sequence[Path]) -> list[ImageTruth]:
        return [self._noisy(truth) for truth in self.base.detect(images)]

    def _noisy(self, truth: ImageTruth) -> ImageTruth:
        rng = np.random.default_rng([self.seed, zlib.crc32(Path(truth.image).name.encode())])
        kept = [o for o in truth.objects if rng.random() >= self.miss_rate]
        absent = [c for c in self.categories if c not in truth.categories]
        added = [ObjectFact(c) for c in absent if rng.random() < self.false_positive_rate]
        return ImageTruth(truth.image, tuple(kept + added), truth.attributes_known)

    def describe(self) -> dict:
        return {
            "kind": "NoisyDetector",
            "base": self.base.describe(),
            "miss_rate": self.miss_rate,
            "false_positive_rate": self.false_positive_rate,
            "seed": self.seed,
        }
