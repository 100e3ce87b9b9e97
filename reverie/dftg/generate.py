"""Targeted (and untargeted control) yes/no instructions from a hallucination profile, on the built-in world.

Four instruction types, each asked as a yes/no question in the world's own wording: ``existence`` ("Is there a
mug in the image?"), ``attribute`` (colour: "Is the mug red?"), ``position`` ("Is the mug in the top-left corner?")
and ``relation`` ("Is the mug to the left of the plate?"). Positive samples state something true (answer Yes),
negative ones something false (answer No); REVERIE records add the world's rationales for both answers. A fifth,
``description``, trains free-form generation where the profile comes from: the world's exact description of an
image, a negative one on an image without the concept (where the model invents it), a positive one on an image with
it; its REVERIE twin's confusing answer is that description with the concept inserted (with an absent companion for
positives).

``negatives_on`` says where the concept-absent images (negative existence and description samples) come from:
``anywhere`` (every image without the concept) or ``triggers`` (images without it whose present objects set its
invention off: the profile's ``triggers`` in targeted mode, else the concept's theme-mates; every image without it
when none has one). Both modes use the same rule, so the control differs only in which concepts it asks about.

How many samples of each type and polarity is fixed by ``size``, the type mix and ``negative_share`` alone, so the
two modes differ only in *which concepts* they ask about:
- ``targeted``: concepts drawn in proportion to the model's own rate (``weight_by``, default ``invention_rate``)
  over the concepts it hallucinated; negative existence questions about a concept are asked on images where it is
  absent, negative colour questions prefer the colours the model wrongly gave it;
- ``untargeted``: concepts drawn uniformly over the whole vocabulary, false colours uniformly.
Positives are drawn from the same concept distribution as negatives, so no concept becomes an "always no" word.
Images are drawn uniformly among those that support the question. Every answer is checked against the scene
file (``reverie.dftg.verify``) before anything is written.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from reverie.dftg.detectors import WorldTruth
from reverie.dftg.verify import verify
from reverie.errors import InputError
from reverie.eval.io import read_jsonl
from reverie.world.describe import DETAIL_PROMPTS, describe
from reverie.world.exports.description_pairs import description_record
from reverie.world.exports.llava import conversation
from reverie.world.facts import SceneFacts
from reverie.world.grid import CELLS, RELATIONS, holds
from reverie.world.phrases import Names
from reverie.world.probes import Probe
from reverie.world.questions import answer, question
from reverie.world.rand import Rand
from reverie.world.rationales import rationales
from reverie.world.scene import Obj, Scene
from reverie.world.vocab import COLORS, Vocab

TYPES = ("existence", "attribute", "position", "relation", "description")
NEGATIVES_ON = ("anywhere", "triggers")
MODES = ("targeted", "untargeted")
WEIGHTS = ("invention_rate", "rate", "hallucinations")
_PROBE_KIND = {"existence": "existence", "attribute": "color", "position": "position", "relation": "relation"}


class _WordingRand(Rand):
    """The world's seeded random source on a stream of its own (the world's stream table lists only its build
    stages), so targeted wording never replays a stream the world's files were drawn from."""

    def __init__(self, seed: int, mode: str) -> None:
        super().__init__(seed, "questions")
        self._gen = np.random.default_rng([seed, 0xDF76, MODES.index(mode)])


def allocate(size: int, mix: Mapping[str, float], negative_share: float) -> dict[str, tuple[int, int]]:
    """(positives, negatives) per type: ``size`` split by ``mix`` (largest remainder), each by ``negative_share``."""
    unknown = sorted(set(mix) - set(TYPES))
    if unknown:
        raise InputError(f"types: unknown instruction type(s) {unknown}; known: {', '.join(TYPES)}")
    if size < 1:
        raise InputError(f"size must be at least 1, got {size}")
    if any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
        raise InputError(f"types: weights must be >= 0 and not all zero, got {dict(mix)}")
    if not 0.0 <= negative_share <= 1.0:
        raise InputError(f"negative_share must be in [0, 1], got {negative_share}")
    total = sum(mix.values())
    exact = {t: size * w / total for t, w in mix.items()}
    counts = {t: int(v) for t, v in exact.items()}
    for t in sorted(exact, key=lambda t: -(exact[t] - counts[t]))[: size - sum(counts.values())]:
        counts[t] += 1
    return {t: (n - round(n * negative_share), round(n * negative_share)) for t, n in counts.items() if n}


def load_scenes(path: str | Path, split: str | None) -> list[Scene]:
    """The world's scene records of a split, as scenes (cells and attributes; glyph offsets are not needed)."""
    scenes = []
    for index, (_, row) in enumerate(read_jsonl(path)):
        if split is not None and row.get("split") != split:
            continue
        objects = tuple(Obj(o["category"], o["color"], o["size"], tuple(o["cell"]), (0.5, 0.5)) for o in row["objects"])
        scenes.append(Scene(index, row["image"], row["split"], row["theme"], objects))
    if not scenes:
        raise InputError(f"{path}: no scenes in split {split!r}")
    return scenes


def concept_weights(profile: dict, mode: str, vocab: Vocab, weight_by: str, top: int | None) -> dict[str, float]:
    """Object concepts to ask about and their weights: the profile's (targeted) or uniform (untargeted)."""
    if mode == "untargeted":
        return dict.fromkeys(vocab.names, 1.0)
    if weight_by not in WEIGHTS:
        raise InputError(f"weight_by must be one of {WEIGHTS}, got {weight_by!r}")
    concepts = profile["concepts"]
    order = [c for c in profile.get("top", []) if c in vocab.by_name] or sorted(concepts)
    weights = {c: float(concepts[c][weight_by]) for c in order if concepts[c]["hallucinations"] > 0}
    weights = {c: w for c, w in list(weights.items())[: top or None] if w > 0}
    if not weights:
        raise InputError("the profile has no object hallucinations of this vocabulary to target")
    return weights


def trigger_set(profile: dict, concept: str, mode: str, vocab: Vocab) -> set[str]:
    """Present objects that set ``concept``'s invention off: the profile's triggers (targeted mode, when it lists
    any), else the concept's theme-mates."""
    listed = profile.get("concepts", {}).get(concept, {}).get("triggers") or []
    named = {t for t, _ in listed if t in vocab.by_name and t != concept} if mode == "targeted" else set()
    return named or {m for m in vocab.members[vocab.by_name[concept].theme] if m != concept}


def attribute_weights(profile: dict, attribute: str, vocab: Vocab) -> dict[str, float]:
    """Concepts the model gave a wrong ``attribute``, weighted by that error rate (empty when none)."""
    out = {}
    for c, kinds in profile.get("attributes", {}).items():
        entry = kinds.get(attribute)
        if c in vocab.by_name and entry and entry["wrong"] > 0:
            out[c] = float(entry["rate"])
    return out


class TargetedGenerator:
    """Draws the samples; ``generate(size)`` returns (LLaVA records, REVERIE records, report)."""

    def __init__(
        self,
        profile: dict,
        scenes_file: str | Path,
        vocab: Vocab,
        *,
        mode: str = "targeted",
        types: Mapping[str, float] | None = None,
        negative_share: float = 0.5,
        weight_by: str = "invention_rate",
        top: int | None = None,
        split: str | None = "train",
        seed: int = 0,
        negatives_on: str = "anywhere",
    ) -> None:
        if mode not in MODES:
            raise InputError(f"mode must be one of {MODES}, got {mode!r}")
        if negatives_on not in NEGATIVES_ON:
            raise InputError(f"negatives_on must be one of {NEGATIVES_ON}, got {negatives_on!r}")
        self.negatives_on = negatives_on
        self.mode, self.vocab, self.seed = mode, vocab, seed
        self.types = dict(types or {"existence": 0.55, "attribute": 0.15, "position": 0.15, "relation": 0.15})
        self.negative_share = negative_share
        self.facts = [SceneFacts(s, vocab) for s in load_scenes(scenes_file, split)]
        self.truth = WorldTruth(scenes_file).table
        self.weights = concept_weights(profile, mode, vocab, weight_by, top)
        targeted_colors = attribute_weights(profile, "color", vocab) if mode == "targeted" else {}
        self.color_weights = targeted_colors or self.weights
        self.said_colors = {
            c: kinds.get("color", {}).get("said", {}) for c, kinds in profile.get("attributes", {}).items()
        }
        self.profile_source = profile.get("source", {})
        self.triggers = {c: trigger_set(profile, c, mode, vocab) for c in vocab.names}

    # --- drawing -------------------------------------------------------------------------------------------
    def _pool(self, kind: str, positive: bool, concept: str) -> list[SceneFacts]:
        if kind in ("existence", "description") and not positive:
            absent = [f for f in self.facts if concept in f.absent]
            if self.negatives_on == "anywhere":
                return absent
            triggered = [f for f in absent if self.triggers[concept] & set(f.present)]
            return triggered or absent
        if kind == "relation":
            return [f for f in self.facts if concept in f.singles and len(f.singles) > 1]
        return [f for f in self.facts if concept in f.by_category]

    def _concept(self, rng: np.random.Generator, weights: dict[str, float], kind: str, positive: bool) -> str:
        usable = {
            c: w
            for c, w in weights.items()
            if self._pools.setdefault((kind, positive, c), self._pool(kind, positive, c))
        }
        if not usable:
            raise InputError(f"no image of the split supports a {kind} question about {sorted(weights)}")
        names = sorted(usable)
        p = np.array([usable[c] for c in names], dtype=float)
        return names[rng.choice(len(names), p=p / p.sum())]

    def _probe(self, rng: np.random.Generator, kind: str, positive: bool, c: str, f: SceneFacts) -> Probe:
        if kind == "existence":
            return Probe("yes_no", "existence", positive, not positive, category=c)
        objs = f.by_category[c]
        if kind == "attribute":
            own = sorted({o.color for o in objs})
            if positive:
                claim = own[rng.integers(len(own))]
            else:
                said = {k: v for k, v in self.said_colors.get(c, {}).items() if k not in own and k in COLORS}
                pool = sorted(said) if self.mode == "targeted" and said else [k for k in COLORS if k not in own]
                p = np.array([said.get(k, 1) for k in pool], dtype=float)
                claim = pool[rng.choice(len(pool), p=p / p.sum())]
            return Probe("yes_no", "color", positive, not positive, category=c, claim=claim)
        if kind == "position":
            cells = sorted({o.cell for o in objs})
            choices = cells if positive else [cell for cell in CELLS if cell not in cells]
            return Probe(
                "yes_no", "position", positive, not positive, category=c, claim=choices[rng.integers(len(choices))]
            )
        a = f.single(c).cell
        pairs = [
            (b, rel) for b in f.singles if b != c for rel in RELATIONS if holds(rel, a, f.single(b).cell) == positive
        ]
        b, rel = pairs[rng.integers(len(pairs))]
        return Probe("yes_no", "relation", positive, not positive, category=c, other=b, relation=rel, claim=rel)

    def generate(self, size: int) -> tuple[list[dict], list[dict], dict]:
        plan = allocate(size, self.types, self.negative_share)
        rng = np.random.default_rng(self.seed)
        rand = _WordingRand(self.seed, self.mode)
        self._pools: dict[tuple[str, bool, str], list[SceneFacts]] = {}
        slots = [
            (t, pos)
            for t, (n_pos, n_neg) in plan.items()
            for pos, n in ((True, n_pos), (False, n_neg))
            for _ in range(n)
        ]
        slots = [slots[i] for i in rng.permutation(len(slots))]
        llava, reverie, asked = [], [], Counter()
        for i, (kind, positive) in enumerate(slots):
            weights = self.color_weights if kind == "attribute" else self.weights
            c = self._concept(rng, weights, kind, positive)
            pool = self._pools[(kind, positive, c)]
            f = pool[rng.integers(len(pool))]
            sample_id = f"dftg-{self.mode}-{i:06d}"
            if kind == "description":
                llava_record, record = self._description(rng, rand, positive, c, f, sample_id)
                llava.append(llava_record)
                reverie.append(record)
                asked[(kind, record["dftg"]["polarity"], c)] += 1
                continue
            probe = self._probe(rng, kind, positive, c, f)
            names = Names(self.vocab, rand)
            text = question(probe, f, names, rand)
            reply = answer(probe, probe.truth, f, names, rand)
            meta = self._meta(kind, positive, probe)
            verify(meta, self.truth[f.scene.image])
            record = conversation(f.scene.image, sample_id, [(text, reply)])
            record["dftg"] = meta
            llava.append(record)
            good, bad = rationales(probe, f, names, rand)
            reverie.append(
                {
                    "id": sample_id,
                    "image": f.scene.image,
                    "question": text,
                    "correct_answer": reply,
                    "confusing_answer": answer(probe, probe.wrong, f, names, rand),
                    "correct_rationale": good,
                    "incorrect_rationale": bad,
                    "question_type": "yes_no",
                    "probe": probe.record(),
                    "dftg": meta,
                }
            )
            asked[(kind, meta["polarity"], c)] += 1
        return llava, reverie, self._report(size, plan, asked)

    def _description(
        self, rng: np.random.Generator, rand: Rand, positive: bool, c: str, f: SceneFacts, sample_id: str
    ) -> tuple[dict, dict]:
        """The image's exact description (LLaVA) and its REVERIE twin: confusing = the same with ``c`` inserted
        (negatives), or with an absent companion of the present objects (positives)."""
        meta = {
            "mode": self.mode,
            "type": "description",
            "polarity": "positive" if positive else "negative",
            "concept": c,
            "answer": "yes" if positive else "no",  # whether the concept is in the described image
        }
        verify(meta, self.truth[f.scene.image])
        names = Names(self.vocab, rand)
        prompt = DETAIL_PROMPTS[int(rng.integers(len(DETAIL_PROMPTS)))]
        text = describe(f, names, rand)
        if positive:
            mates = f.absent_mates or f.absent
            absent = mates[int(rng.integers(len(mates)))]
        else:
            absent = c
        record = description_record(f, rand, names, sample_id, prompt, text, absent)
        record["dftg"] = meta
        llava_record = conversation(f.scene.image, sample_id, [(prompt, text)])
        llava_record["dftg"] = meta
        return llava_record, record

    def _meta(self, kind: str, positive: bool, probe: Probe) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "mode": self.mode,
            "type": kind,
            "polarity": "positive" if positive else "negative",
            "concept": probe.category,
            "answer": "yes" if positive else "no",
        }
        if kind == "attribute":
            meta.update(attribute="color", claim=probe.claim)
        elif kind == "position":
            meta["claim"] = list(probe.claim)
        elif kind == "relation":
            meta.update(other=probe.other, relation=probe.relation)
        return meta

    def _report(self, size: int, plan: dict[str, tuple[int, int]], asked: Counter) -> dict:
        per_type = {t: {"positive": p, "negative": n} for t, (p, n) in plan.items()}
        by_type: dict[str, dict[str, dict[str, int]]] = {}
        for (kind, polarity, c), n in sorted(asked.items()):
            by_type.setdefault(kind, {}).setdefault(polarity, {})[c] = n
        return {
            "mode": self.mode,
            "size": size,
            "seed": self.seed,
            "types": per_type,
            "negative_share": self.negative_share,
            "negatives_on": self.negatives_on,
            "concept_weights": self.weights,
            "color_weights": self.color_weights,
            "asked": by_type,  # type -> polarity -> concept -> samples
            "diagnosis": self.profile_source.get("run_dir"),
        }


def write_outputs(out: str | Path, llava: list[dict], reverie: list[dict] | None, report: dict) -> dict[str, Path]:
    """``out`` (LLaVA JSON), ``<stem>.reverie.json`` (when given) and ``<stem>.report.json`` next to it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = {"llava": out, "report": out.with_name(out.stem + ".report.json")}
    out.write_text(json.dumps(llava, indent=1) + "\n", encoding="utf-8")
    if reverie is not None:
        paths["reverie"] = out.with_name(out.stem + ".reverie.json")
        paths["reverie"].write_text(json.dumps(reverie, indent=1) + "\n", encoding="utf-8")
    report = {**report, "files": {k: str(v) for k, v in paths.items()}}
    paths["report"].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return paths
