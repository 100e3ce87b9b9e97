"""Runs the configured evaluation tasks on a model: generate -> parse -> metrics, per-sample JSONL in the run dir.

The eval config (conf/eval/*.yaml) holds generation settings and a dict of tasks; a task node is a `_target_` of
reverie.eval's tasks plus optional `max_new_tokens` (e.g. longer for captions), `prompt_suffix` (appended to every question, e.g. LLaVA's
"Answer the question using a single word or phrase.") and `only_images_in` (a LLaVA/JSONL
file whose images restrict the questions, e.g. a split's caption file for CHAIR).

Each task's metrics.json records how it asked: `prompt_suffix` (what followed the question: the eval config's suffix,
after the task's own, such as the multiple-choice option-letter instruction) and `prompt_example` (the first question's
user text exactly as the model got it, image placeholder included); each per-sample record's `prompt` is the question
as asked, suffix included. So every figure says which prompt produced it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from reverie.errors import InputError
from reverie.eval.generation import GenerationSettings, Generator
from reverie.eval.records import write_results
from reverie.eval.tasks import EvalPrediction, EvalQuestion, pope_cooccurrence_gap, pope_mean_f1


def build_generator(model, tokenizer, template, eval_cfg: DictConfig, question_prompt: str) -> Generator:
    """The generator `reverie.run` and `reverie.evaluate` both use: the model's own image transform, the eval
    config's generation settings, and the training question prompt (so evaluation asks as training did)."""
    settings = GenerationSettings(**OmegaConf.to_container(eval_cfg.generation, resolve=True))
    return Generator(model, tokenizer, template, model.vision_tower.image_transform(), settings, question_prompt)


def images_listed_in(path: str | Path) -> set[str]:
    """Image names of a LLaVA/REVERIE JSON list or a JSONL file (records with an "image" key)."""
    text = Path(path).read_text(encoding="utf-8")
    records = json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines() if x]
    return {Path(r["image"]).name for r in records if r.get("image")}


def select(questions: list[EvalQuestion], only_images_in: str | None, max_questions: int | None) -> list[EvalQuestion]:
    if only_images_in:
        keep = images_listed_in(only_images_in)
        questions = [q for q in questions if q.image is not None and Path(q.image).name in keep]
    return questions[:max_questions] if max_questions else questions


def generate_sharded(generator: Generator, items: list, rank: int, world_size: int) -> list[str]:
    """Answers for all items; with world_size > 1 each rank generates items[rank::world_size] and all ranks gather
    the answers in the original order (greedy batched answers equal batch-size-1 ones, so sharding changes nothing)."""
    if world_size == 1:
        return generator.generate(items)
    import torch.distributed as dist

    mine = generator.generate(items[rank::world_size])
    gathered: list[list[str] | None] = [None] * world_size
    dist.all_gather_object(gathered, mine)
    return [gathered[i % world_size][i // world_size] for i in range(len(items))]


def prompt_info(generator: Generator, task_info: dict[str, Any], suffix: str, first: EvalQuestion) -> dict[str, str]:
    """How a task asked, for its metrics.json: the whole suffix after the question, and one prompt as the model got it
    (``first`` already carries the eval config's suffix)."""
    image = str(first.image) if first.image else None
    return {
        "prompt_suffix": f"{task_info.get('instruction') or ''}{suffix}",
        "prompt_example": generator.conversation(first.prompt, image).turns[0].text,
    }


def evaluate(
    generator: Generator, eval_cfg: DictConfig, out_dir: str | Path, rank: int = 0, world_size: int = 1
) -> tuple[dict[str, float], dict]:
    """All tasks; returns (metrics, samples per task for logging). Files go to out_dir/{task}.{samples.jsonl,metrics.json}.
    Under DDP every rank calls this with its rank: questions are sharded, and rank 0 scores and writes (the other
    ranks return empty results)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = generator.settings
    metrics: dict[str, float] = {}
    samples: dict[str, list] = {}
    for key, node in (eval_cfg.get("tasks") or {}).items():
        if node is None:  # a task switched off by an override (`eval.tasks.chair=null`)
            continue
        node = OmegaConf.to_container(node, resolve=True)
        max_new_tokens = node.pop("max_new_tokens", None)
        only_images_in = node.pop("only_images_in", None)
        suffix = node.pop("prompt_suffix", "")
        task = instantiate(node)
        questions = select(task.questions, only_images_in, eval_cfg.get("max_questions"))
        if not questions:
            raise InputError(f"eval task {key}: no questions left to ask (check only_images_in / the question file)")
        generator.settings = GenerationSettings(
            **{**base.as_dict(), "max_new_tokens": max_new_tokens or base.max_new_tokens}
        )
        questions = [replace(q, prompt=q.prompt + suffix) for q in questions] if suffix else questions
        items = [(q.prompt, str(q.image) if q.image else None) for q in questions]
        outputs = generate_sharded(generator, items, rank, world_size)
        if rank != 0:
            continue
        result = task.score([EvalPrediction(q, o) for q, o in zip(questions, outputs, strict=True)])
        info = task.describe()
        write_results(
            out_dir,
            task.name,
            result,
            info={**info, **prompt_info(generator, info, suffix, questions[0])},
            generation=generator.settings.as_dict(),
            seed=generator.settings.seed,
        )
        metrics.update(result.metrics)
        samples[task.name] = result.records
        print(
            f"[reverie] eval {task.name}: {len(questions)} questions"
            + (f" (suffix {suffix!r})" if suffix else "")
            + " -> "
            + ", ".join(f"{k.split('/')[-1]}={v:.4g}" for k, v in result.metrics.items() if isinstance(v, float))
        )
    generator.settings = base
    if rank != 0:
        return {}, {}
    metrics.update(pope_mean_f1(metrics))
    metrics.update(pope_cooccurrence_gap(metrics))
    return metrics, samples
