"""LLaVA-1.5's format instructions in the world's training questions: the short-answer suffix on a share of the dense
questions, and a multiple-choice file asked with the option-letter instruction. Every answer checked against the scene.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from world_oracle import Oracle, read_json

from reverie.eval.tasks.mcq import PROMPT_SUFFIX, MultipleChoiceTask
from reverie.world import WorldConfig, build_world, load_manifest
from reverie.world.exports.llava import VQA_SUFFIX
from reverie.world.exports.mcq import MC_SUFFIX

SUFFIX = f"\n{VQA_SUFFIX}"
EVAL_CONF = Path(__file__).parents[2] / "reverie" / "conf" / "eval"


def _questions(world: dict[str, Path]) -> list[tuple[str, str]]:
    return [
        tuple(t["value"] for t in s["conversations"])
        for split in ("train", "val", "test")
        for s in read_json(world[f"llava.questions.{split}"])
    ]


def test_the_world_asks_with_the_instructions_the_harnesses_and_reverie_eval_use() -> None:
    assert MC_SUFFIX == PROMPT_SUFFIX == "Answer with the option's letter from the given choices directly."
    assert VQA_SUFFIX == "Answer the question using a single word or phrase."
    assert OmegaConf.load(EVAL_CONF / "none.yaml").short_answer_suffix == SUFFIX  # LLaVA's POPE prompt


def test_suffix_share_adds_the_instruction_and_changes_nothing_else(tmp_path: Path) -> None:
    def build(share: float) -> list[tuple[str, str]]:
        out = tmp_path / str(share)
        build_world(out, WorldConfig(num_images=60, seed=2, questions_per_image=20, questions_suffix_share=share))
        return _questions(load_manifest(out))

    bare, some = build(0.0), build(0.4)
    assert not any(SUFFIX in q for q, _ in bare)
    suffixed = [q.endswith(SUFFIX) for q, _ in some]
    assert abs(sum(suffixed) / len(some) - 0.4) < 0.05, sum(suffixed) / len(some)  # 1,200 questions
    assert [(q.removesuffix(SUFFIX), a) for q, a in some] == bare  # same questions and answers, own random stream
    assert all(len(a.split()) <= 4 for (q, a), s in zip(some, suffixed, strict=True) if s)  # a single word or phrase


def test_mcq_training_samples_are_asked_like_the_eval_task_and_answered_right(
    world: dict[str, Path], oracle: Oracle, world_cfg: WorldConfig, tmp_path: Path
) -> None:
    kinds, rows, prompts = set(), [], []
    for split in ("train", "val", "test"):
        samples = read_json(world[f"llava.mcq.{split}"])
        assert len(samples) == world_cfg.mcq_train_per_image * len({s["image"] for s in samples})
        for s in samples:
            (probe,) = s["probes"]
            kinds.add(probe["kind"])
            prompt, letter = (t["value"] for t in s["conversations"])
            assert prompt.startswith("<image>\n") and prompt.endswith(f"\n{MC_SUFFIX}")
            assert letter in "ABCD"[: len(probe["options"])]
            assert oracle.letter_option(letter, probe["options"]) == oracle.value_truth(s["image"], probe), s
            stem, *options = prompt.removeprefix("<image>\n").split("\n")[:-1]
            rows.append(
                {"question_id": s["id"], "question": stem, "options": [o[3:] for o in options], "answer": letter}
            )
            prompts.append(prompt.removeprefix("<image>\n"))
    assert {"identity", "existence"} <= kinds
    path = tmp_path / "mcq.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    asked = MultipleChoiceTask(path).questions  # ids must be unique, and the prompts are the eval task's own
    assert [(q.prompt, q.label) for q in asked] == [(p, row["answer"]) for p, row in zip(prompts, rows, strict=True)]


@pytest.mark.parametrize(
    ("options", "message"),
    [({"questions_suffix_share": 1.5}, "questions_suffix_share"), ({"mcq_train_per_image": -1}, "mcq_train_per_image")],
)
def test_bad_format_options_raise(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_world(tmp_path / "w", WorldConfig(**options))
