"""Conversations -> token ids, labels (-100 where unsupervised) and per-token segment ids.

The image placeholder becomes `num_image_tokens` image-token ids, and the length is checked after that expansion.
Over-length samples are truncated after the image (never inside it) or skipped; every case is counted and reported,
and too many skips is an error rather than a silently smaller dataset. The template's end of turn must be one token
(checked at construction): it is supervised at the end of every answer, and generation stops on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from reverie.data.conversation import IMAGE_PLACEHOLDER, Conversation
from reverie.data.preference import side_of
from reverie.data.sample import IGNORE_INDEX, EncodedSample
from reverie.data.templates import ChatTemplate, Piece
from reverie.data.tokenizer import end_of_turn_id
from reverie.errors import InputError


@dataclass
class EncodeReport:
    """What happened to every conversation: kept as is, truncated, or skipped (and why)."""

    total: int = 0
    truncated: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> sample ids

    @property
    def num_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def summary(self) -> str:
        reasons = ", ".join(f"{len(v)} {k}" for k, v in self.skipped.items()) or "none"
        return f"{self.total} samples: {self.truncated} truncated, {self.num_skipped} skipped ({reasons})"


class SampleEncoder:
    """Tokenises conversations with a chat template; one instance per (tokenizer, template, image size)."""

    def __init__(
        self,
        tokenizer,
        template: ChatTemplate,
        num_image_tokens: int,
        max_length: int,
        overlength: Literal["truncate", "skip"] = "truncate",
        max_skip_fraction: float = 0.01,
    ) -> None:
        if overlength not in ("truncate", "skip"):
            raise ValueError(f"overlength={overlength!r}; expected 'truncate' or 'skip'")
        self.tokenizer = tokenizer
        self.template = template
        self.num_image_tokens = num_image_tokens
        self.max_length = max_length
        self.overlength = overlength
        self.max_skip_fraction = max_skip_fraction
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_PLACEHOLDER)
        if self.image_token_id is None or self.image_token_id == tokenizer.unk_token_id:
            raise ValueError(f"tokenizer has no {IMAGE_PLACEHOLDER} token")
        self.end_of_turn_id = end_of_turn_id(tokenizer, template)  # one token, or an error before any training
        self._cache: dict[str, list[int]] = {}

    def _ids(self, texts: list[str]) -> list[list[int]]:
        missing = sorted({t for t in texts if t not in self._cache and t != IMAGE_PLACEHOLDER})
        if missing:
            encoded = self.tokenizer(missing, add_special_tokens=False)["input_ids"]
            if len(self._cache) > 200_000:  # bound memory on huge datasets; template pieces are re-added at once
                self._cache.clear()
            self._cache.update(zip(missing, encoded, strict=True))
        return [
            [self.image_token_id] * self.num_image_tokens if t == IMAGE_PLACEHOLDER else self._cache[t] for t in texts
        ]

    def tokenized_pieces(self, conv: Conversation, generation_prompt: bool = False) -> list[tuple[Piece, list[int]]]:
        pieces = self.template.pieces(conv, generation_prompt=generation_prompt)
        return list(zip(pieces, self._ids([p.text for p in pieces]), strict=True))

    def encode(self, conv: Conversation, report: EncodeReport) -> EncodedSample | None:
        """One sample, or None when it is skipped (the reason goes into `report`)."""
        report.total += 1
        ids, labels, segments = [], [], []
        image_end = 0
        for piece, piece_ids in self.tokenized_pieces(conv):
            ids += piece_ids
            labels += piece_ids if piece.supervised else [IGNORE_INDEX] * len(piece_ids)
            segments += [int(piece.segment)] * len(piece_ids)
            if piece.role == "image":
                image_end = len(ids)
        if len(ids) > self.max_length:
            if self.overlength == "skip":
                report.skipped.setdefault("over max_length", []).append(conv.id)
                return None
            if image_end > self.max_length:
                report.skipped.setdefault("image span exceeds max_length", []).append(conv.id)
                return None
            ids, labels, segments = ids[: self.max_length], labels[: self.max_length], segments[: self.max_length]
            report.truncated += 1
        if all(label == IGNORE_INDEX for label in labels):
            report.skipped.setdefault("no supervised tokens left", []).append(conv.id)
            return None
        return EncodedSample(
            id=conv.id,
            input_ids=np.asarray(ids, dtype=np.int64),
            labels=np.asarray(labels, dtype=np.int64),
            segment_ids=np.asarray(segments, dtype=np.int64),
            image=conv.image,
            origin=conv.origin,
            preference=np.full(len(ids), side_of(conv), dtype=np.int64),
        )

    def encode_all(self, convs: list[Conversation], what: str = "data") -> tuple[list[EncodedSample], EncodeReport]:
        """Encode every conversation; raise if more than `max_skip_fraction` of them had to be skipped."""
        report = EncodeReport()
        self._ids([p.text for c in convs for p in self.template.pieces(c)])  # tokenise all distinct texts in one batch
        samples = [s for c in convs if (s := self.encode(c, report)) is not None]
        if report.total and report.num_skipped / report.total > self.max_skip_fraction:
            examples = {k: v[:5] for k, v in report.skipped.items()}
            raise InputError(
                f"{what}: {report.summary()} — more than max_skip_fraction={self.max_skip_fraction}. "
                f"Examples: {examples}. Raise data.max_length or fix the data."
            )
        return samples, report
