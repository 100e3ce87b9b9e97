"""The built-in world's oracle as an annotator: exact answers read off the scene graph, offline.

QA requests get the world's own questions for the image (as JSON, with ``question_type`` and ``probe``); rationale
requests the world's rationale for that question and answer; the judge says "No" (no contradiction) for the
oracle's own pairs, which derive from one scene graph. Anything it did not write is refused with an error, since an
oracle cannot vouch for text it does not know.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reverie.annotate.backends.base import Reply, Request
from reverie.errors import InputError
from reverie.world.build import MANIFEST, SPLITS, load_manifest
from reverie.world.config import WorldConfig
from reverie.world.exports.reverie_drafts import ReverieDrafter
from reverie.world.facts import SceneFacts
from reverie.world.rand import Rand
from reverie.world.scene import sample_scenes
from reverie.world.vocab import make_vocab

QA_FIELDS = ("question", "correct_answer", "confusing_answer", "question_type", "probe")


class WorldOracle:
    """Answers from drafts: image file name -> the world's drafted records (see reverie_drafts)."""

    batch_size = 256  # no cost per call: large batches
    concurrency = 1
    settings: dict[str, Any] = {}  # exact: nothing to sample

    def __init__(
        self,
        world: str | Path | None = None,
        id_prefix: str = "world-",
        drafts: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        if (world is None) == (drafts is None):
            raise InputError("the world annotator needs annotator.world: the folder of a built world")
        if drafts is None:
            drafts = world_drafts(world)
        self.drafts = drafts
        self.world = str(world) if world is not None else None
        self.id_prefix = id_prefix
        self._by_question = {(image, d["question"]): d for image, items in self.drafts.items() for d in items}

    def model_for(self, step: str) -> str:
        return "world-oracle"

    def complete(self, requests: list[Request]) -> list[Reply]:
        return [Reply(self._answer(r)) for r in requests]

    def close(self) -> None:
        pass

    def _answer(self, r: Request) -> str:
        image = Path(r.fields["image"]).name
        if image not in self.drafts:
            where = f"the world at {self.world}" if self.world else "this world"
            raise ValueError(f"image {r.fields['image']!r} is not an image of {where}; annotate its images/ folder")
        if r.step == "qa":
            return json.dumps([{k: d[k] for k in QA_FIELDS} for d in self.drafts[image]], ensure_ascii=False)
        draft = self._by_question.get((image, r.fields["question"]))
        if draft is None:
            raise ValueError(f"image {image}: the world oracle did not ask {r.fields['question']!r}")
        if r.step == "positive":
            return self._checked(draft, r, "correct_answer", "correct_rationale")
        if r.step == "negative":
            return self._checked(draft, r, "confusing_answer", "incorrect_rationale")
        own = all(r.fields[k] == draft[k] for k in ("correct_rationale", "incorrect_rationale"))
        if not own:
            raise ValueError(f"image {image}: the world oracle judges only its own rationales")
        return "No"

    @staticmethod
    def _checked(draft: dict[str, Any], r: Request, answer_key: str, rationale_key: str) -> str:
        if r.fields["answer"] != draft[answer_key]:
            raise ValueError(f"{r.fields['id']}: the world oracle did not give the answer {r.fields['answer']!r}")
        return draft[rationale_key]


# Options a world's manifest may lack because it was built before they existed, with the value that build used.
_OLDER_OPTIONS = {"reverie_cooccur_share": 0.0}


def world_drafts(world_dir: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Image file name -> drafts, for a built world: its scenes are sampled again from the manifest's options and
    drafted in the build's order, so they equal the build's own; a world whose scenes.jsonl differs from what this
    code samples (another version) is refused."""
    files = load_manifest(world_dir)
    manifest = json.loads((Path(files["scenes"]).parent / MANIFEST).read_text(encoding="utf-8"))
    cfg = WorldConfig(**{**_OLDER_OPTIONS, **manifest["options"]})
    vocab = make_vocab(cfg.themes)
    scenes = sample_scenes(cfg, vocab)
    with open(files["scenes"], encoding="utf-8") as f:
        on_disk = [json.loads(line) for line in f]
    if on_disk != [s.to_record(vocab, cfg.image_size) for s in scenes]:
        raise ValueError(f"{files['scenes']}: the scenes differ from what this reverie samples for the world's options")
    drafter = ReverieDrafter.for_world(cfg)
    rand = Rand(cfg.seed, "reverie")  # the build's stream, consumed in the build's order
    return {s.image: drafter.drafts(SceneFacts(s, vocab), rand) for split in SPLITS for s in scenes if s.split == split}
