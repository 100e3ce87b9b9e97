"""The four prompts (questions, positive and negative rationale, consistency judge), from config, with named
placeholders. Only the placeholders a prompt needs are filled, so literal braces in the text (the paper's QA prompt
shows ``[{question1, correct answer1, confusing answer1}, ...]``) stay as written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from omegaconf import OmegaConf

from reverie.errors import InputError

# Placeholders each prompt must contain (a prompt that lacks one would silently ignore what it should show).
REQUIRED: dict[str, tuple[str, ...]] = {
    "qa": ("num_questions",),
    "positive": ("question", "answer"),
    "negative": ("question", "answer"),
    "judge": ("question", "correct_answer", "correct_rationale", "confusing_answer", "incorrect_rationale"),
}


@dataclass(frozen=True)
class Prompts:
    """The pipeline's prompts; defaults live in ``conf/annotate.yaml`` (the paper's wording)."""

    qa: str
    positive: str
    negative: str
    judge: str

    def __post_init__(self) -> None:
        for step, names in REQUIRED.items():
            text = getattr(self, step)
            missing = [n for n in names if "{" + n + "}" not in text]
            if missing:
                raise InputError(f"prompts.{step} lacks the placeholder(s) {', '.join('{' + n + '}' for n in missing)}")

    def render(self, step: str, **values: Any) -> str:
        """The prompt of ``step`` with its placeholders replaced by ``values``."""
        pattern = re.compile(r"\{(" + "|".join(REQUIRED[step]) + r")\}")
        return pattern.sub(lambda m: str(values[m.group(1)]), getattr(self, step))  # one pass: values stay verbatim

    @classmethod
    def default(cls) -> Prompts:
        """The shipped prompts (``prompts`` in ``reverie/conf/annotate.yaml``)."""
        conf = resources.files("reverie") / "conf" / "annotate.yaml"
        node = OmegaConf.create(conf.read_text(encoding="utf-8"))["prompts"]
        return cls(**{k: v for k, v in OmegaConf.to_container(node).items() if k != "_target_"})
