"""The in-memory form every data source is turned into: conversations of turns made of segment-tagged parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

IMAGE_PLACEHOLDER = "<image>"


class Segment(IntEnum):
    """What a span of assistant text is, for per-segment loss weights and logging."""

    OTHER = 0  # template/format tokens, stop tokens, and assistant text that is not from a REVERIE record
    ANSWER = 1  # the response to the question
    POS_RATIONALE = 2  # why the correct answer is right
    NEG_RATIONALE = 3  # why the confusing answer is wrong

    @property
    def key(self) -> str:
        return self.name.lower()


SEGMENT_KEYS: tuple[str, ...] = tuple(s.key for s in Segment)


@dataclass(frozen=True)
class Part:
    """A piece of a turn's text with the segment it belongs to."""

    text: str
    segment: Segment = Segment.OTHER


@dataclass(frozen=True)
class Turn:
    """One message. Assistant turns are supervised; user and system turns never are."""

    role: str  # "system" | "user" | "assistant"
    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts)

    @classmethod
    def user(cls, text: str) -> Turn:
        return cls("user", (Part(text),))

    @classmethod
    def assistant(cls, *parts: Part) -> Turn:
        return cls("assistant", tuple(parts))


@dataclass
class Conversation:
    """A training sample before tokenisation; `origin` says where it came from ("file#index")."""

    id: str
    turns: list[Turn]
    image: str | None = None  # absolute path of the image file, or None for text-only samples
    origin: str = ""
    meta: dict = field(default_factory=dict)

    def validate(self) -> None:
        """Roles must alternate user/assistant (after an optional system turn) and end with the assistant."""
        turns = self.turns[1:] if self.turns and self.turns[0].role == "system" else self.turns
        if not turns:
            raise ValueError(f"{self.origin} (id={self.id}): conversation has no turns")
        for i, turn in enumerate(turns):
            expected = "user" if i % 2 == 0 else "assistant"
            if turn.role != expected:
                raise ValueError(
                    f"{self.origin} (id={self.id}): turn {i} has role {turn.role!r}, expected {expected!r} "
                    "(roles must alternate user, assistant, ... and end with the assistant)"
                )
        if turns[-1].role != "assistant":
            raise ValueError(f"{self.origin} (id={self.id}): conversation ends with a user turn")
        placeholders = sum(t.text.count(IMAGE_PLACEHOLDER) for t in self.turns)
        if self.image is not None and placeholders != 1:
            raise ValueError(
                f"{self.origin} (id={self.id}): has an image but {placeholders} {IMAGE_PLACEHOLDER} placeholders"
            )
        if self.image is None and placeholders:
            raise ValueError(f"{self.origin} (id={self.id}): has {IMAGE_PLACEHOLDER} but no image")
