"""Orchestration: sample the scenes, render them, write every export and the manifest (last).

Layout of a world folder (roles in brackets, as listed in manifest.json):
  images/000123.png [images]          scenes.jsonl [scenes]               cooccurrence.json [cooccurrence]
  llava/captions_{split}.json [llava.captions.{split}]                    llava/vqa_{split}.json [llava.vqa.{split}]
  llava/questions_{split}.json [llava.questions.{split}] (dense single questions)
  llava/mate_questions_{split}.json [llava.mate_questions.{split}] (yes/no: present object or absent theme-mate)
  llava/mcq_{split}.json [llava.mcq.{split}] (multiple choice, LLaVA's option-letter instruction, letter answers)
  reverie/{split}.json [reverie.{split}]                                  pope/{split}_{strategy}.jsonl [pope.{split}.{strategy}]
  chair/objects.jsonl [chair.objects] (all splits, with a split field)    chair/synonyms.json [chair.synonyms]
  chair/plurals.json [chair.plurals]  mme/{split}.jsonl [mme.{split}]     mcq/{split}.jsonl [mcq.{split}]
  amber/{split}/query_all.json [amber.{split}.query_all] and AMBER's other files (reverie.world.exports.amber)
  reverie/descriptions_{split}.json [reverie.descriptions.{split}] (description pairs: + an absent companion, for DPO)
Train/val/test files exist for LLaVA and REVERIE; POPE, MME and MCQ files for val and test.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from reverie.world.config import WorldConfig
from reverie.world.exports.amber import amber_relation, amber_split
from reverie.world.exports.chair import chair_objects, chair_plurals
from reverie.world.exports.description_pairs import description_pair
from reverie.world.exports.io import write_json, write_json_list, write_jsonl
from reverie.world.exports.llava import caption_sample, vqa_sample
from reverie.world.exports.mcq import mcq_questions, mcq_samples
from reverie.world.exports.mme import mme_questions
from reverie.world.exports.questions import QuestionWriter
from reverie.world.exports.reverie import ReverieWriter
from reverie.world.exports.reverie_drafts import ReverieDrafter
from reverie.world.facts import SceneFacts
from reverie.world.pope import pope_files
from reverie.world.rand import Rand
from reverie.world.render import write_images
from reverie.world.scene import sample_scenes
from reverie.world.stats import stats_table
from reverie.world.vocab import make_vocab

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SPLITS = ("train", "val", "test")
EVAL_SPLITS = ("val", "test")
_OWN_ENTRIES = {
    "images",
    "scenes.jsonl",
    "cooccurrence.json",
    "llava",
    "reverie",
    "pope",
    "chair",
    "mme",
    "mcq",
    "amber",
    MANIFEST,
}


@dataclass
class BuildReport:
    """What a build wrote: the manifest path and the number of records (or images) per role."""

    manifest: Path
    counts: dict[str, int] = field(default_factory=dict)


def build_world(out_dir: str | Path, cfg: WorldConfig, workers: int = 1) -> Path:
    """Write the whole world into ``out_dir`` and return the path of its manifest.json.

    ``workers`` > 1 renders images in parallel processes; the output bytes do not depend on it.
    """
    return write_world(out_dir, cfg, workers).manifest


def write_world(out_dir: str | Path, cfg: WorldConfig, workers: int = 1) -> BuildReport:
    """``build_world``, also reporting how many records each file got."""
    cfg.validate()
    vocab = make_vocab(cfg.themes)
    out = Path(out_dir)
    _prepare(out)
    report = BuildReport(manifest=out / MANIFEST)
    files: dict[str, str] = {}

    def put(role: str, rel: str, count: int) -> Path:
        files[role] = rel
        report.counts[role] = count
        return out / rel

    scenes = sample_scenes(cfg, vocab)
    write_images(scenes, vocab, cfg.image_size, put("images", "images", len(scenes)), workers)
    write_jsonl(put("scenes", "scenes.jsonl", len(scenes)), (s.to_record(vocab, cfg.image_size) for s in scenes))
    by_split = {split: [s for s in scenes if s.split == split] for split in SPLITS}
    write_json(put("cooccurrence", "cooccurrence.json", len(vocab.names)), stats_table(by_split, vocab))
    facts = {split: [SceneFacts(s, vocab) for s in group] for split, group in by_split.items()}

    rands = {
        name: Rand(cfg.seed, name)
        for name in (
            *("captions", "vqa", "questions", "questions_suffix", "mate_questions", "mcq_train", "reverie"),
            *("pope", "mme", "mcq"),
        )
    }
    reverie = ReverieWriter(ReverieDrafter.for_world(cfg))
    dense = QuestionWriter(
        cfg.question_kinds,
        cfg.questions_per_image,
        cfg.questions_yes_share,
        cfg.questions_mate_share,
        suffix_share=cfg.questions_suffix_share,
        suffix_rand=rands["questions_suffix"],
    )
    hard = QuestionWriter({"existence": 1.0}, cfg.mate_questions_per_image, 0.5, 1.0, tag="m")
    describe_rand = Rand(cfg.seed, "descriptions")  # description pairs (DPO): own stream, the others unchanged
    for split in SPLITS:
        fs = facts[split]
        captions = [caption_sample(f, rands["captions"], vary_prompt=split == "train") for f in fs]
        write_json_list(put(f"llava.captions.{split}", f"llava/captions_{split}.json", len(captions)), captions)
        vqa = [vqa_sample(f, rands["vqa"], cfg.vqa_turns) for f in fs]
        write_json_list(put(f"llava.vqa.{split}", f"llava/vqa_{split}.json", len(vqa)), vqa)
        questions = [q for f in fs for q in dense.samples(f, rands["questions"])]
        write_json_list(put(f"llava.questions.{split}", f"llava/questions_{split}.json", len(questions)), questions)
        mates = [q for f in fs for q in hard.samples(f, rands["mate_questions"])]
        write_json_list(put(f"llava.mate_questions.{split}", f"llava/mate_questions_{split}.json", len(mates)), mates)
        mcq_train = [q for f in fs for q in mcq_samples(f, rands["mcq_train"], cfg.mcq_train_per_image)]
        write_json_list(put(f"llava.mcq.{split}", f"llava/mcq_{split}.json", len(mcq_train)), mcq_train)
        records = [r for f in fs for r in reverie.records(f, rands["reverie"])]
        write_json_list(put(f"reverie.{split}", f"reverie/{split}.json", len(records)), records)
        pairs = [p for f in fs if (p := description_pair(f, describe_rand, split == "train")) is not None]
        write_json_list(put(f"reverie.descriptions.{split}", f"reverie/descriptions_{split}.json", len(pairs)), pairs)

    amber_rand = Rand(cfg.seed, "amber")
    for split in EVAL_SPLITS:
        fs = facts[split]
        for strategy, questions in pope_files(fs, cfg.pope_per_image, rands["pope"]).items():
            write_jsonl(put(f"pope.{split}.{strategy}", f"pope/{split}_{strategy}.jsonl", len(questions)), questions)
        mme: list[dict] = []
        for f in fs:
            mme += mme_questions(f, rands["mme"], first_id=len(mme) + 1)
        write_jsonl(put(f"mme.{split}", f"mme/{split}.jsonl", len(mme)), mme)
        mcq: list[dict] = []
        for f in fs:
            mcq += mcq_questions(f, rands["mcq"], cfg.mcq_per_image, first_id=len(mcq) + 1)
        write_jsonl(put(f"mcq.{split}", f"mcq/{split}.jsonl", len(mcq)), mcq)
        for name, rows in amber_split(fs, amber_rand).items():  # AMBER's layout (reverie.world.exports.amber)
            role = f"amber.{split}.{name.removesuffix('.json')}"
            write_json_list(put(role, f"amber/{split}/{name}", len(rows)), rows)

    write_jsonl(put("chair.objects", "chair/objects.jsonl", len(scenes)), chair_objects(scenes, vocab))
    write_json(put("chair.synonyms", "chair/synonyms.json", len(vocab.names)), vocab.synonyms())
    plurals = chair_plurals(vocab)
    write_json(put("amber.relation", "amber/relation.json", len(vocab.names)), amber_relation(vocab))
    put("amber.safe_words", "amber/safe_words.txt", 0).write_text("", encoding="utf-8")
    write_json(put("chair.plurals", "chair/plurals.json", len(plurals)), plurals)

    manifest = {"format_version": FORMAT_VERSION, "options": cfg.to_dict(), "files": dict(sorted(files.items()))}
    write_json(report.manifest, manifest)
    return report


def _prepare(out: Path) -> None:
    """Make ``out`` ready: create it, or clear a previous (complete) world in it; refuse to touch anything else."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"output path {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    entries = sorted(p.name for p in out.iterdir())
    foreign = [name for name in entries if name not in _OWN_ENTRIES]
    if foreign or (entries and MANIFEST not in entries):
        what = f"files that are not part of a world ({', '.join(foreign[:5])})" if foreign else "no world manifest"
        raise ValueError(f"output directory {out} is not empty and holds {what}; choose an empty or new directory")
    (out / MANIFEST).unlink(missing_ok=True)  # the manifest goes first and comes back last: no half-built world
    for name in _OWN_ENTRIES - {MANIFEST}:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def load_manifest(world_dir: str | Path) -> dict[str, Path]:
    """Role -> absolute path of every file of a built world (``world_dir`` may also be the manifest itself)."""
    path = Path(world_dir)
    if path.name != MANIFEST or path.is_dir():
        path = path / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"no world manifest at {path}; build a world with: python -m reverie.world --out {path.parent}"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported world format_version {data.get('format_version')!r}")
    return {role: (path.parent / rel).resolve() for role, rel in data["files"].items()}
