"""An open-vocabulary detector (OWLv2 through transformers) loaded from a local folder, batched, on a GPU when there
is one: each vocabulary category is a text query ("a photo of a {name}"); boxes above ``threshold`` survive
per-category non-maximum suppression and become that image's objects (counts; no attributes)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from torchvision.ops import batched_nms
from tqdm import tqdm

from reverie.dftg.detectors import Detector
from reverie.dftg.extract import load_vocabulary
from reverie.dftg.truth import ImageTruth, ObjectFact
from reverie.eval.chair import ObjectVocabulary


class OwlDetector(Detector):
    """OWLv2 (``Owlv2ForObjectDetection`` + ``Owlv2Processor``) from ``model_dir``; nothing is downloaded."""

    def __init__(
        self,
        model_dir: str | Path,
        synonyms: str | Path | ObjectVocabulary | None = None,
        prompt: str = "a photo of a {}",
        threshold: float = 0.3,
        nms_iou: float = 0.3,
        batch_size: int = 8,
        device: str = "auto",
        dtype: str = "float32",
    ) -> None:
        from transformers import Owlv2ForObjectDetection, Owlv2Processor

        self.model_dir = Path(model_dir)
        if not (self.model_dir / "config.json").is_file():
            raise FileNotFoundError(f"OWLv2: no model folder at {self.model_dir} (config.json missing)")
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.processor = Owlv2Processor.from_pretrained(self.model_dir, local_files_only=True)
        self.model = Owlv2ForObjectDetection.from_pretrained(
            self.model_dir, local_files_only=True, dtype=getattr(torch, dtype)
        ).to(self.device)
        self.model.eval()
        self.categories = sorted(load_vocabulary(synonyms).categories)
        self.queries = [prompt.format(name) for name in self.categories]
        self.threshold, self.nms_iou, self.batch_size = threshold, nms_iou, batch_size

    def describe(self) -> dict:
        return {
            "kind": "OwlDetector",
            "model_dir": str(self.model_dir),
            "threshold": self.threshold,
            "nms_iou": self.nms_iou,
            "queries": len(self.queries),
        }

    @torch.no_grad()
    def _batch(self, paths: Sequence[Path]) -> list[ImageTruth]:
        images = [Image.open(p).convert("RGB") for p in paths]
        inputs = self.processor(text=[self.queries] * len(images), images=images, return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        outputs = self.model(**inputs)
        sides = [max(im.size) for im in images]  # OWLv2 pads to a square at the bottom and right
        results = self.processor.post_process_grounded_object_detection(
            outputs=outputs, threshold=self.threshold, target_sizes=torch.tensor([[s, s] for s in sides])
        )
        out = []
        for path, image, result in zip(paths, images, results, strict=True):
            scores, labels = result["scores"].float(), result["labels"]
            boxes = result["boxes"].float()  # clipped to the image (the padding is not part of it)
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0, image.width)
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0, image.height)
            keep = batched_nms(boxes, scores, labels, self.nms_iou)
            objects = tuple(
                ObjectFact(self.categories[int(labels[i])], box=tuple(boxes[i].tolist()), score=float(scores[i]))
                for i in keep.tolist()
            )
            out.append(ImageTruth(Path(path).name, objects, attributes_known=False))
        return out

    def detect(self, images: Sequence[Path]) -> list[ImageTruth]:
        out: list[ImageTruth] = []
        for start in tqdm(range(0, len(images), self.batch_size), desc="[reverie] detecting", unit="batch"):
            out += self._batch(images[start : start + self.batch_size])
        return out
