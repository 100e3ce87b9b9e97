"""Does a trained base underfit or memorise? POPE-like probes on TRAINING images against test images, same model.

Usage: python experiments/00-does-the-tiny-model-look/probe_train_vs_test.py BASE_DIR WORLD_DIR OUT_DIR
BASE_DIR is a cached base (cache/base/<key>: config.yaml, weights.ckpt); WORLD_DIR the world it trained on
(cache/world/<hash>). For 240 images of each split (seeded), 3 present and 3 absent categories (absent drawn
uniformly, as POPE's random split) are asked with "Is there a X in the image?"; reverie's PopeTask scores both files.
Training accuracy far above test accuracy means memorisation; both low means the model has not learned the task.
"""

from __future__ import annotations

import json
import random
import sys
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


def main(base_dir: Path, world: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    for split in ("train", "test"):
        write_probes(world, split, out / f"{split}_random.jsonl", rng)
    generation = {"max_new_tokens": 4, "batch_size": 64, "share_prefix": True, "do_sample": False}
    task = {"_target_": "reverie.eval.PopeTask", "parser": "pope_llava", "prompt_suffix": ""}
    tasks = {
        s: {
            **task,
            "split": f"{s}_images",
            "questions_file": str(out / f"{s}_random.jsonl"),
            "image_dir": str(world / "images"),
        }
        for s in ("train", "test")
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


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
