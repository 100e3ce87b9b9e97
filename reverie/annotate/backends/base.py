"""What every annotator backend speaks: requests in, reply texts out, transport failures as TransientError."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

STEPS = ("qa", "positive", "negative", "judge")  # the pipeline's requests: questions, two rationales, the judge


@dataclass(frozen=True)
class Request:
    """One call to an annotator.

    ``prompt`` is the rendered prompt; ``image`` the image file (None for the text-only judge); ``fields`` the values
    the prompt was rendered from (image name, question, answers, rationales), which an oracle reads instead of text.
    """

    step: str
    prompt: str
    image: Path | None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    """A backend's answer to one request; token counts when the backend reports them."""

    text: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    retries: int = 0  # transport retries (429, 5xx, timeouts) the backend made before this reply
    response_id: str | None = None  # the server's id of the response, when it gives one


class TransientError(Exception):
    """A request that failed in transport after all retries (rate limit, server error, timeout). Not cached: a later
    run sends it again."""

    def __init__(self, message: str, retries: int = 0) -> None:
        super().__init__(message)
        self.retries = retries


class Backend(Protocol):
    """An annotator: answers batches of requests. ``settings`` (generation settings) and ``model_for`` are part of
    every cache key, so changing either sends the requests again."""

    batch_size: int  # requests per ``complete`` call
    concurrency: int  # ``complete`` calls in flight at once
    id_prefix: str  # prefix of record ids when the pipeline's ``id_prefix`` is null
    settings: dict[str, Any]

    def model_for(self, step: str) -> str: ...

    def complete(self, requests: list[Request]) -> list[Reply]: ...

    def close(self) -> None: ...
