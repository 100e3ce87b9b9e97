"""Batched generation for evaluation: chat-template prompts, LEFT padding, KV cache, greedy by default.

Batched answers equal batch-size-1 answers (tested): left padding with a correct attention mask means padding never
changes what a prompt's tokens attend to. Questions about one image share a batch, and (`share_prefix`) the part of
the prompt all rows have in common (template, image, question lead-in) is encoded once per distinct image; its KV cache
is copied to that image's rows and each row's own remainder follows, padded in the middle (positions come from the
attention mask, so every token keeps the position it has alone). Generation stops on the template's end-of-turn token (which the model was
trained to emit) or the tokenizer's end of text, and an answer is the decoded tokens before that token: no text is cut
after decoding. Cutting at stop strings stays as a guard only; `stats` counts how often it changed an answer and how
many answers ran to the token limit instead of stopping.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch

from reverie.data.conversation import IMAGE_PLACEHOLDER, Conversation, Turn
from reverie.data.encode import SampleEncoder
from reverie.data.images import ImageCache
from reverie.data.templates import ChatTemplate
from reverie.models.lvlm import LVLM


@dataclass
class GenerationSettings:
    max_new_tokens: int = 32  # longest answer generated
    do_sample: bool = False  # greedy (False) or sampling
    temperature: float = 1.0  # sampling only
    top_p: float = 1.0  # sampling only
    batch_size: int = 32  # prompts per generate call
    share_prefix: bool = True  # encode the prompt part all rows share once per distinct image (same answers)
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
    shared_prefix_rows: int = 0  # rows whose common prompt prefix was encoded once per image
    prefix_encodings: int = 0  # prefix forward rows (distinct images of those batches)
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
        rows = [self.conversation_ids(c) for c in convs]
        s = self.settings
        kwargs = {
            "max_new_tokens": s.max_new_tokens,
            "do_sample": s.do_sample,
            "eos_token_id": self.eos_ids,
            "pad_token_id": self.tokenizer.pad_token_id,
            **({"temperature": s.temperature, "top_p": s.top_p} if s.do_sample else {}),
            **generate_kwargs,
        }
        shared = self._shared_length(rows, convs) if s.share_prefix and len(rows) > 1 else 0
        out = (
            self._generate_shared(rows, convs, shared, kwargs) if shared else self._generate_plain(rows, convs, kwargs)
        )
        return [self.answer(row) for row in out.tolist()]

    def _generate_plain(self, rows: list[list[int]], convs: Sequence[Conversation], kwargs: dict) -> torch.Tensor:
        device = next(self.model.parameters()).device
        width = max(map(len, rows))
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
        images = [self.images(c.image, c.id) for c in convs if c.image]
        pixels = torch.stack(images).to(device) if images else None
        return self.model.generate(input_ids, mask, pixels, **kwargs)

    def _shared_length(self, rows: list[list[int]], convs: Sequence[Conversation]) -> int:
        """Length of the token prefix every row shares, if it holds all image tokens and leaves each row one token of
        its own; else 0 (the plain path)."""
        if not all(c.image for c in convs):
            return 0
        length = min(len(r) for r in rows) - 1
        first = rows[0]
        for r in rows[1:]:
            length = next((i for i in range(length) if r[i] != first[i]), length)
        image_id = self.model.image_token_id
        last_image = max(max(i for i, t in enumerate(r) if t == image_id) for r in rows)
        return length if length > last_image else 0

    def _generate_shared(
        self, rows: list[list[int]], convs: Sequence[Conversation], shared: int, kwargs: dict
    ) -> torch.Tensor:
        device = next(self.model.parameters()).device
        paths = list(dict.fromkeys(c.image for c in convs))  # distinct images, in order of first use
        first_use = {c.image: c for c in reversed(convs)}
        pixels = torch.stack([self.images(p, first_use[p].id) for p in paths]).to(device)
        prefix = torch.tensor([rows[0][:shared]] * len(paths), device=device)
        embeds = self.model.embed(prefix, pixels)
        cache = self.model.decoder()(inputs_embeds=embeds, attention_mask=torch.ones_like(prefix), use_cache=True).cache
        cache.batch_select_indices(torch.tensor([paths.index(c.image) for c in convs], device=device))
        width = max(len(r) for r in rows) - shared
        pad = self.tokenizer.pad_token_id
        ids = [r[:shared] + [pad] * (width - len(r) + shared) + r[shared:] for r in rows]
        mask = [[1] * shared + [0] * (width - len(r) + shared) + [1] * (len(r) - shared) for r in rows]
        self.stats.shared_prefix_rows += len(rows)
        self.stats.prefix_encodings += len(paths)
        out = self.model.language_model.generate(
            input_ids=torch.tensor(ids, device=device),
            attention_mask=torch.tensor(mask, device=device),
            cache=cache,
            **kwargs,
        )
        return out[:, shared + width :]

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
        # An image's questions share a batch (their prefix is encoded once), similar lengths next to each other.
        order = sorted(range(len(items)), key=lambda i: (items[i][1] or "", len(items[i][0])))
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
