"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests: scripted annotator replies per image,
including faults (429, 500, malformed JSON, slow replies), and a log of every request it received."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# What a scripted reply can be: ("ok", text) | ("status", code) | ("slow", seconds, text)
Action = tuple


@dataclass
class Seen:
    """One request as the server saw it."""

    identity: str  # sha256 of (model, messages): the same request sent twice has the same identity
    step: str
    image: str | None
    attempt: int  # how many times this identity had been seen before
    status: int
    authorized: bool
    response_id: str | None
    prompt: str
    tokens_in: int = 0
    tokens_out: int = 0


def step_of(prompt: str) -> str:
    """Which pipeline step a prompt belongs to (the paper's prompts)."""
    if "question-answer generator" in prompt:
        return "qa"
    if "leading to the correct answer" in prompt:
        return "positive"
    if "Incorrect Answer:" in prompt:
        return "negative"
    if "contradiction" in prompt:
        return "judge"
    raise ValueError(f"unknown prompt: {prompt[:60]!r}")


def field(prompt: str, label: str) -> str:
    """The value after 'label: ' on its (last) line of the prompt: the judge's prompt explains its labels first."""
    for line in reversed(prompt.splitlines()):
        if line.startswith(label + ": "):
            return line[len(label) + 2 :]
    raise KeyError(label)


class Stub:
    """The server; ``script(step, image, prompt, attempt) -> Action`` decides each reply."""

    def __init__(self, key: str | None, images: dict[str, str], script: Callable[..., Action]) -> None:
        self.key, self.images, self.script = key, images, script
        self.seen: list[Seen] = []
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                stub._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = json.loads(h.rfile.read(int(h.headers["Content-Length"])))
        content = body["messages"][0]["content"]
        prompt = next(c["text"] for c in content if c["type"] == "text")
        urls = [c["image_url"]["url"] for c in content if c["type"] == "image_url"]
        image = self.images[urls[0].split(",", 1)[1]] if urls else None
        identity = hashlib.sha256(json.dumps([body["model"], body["messages"]], sort_keys=True).encode()).hexdigest()
        authorized = self.key is None or h.headers.get("Authorization") == f"Bearer {self.key}"
        step = step_of(prompt)
        with self._lock:
            attempt = self._attempts[identity]
            self._attempts[identity] += 1
            seen = Seen(identity, step, image, attempt, 200, authorized, None, prompt)
            self.seen.append(seen)
            n = len(self.seen)
        action = self.script(step, image, prompt, attempt) if authorized else ("status", 401)
        if action[0] == "status":
            seen.status = action[1]
            return _send(h, action[1], {"error": {"message": f"scripted {action[1]}"}}, {"retry-after-ms": "5"})
        if action[0] == "slow":
            time.sleep(action[1])
            action = ("ok", action[2])
        text = action[1]
        seen.response_id = f"chatcmpl-{n}"
        seen.tokens_in, seen.tokens_out = len(prompt) // 4 + 1, len(text) // 4 + 1
        reply = {
            "id": seen.response_id,
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": seen.tokens_in,
                "completion_tokens": seen.tokens_out,
                "total_tokens": seen.tokens_in + seen.tokens_out,
            },
        }
        try:
            _send(h, 200, reply)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout) or was killed
            seen.status = -1


def _send(h: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
    data = json.dumps(payload).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(data)


def image_index(folder: Path) -> dict[str, str]:
    """base64 of each image file -> its name, so the stub knows which image a request shows."""
    import base64

    return {base64.b64encode(p.read_bytes()).decode("ascii"): p.name for p in sorted(folder.iterdir())}
