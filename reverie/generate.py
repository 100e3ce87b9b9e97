"""`python -m reverie.generate (run_dir=RUN | hf=FOLDER) image=PATH prompt="..." [explain=true]`: ask a model.

One question: the answer streams to stdout as it is generated, and the answer alone is the last line printed.
`explain=true` then asks the follow-up (by default the run's positive-rationale prompt, "Explain why. ...") and
prints the rationale before that last line: what reflective tuning taught the model to say. `questions=FILE.jsonl`
answers many questions in batches and writes them to a JSONL file, whose path is the last line printed.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig
from transformers import TextStreamer

from reverie.cli import user_errors
from reverie.data.conversation import Conversation, Part, Turn
from reverie.data.templates import get_template
from reverie.errors import InputError, MissingFileError
from reverie.eval.generation import GenerationSettings, Generator
from reverie.outputs import check_new_files, check_not_input
from reverie.resolvers import register

register()


class AnswerStreamer(TextStreamer):
    """Writes generated text to stdout as it comes, up to the template's first stop string (the end-of-turn token,
    which ends generation, decodes to it)."""

    def __init__(self, tokenizer, stops: tuple[str, ...]) -> None:
        super().__init__(tokenizer, skip_prompt=False, skip_special_tokens=False)
        self.stops = [s for s in stops if s]
        self.text = ""
        self.stopped = False

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if self.stopped:
            return
        new = self.text + text
        cuts = [new.find(s) for s in self.stops if s in new]
        if cuts:
            new, self.stopped = new[: min(cuts)], True
        chunk = new[len(self.text) :]
        if not self.text:
            chunk = chunk.lstrip()
            new = chunk
        self.text = new
        sys.stdout.write(chunk)
        sys.stdout.flush()


def load_generator(cfg: DictConfig) -> tuple[Generator, str]:
    """The model as a Generator, and the follow-up prompt of `explain`."""
    if (cfg.run_dir is None) == (cfg.hf is None):
        raise InputError("give one model: run_dir=RUN (a reverie run) or hf=FOLDER (a Hugging Face LLaVA folder)")
    settings = GenerationSettings(max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size, seed=cfg.seed)
    if cfg.run_dir is not None:
        from reverie.evaluate import load_run

        run_cfg, tokenizer, model = load_run(Path(cfg.run_dir).resolve(), cfg.ckpt)
        template = get_template(run_cfg.model.llm.chat_template)
        question_prompt, explain = run_cfg.reflection.question_prompt, run_cfg.reflection.pos_prompt
    else:
        from reverie.models.hf_llava import load_hf_llava_lvlm

        model, tokenizer, name = load_hf_llava_lvlm(cfg.hf, cfg.question_prompt)
        template, question_prompt, explain = get_template(name), cfg.question_prompt, "Explain why."
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.to(device).eval()
    generator = Generator(model, tokenizer, template, model.vision_tower.image_transform(), settings, question_prompt)
    return generator, cfg.explain_prompt or explain


def stream(generator: Generator, conv: Conversation) -> str:
    streamer = AnswerStreamer(generator.tokenizer, generator.template.stop_strings)
    (answer,) = generator.generate_conversations([conv], streamer=streamer)  # stops on the end-of-turn token
    sys.stdout.write("\n")
    return answer


def ask_one(generator: Generator, image: str, prompt: str, explain_prompt: str | None) -> str:
    if not Path(image).is_file():
        raise MissingFileError(f"image not found: {image}")
    conv = generator.conversation(prompt, image)
    answer = stream(generator, conv)
    if explain_prompt:
        follow_up = [Turn.assistant(Part(answer)), Turn.user(explain_prompt)]
        print(f"[{explain_prompt}]")
        stream(generator, replace(conv, turns=[*conv.turns, *follow_up]))
    print(answer)
    return answer


def read_questions(path: Path) -> list[dict]:
    if not path.is_file():
        raise MissingFileError(f"questions file not found: {path}")
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{number}: not JSON: {e}") from e
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: expected a JSON object with 'image' and 'question'")
        missing = [k for k in ("image", "question") if not isinstance(record.get(k), str)]
        if missing:
            raise InputError(f"{path}:{number}: missing {missing} (each line needs 'image' and 'question')")
        image = Path(record["image"])
        image = image if image.is_absolute() else path.parent / image
        if not image.is_file():
            raise MissingFileError(f"{path}:{number}: image not found: {image}")
        records.append({"id": record.get("id", str(number)), **record, "image": str(image)})
    if not records:
        raise InputError(f"{path}: no questions (one JSON object a line, with 'image' and 'question')")
    return records


def ask_many(generator: Generator, records: list[dict], path: Path, out: Path, explain_prompt: str | None) -> Path:
    answers = generator.generate([(r["question"], r["image"]) for r in records])
    rationales: list[str | None] = [None] * len(records)
    if explain_prompt:
        convs = [
            Conversation(
                id=r["id"],
                turns=[
                    *generator.conversation(r["question"], r["image"]).turns,
                    Turn.assistant(Part(a)),
                    Turn.user(explain_prompt),
                ],
                image=r["image"],
            )
            for r, a in zip(records, answers, strict=True)
        ]
        bs = generator.settings.batch_size
        rationales = [t for i in range(0, len(convs), bs) for t in generator.generate_conversations(convs[i : i + bs])]
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w") as f:
        for record, answer, rationale in zip(records, answers, rationales, strict=True):
            row = {**record, "answer": answer} | ({"rationale": rationale} if rationale is not None else {})
            f.write(json.dumps(row) + "\n")
    tmp.replace(out)  # whole or not at all
    print(f"[reverie] answered {len(records)} questions from {path}")
    return out


@hydra.main(version_base="1.3", config_path="conf", config_name="generate")
@user_errors
def main(cfg: DictConfig) -> None:
    one = cfg.image is not None or cfg.prompt is not None
    if one == (cfg.questions is not None) or (one and (cfg.image is None or cfg.prompt is None)):
        raise InputError("ask either one question (image=PATH prompt=TEXT) or many (questions=FILE.jsonl)")
    if (cfg.run_dir is None) == (cfg.hf is None):
        raise InputError("give one model: run_dir=RUN (a reverie run) or hf=FOLDER (a Hugging Face LLaVA folder)")
    if one:
        if not Path(cfg.image).is_file():
            raise MissingFileError(f"image not found: {cfg.image}")
        generator, explain_prompt = load_generator(cfg)
        ask_one(generator, cfg.image, cfg.prompt, explain_prompt if cfg.explain else None)
        return
    path = Path(cfg.questions)
    out = Path(cfg.out) if cfg.out else path.with_name(f"{path.stem}.answers.jsonl")
    records = read_questions(path)  # before loading the model: a bad file fails at once
    check_not_input("out", out, {"questions": path, **{f"image of line {r['id']}": r["image"] for r in records}})
    check_new_files("out", [out], cfg.overwrite)
    generator, explain_prompt = load_generator(cfg)
    print(ask_many(generator, records, path, out, explain_prompt if cfg.explain else None).resolve())


if __name__ == "__main__":
    main()
