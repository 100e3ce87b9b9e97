"""Batched generation for evaluation: chat-template prompts, LEFT padding, KV cache, greedy by default.

Batched answers equal batch-size-1 answers (tested): left padding with a correct attention mask means padding never
changes what a prompt's tokens attend to. Generation stops on the template's end-of-turn token (which the model was
trained to emit) or the tokenizer's end of text, and an answer is the decoded tokens before that token: no text is cut
after decoding. Cutting at stop strings stays as a guard only; `stats` counts how often it changed an answer and how
many answers ran to the token limit instead of stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch

from reverie.data.conversation import IMAGE_PLACEHOLDER, Conversation, Turn
from reverie.data.images import ImageCache
from reverie.data.encode import SampleEncoder
from reverie.data.templates import ChatTemplate
from reverie.models.lvlm import LVLM


@dataclass
class GenerationSettings:
    max_new_tokens: int = 32  # longest answer generated
    do_sample: bool = False  # greedy (False) or sampling
    temperature: float = 1.0  # sampling only
    top_p: float = 1.0  # sampling only
    batch_size: int = 32  # prompts per generate call
    seed: int = 0  # sampling seed, recorded with every result

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class GenerationStats:
    """What generation did, summed over calls: answers that stopped on a stop token, ran to the limit, or were changed
    by the text guard (a stop string inside the decoded answer: zero for a model that learned its template)."""

    answers: int = 0
    stopped: int = 0
    hit_limit: int = 0
    cut_by_guard: int = 0
    guard_examples: list[str] = field(default_factory=list)  # first few raw answers the guard changed

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "guard_examples"}


class Generator:
    def __init__(
        self,
        model: LVLM,
        tokenizer,
        template: ChatTemplate,
        image_transform: Callable,
        settings: GenerationSettings,
        question_prompt: str = f"{IMAGE_PLACEHOLDER}\n{{question}}",
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.image_transform = image_transform
        self.images = ImageCache(image_transform)  # an image asked about several times is decoded once
        self.settings = settings
        self.question_prompt = question_prompt
        self.encoder = SampleEncoder(tokenizer, template, model.num_image_tokens, max_length=1 << 30)
        stop_ids = {self.encoder.end_of_turn_id, tokenizer.eos_token_id}  # the end of turn is found by encoding
        self.eos_ids = sorted(i for i in stop_ids if i is not None)
        self.stats = GenerationStats()

    def conversation(self, prompt: str, image: str | None) -> Conversation:
        """A one-turn question, laid out as in training (`question_prompt` places the image)."""
        text = self.question_prompt.format(question=prompt) if image else prompt
        return Conversation(id=prompt[:40], turns=[Turn.user(text)], image=image)

    def conversation_ids(self, conv: Conversation) -> list[int]:
        """Token ids of a conversation with the assistant's next turn left open."""
        return [i for _, ids in self.encoder.tokenized_pieces(conv, generation_prompt=True) for i in ids]

    def prompt_ids(self, prompt: str, image: str | None) -> list[int]:
        return self.conversation_ids(self.conversation(prompt, image))

    def _batch(self, items: Sequence[tuple[str, str | None]]) -> list[str]:
        return self.generate_conversations([self.conversation(p, img) for p, img in items])

    def generate_conversations(self, convs: Sequence[Conversation], **generate_kwargs) -> list[str]:
        """One batch: the next assistant turn of each conversation (its image, if any, is loaded from disk)."""
        device = next(self.model.parameters()).device
        rows = [self.conversation_ids(c) for c in convs]
        width = max(map(len, rows))
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
        images = [self.images(c.image, c.id) for c in convs if c.image]
        pixels = torch.stack(images).to(device) if images else None
        s = self.settings
        sampling = {"temperature": s.temperature, "top_p": s.top_p} if s.do_sample else {}
        out = self.model.generate(
            input_ids,
            mask,
            pixels,
            max_new_tokens=s.max_new_tokens,
            do_sample=s.do_sample,
            eos_token_id=self.eos_ids,
            pad_token_id=pad,
            **sampling,
            **generate_kwargs,
        )
        return [self.answer(row) for row in out.tolist()]

    def answer(self, new_ids: list[int]) -> str:
        """The decoded tokens before the first stop token, stripped; counted in `stats`. The text guard (`cut`) should
        change nothing: when it does, the model wrote a stop string as text, and that is counted."""
        stops = set(self.eos_ids)
        end = next((i for i, t in enumerate(new_ids) if t in stops), None)
        self.stats.answers += 1
        if end is None:
            self.stats.hit_limit += 1
        else:
            self.stats.stopped += 1
        text = self.tokenizer.decode(new_ids[:end], skip_special_tokens=False).strip()
        guarded = self.cut(text)
        if guarded != text:
            self.stats.cut_by_guard += 1
            if len(self.stats.guard_examples) < 5:
                self.stats.guard_examples.append(text)
        return guarded

    def cut(self, text: str) -> str:
        """Guard: text before the first stop string (end of turn, end of text, padding), stripped."""
        for stop in (*self.template.stop_strings, self.tokenizer.eos_token, self.tokenizer.pad_token):
            if stop:
                text = text.split(stop, 1)[0]
        return text.strip()

    @torch.no_grad()
    def generate(self, items: Sequence[tuple[str, str | None]]) -> list[str]:
        """(user prompt, image path or None) -> decoded answers, in order."""
        was_training = self.model.training
        self.model.eval()
        torch.manual_seed(self.settings.seed)
        guarded = self.stats.cut_by_guard
        order = sorted(range(len(items)), key=lambda i: len(items[i][0]))  # similar lengths share a batch
        results: list[str] = [""] * len(items)
        bs = self.settings.batch_size
        for start in range(0, len(order), bs):
            chunk = order[start : start + bs]
            for i, text in zip(chunk, self._batch([items[i] for i in chunk]), strict=True):
                results[i] = text
        self.model.train(was_training)
        if self.stats.cut_by_guard > guarded:
            print(
                f"[reverie] generation: {self.stats.cut_by_guard - guarded} of {len(items)} answers held a stop string "
                f"as text and were cut after decoding (e.g. {self.stats.guard_examples[-1]!r})"
            )
        return results
