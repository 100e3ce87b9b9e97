"""Any OpenAI-compatible chat-completions server (vLLM, llama.cpp's server, SGLang, a hosted API) as annotator.

The image goes as a base64 data URL before the prompt text. The openai client retries 429, 5xx, timeouts and
connection errors with exponential backoff (or the server's Retry-After); a request still failing after
``max_retries`` is a TransientError (counted, not cached). 401/403/404 stop the run: no request could succeed.
The API key is read from the environment variable named by ``api_key_env`` and is kept out of every message.
"""

from __future__ import annotations

import base64
import mimetypes
import os
from pathlib import Path
from typing import Any

import openai

from reverie.annotate.backends.base import Reply, Request, TransientError
from reverie.errors import InputError

_FATAL = (401, 403, 404)  # wrong key, no access, wrong URL or model: stop at once


class OpenAIChat:
    """Chat completions, one request per call, ``concurrency`` calls in flight."""

    batch_size = 1

    def __init__(
        self,
        model: str,
        base_url: str = "http://localhost:8000/v1",
        api_key_env: str | None = "OPENAI_API_KEY",
        judge_model: str | None = None,
        temperature: float = 0.4,
        max_tokens: int = 1024,
        concurrency: int = 8,
        timeout_s: float = 120.0,
        max_retries: int = 5,
        extra_body: dict[str, Any] | None = None,
        id_prefix: str = "",
    ) -> None:
        key = None
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise InputError(
                    f"annotator.api_key_env: the environment variable {api_key_env} is not set; export it, or set "
                    "annotator.api_key_env=null for a server that needs no key"
                )
        self._secret = key
        self.model, self.judge_model, self.base_url = model, judge_model, base_url
        self.concurrency, self.id_prefix, self.max_retries = max(1, concurrency), id_prefix, max_retries
        self.extra_body = dict(extra_body or {})
        self.settings = {"temperature": temperature, "max_tokens": max_tokens, "extra_body": self.extra_body}
        self._client = openai.OpenAI(
            base_url=base_url, api_key=key or "no-key", timeout=timeout_s, max_retries=max_retries
        )

    def model_for(self, step: str) -> str:
        return self.judge_model if step == "judge" and self.judge_model else self.model

    def complete(self, requests: list[Request]) -> list[Reply]:
        return [self._one(r) for r in requests]

    def close(self) -> None:
        self._client.close()

    def _one(self, r: Request) -> Reply:
        content: list[dict[str, Any]] = []
        if r.image is not None:
            content.append({"type": "image_url", "image_url": {"url": data_url(r.image)}})
        content.append({"type": "text", "text": r.prompt})
        try:
            raw = self._client.chat.completions.with_raw_response.create(
                model=self.model_for(r.step),
                messages=[{"role": "user", "content": content}],
                temperature=self.settings["temperature"],
                max_tokens=self.settings["max_tokens"],
                extra_body=self.extra_body or None,
            )
            completion = raw.parse()
        except openai.APIStatusError as err:
            message = self._redact(f"{self.base_url}: HTTP {err.status_code}: {err.message}")
            if err.status_code in _FATAL:
                raise RuntimeError(f"the annotator server refused the request ({message})") from None
            retried = err.status_code in (408, 409, 429) or err.status_code >= 500
            raise TransientError(message, self.max_retries if retried else 0) from None
        except openai.APIConnectionError as err:  # timeouts included
            raise TransientError(self._redact(f"{self.base_url}: {err}"), self.max_retries) from None
        choice = completion.choices[0] if completion.choices else None
        usage = completion.usage
        return Reply(
            text=self._redact((choice.message.content if choice is not None else None) or ""),
            tokens_in=usage.prompt_tokens if usage else None,
            tokens_out=usage.completion_tokens if usage else None,
            retries=getattr(raw, "retries_taken", 0),  # reported by openai-python >= 1.45
            response_id=completion.id,
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def data_url(path: Path) -> str:
    """The image file as a base64 data URL (its MIME type from the extension)."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
