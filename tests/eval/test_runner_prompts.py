"""The eval runner records which prompt produced each figure: the suffix, one prompt as asked, per-sample prompts."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf
from sample_files import write_lines

from reverie.data.templates import TEMPLATES
from reverie.eval.generation import GenerationSettings, Generator
from reverie.eval.runner import evaluate

SUFFIX = "\nAnswer the question using a single word or phrase."
MC_SUFFIX = "Answer with the option's letter from the given choices directly."


def test_each_task_records_its_suffix_and_the_prompt_it_asked(tmp_path: Path, tokenizer, make_lvlm, make_image) -> None:
    make_image("a.png")
    pope = write_lines(
        tmp_path / "pope_random.jsonl",
        [
            {"question_id": 1, "image": "a.png", "text": "Is there a cup in the image?", "label": "yes"},
            {"question_id": 2, "image": "a.png", "text": "Is there a dog in the image?", "label": "no"},
        ],
    )
    mcq = write_lines(
        tmp_path / "mcq.jsonl",
        [{"question_id": 1, "image": "a.png", "question": "What is shown?", "options": ["cup", "dog"], "answer": "A"}],
    )
    task = {"_target_": "reverie.eval.PopeTask", "questions_file": str(pope), "image_dir": str(tmp_path / "images")}
    cfg = OmegaConf.create(
        {
            "tasks": {
                "bare": {**task, "split": "random"},
                "suffixed": {**task, "split": "popular", "prompt_suffix": SUFFIX},
                "mcq": {"_target_": "reverie.eval.MultipleChoiceTask", "questions_file": str(mcq),
                        "image_dir": str(tmp_path / "images")},
                # the task's own instruction set from the config, the runner's suffix after it
                "mcq_own": {"_target_": "reverie.eval.MultipleChoiceTask", "questions_file": str(mcq),
                            "image_dir": str(tmp_path / "images"), "name": "mcq_own", "instruction": "Pick one.",
                            "prompt_suffix": SUFFIX},
            }
        }
    )  # fmt: skip
    model = make_lvlm()
    settings = GenerationSettings(max_new_tokens=4)
    generator = Generator(model, tokenizer, TEMPLATES["plain"], model.vision_tower.image_transform(), settings)
    evaluate(generator, cfg, tmp_path / "eval")

    def read(stem: str) -> tuple[dict, list[dict]]:
        metrics = json.loads((tmp_path / "eval" / f"{stem}.metrics.json").read_text())
        samples = [json.loads(x) for x in (tmp_path / "eval" / f"{stem}.samples.jsonl").read_text().splitlines()]
        return metrics, samples

    bare, bare_samples = read("pope_random")
    assert bare["prompt_suffix"] == "" and bare["prompt_example"] == "<image>\nIs there a cup in the image?"
    assert [s["prompt"] for s in bare_samples] == ["Is there a cup in the image?", "Is there a dog in the image?"]
    suffixed, suffixed_samples = read("pope_popular")
    assert suffixed["prompt_suffix"] == SUFFIX
    assert suffixed["prompt_example"] == f"<image>\nIs there a cup in the image?{SUFFIX}"
    assert [s["prompt"] for s in suffixed_samples] == [s["prompt"] + SUFFIX for s in bare_samples]
    choice, _ = read("mcq")
    assert choice["prompt_suffix"] == MC_SUFFIX  # the task's own instruction
    assert choice["prompt_example"] == f"<image>\nWhat is shown?\nA. cup\nB. dog\n{MC_SUFFIX}"
    own, _ = read("mcq_own")
    assert own["instruction"] == "Pick one." and own["prompt_suffix"] == f"Pick one.{SUFFIX}"
    assert own["prompt_example"] == f"<image>\nWhat is shown?\nA. cup\nB. dog\nPick one.{SUFFIX}"
