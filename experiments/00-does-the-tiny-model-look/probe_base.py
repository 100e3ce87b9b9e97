"""Why does a base not bind? Two probes of one trained base, printed and kept as per-sample files.

Usage: python experiments/00-does-the-tiny-model-look/probe_base.py BASE_DIR WORLD_DIR OUT_DIR
BASE_DIR is a cached base (cache/base/<key>: config.yaml, weights.ckpt); WORLD_DIR the world it trained on
(cache/world/<hash>).
1. Underfit or memorise: for 240 images of each split (seeded), 3 present and 3 absent categories (absent drawn
   uniformly, as POPE's random split) asked with "Is there a X in the image?"; reverie's PopeTask scores both files.
   Training accuracy far above test accuracy means memorisation; both low means the task is not learned.
2. Where it fails: every yes/no dense question of the world's test split (its own templates, synonyms and the
   short-answer suffix), accuracy by template, by the word asked about and by the number of objects in the image.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

from omegaconf import OmegaConf

from reverie.build import build_all
from reverie.eval.runner import build_generator, evaluate

PER_SPLIT = 240


def write_probes(world: Path, split: str, path: Path, rng: random.Random) -> None:
    scenes = [json.loads(line) for line in (world / "scenes.jsonl").read_text().splitlines()]
    categories = sorted({o["category"] for s in scenes for o in s["objects"]})
    chosen = [s for s in scenes if s["split"] == split]
    rng.shuffle(chosen)
    probes = []
    for scene in chosen[:PER_SPLIT]:
        present = sorted({o["category"] for o in scene["objects"]})
        absent = [c for c in categories if c not in present]
        for label, pool in (("yes", present), ("no", absent)):
            for category in rng.sample(pool, min(3, len(pool))):
                text = f"Is there a {category} in the image?"
                probes.append({"image": scene["image"], "text": text, "label": label, "object": category})
    path.write_text("".join(json.dumps({**p, "question_id": i}) + "\n" for i, p in enumerate(probes)))


def write_dense(world: Path, path: Path) -> None:
    """The test split's yes/no dense questions as a POPE file (the question as the world asks it)."""
    probes = []
    for record in json.loads((world / "llava" / "questions_test.json").read_text()):
        question, answer = (turn["value"] for turn in record["conversations"][:2])
        label = answer.split()[0].strip(".,").lower()
        if label in ("yes", "no"):
            text = question.replace("<image>\n", "")
            probes.append({"image": Path(record["image"]).name, "text": text, "label": label, "object": ""})
    path.write_text("".join(json.dumps({**p, "question_id": i}) + "\n" for i, p in enumerate(probes)))


ASKED = re.compile(r"\b(?:a|an|any) ([\w ]+?)(?= in| visible| somewhere|\?| here)")


def breakdown(samples_file: Path, world: Path) -> None:
    """Accuracy of the dense questions by template, by the word asked about (>= 60 questions) and by object count."""
    objects = {}
    for line in (world / "scenes.jsonl").read_text().splitlines():
        scene = json.loads(line)
        objects[scene["image"]] = len(scene["objects"])
    tables: dict[str, dict] = {"template": defaultdict(list), "word": defaultdict(list), "objects": defaultdict(list)}
    for line in samples_file.read_text().splitlines():
        sample = json.loads(line)
        prompt = sample["prompt"]
        asked = ASKED.search(prompt)
        template = ASKED.sub("a X", prompt.split("\n")[0]) + (" +suffix" if "single word" in prompt else "")
        tables["template"][template].append(sample["correct"])
        tables["word"][asked.group(1) if asked else "?"].append(sample["correct"])
        tables["objects"][objects[Path(sample["image"]).name]].append(sample["correct"])
    for name, table in tables.items():
        rows = sorted(((sum(v) / len(v), len(v), k) for k, v in table.items() if len(v) >= 60), key=lambda r: r[0])
        print(f"by {name}: " + "; ".join(f"{k} {acc:.2f} (n={n})" for acc, n, k in rows))


def main(base_dir: Path, world: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    for split in ("train", "test"):
        write_probes(world, split, out / f"{split}_random.jsonl", rng)
    write_dense(world, out / "dense_test.jsonl")
    generation = {"max_new_tokens": 4, "batch_size": 64, "share_prefix": True, "do_sample": False}
    task = {"_target_": "reverie.eval.PopeTask", "parser": "pope_llava", "prompt_suffix": ""}
    files = {"train_images": "train_random", "test_images": "test_random", "dense_test": "dense_test"}
    tasks = {
        name: {**task, "split": name, "questions_file": str(out / f"{stem}.jsonl"), "image_dir": str(world / "images")}
        for name, stem in files.items()
    }
    eval_cfg = OmegaConf.create(
        {
            "generation": {**generation, "temperature": 1.0, "top_p": 1.0, "seed": 0},
            "max_questions": None,
            "tasks": tasks,
        }
    )
    cfg = OmegaConf.load(base_dir / "config.yaml")
    cfg.eval = eval_cfg
    built = build_all(cfg, None, base_weights=base_dir / "weights.ckpt")
    generator = build_generator(built.model, built.tokenizer, built.template, eval_cfg, cfg.reflection.question_prompt)
    evaluate(generator, eval_cfg, out / "eval")  # prints each task's accuracy; files under OUT_DIR/eval
    breakdown(next((out / "eval").glob("*dense_test.samples.jsonl")), world)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
