"""An append-only JSONL cache of finished requests, keyed by (step, image, prompt, model, generation settings).

Each finished request is one line, written whole and flushed before the next, so a killed run loses at most the
requests in flight; the next run reads the file and sends only what it lacks. A torn last line is skipped (counted).
Lines hold the reply (or the failure) but never a credential.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any


def request_key(step: str, image: str | None, image_sha: str | None, prompt: str, model: str, settings: dict) -> str:
    """The identity of a request: what was asked, of which image (name and content), by which model, how."""
    identity = {
        "step": step,
        "image": image,
        "image_sha256": image_sha,
        "prompt": prompt,
        "model": model,
        "settings": settings,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Cache:
    """Finished requests by key; ``put`` appends a line at once (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.torn_lines = 0  # unreadable lines (a run killed while writing one), skipped
        if path.is_file():
            with path.open("r", encoding="utf-8") as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                        self.entries[entry["key"]] = entry
                    except (json.JSONDecodeError, KeyError, TypeError):
                        self.torn_lines += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        torn_tail = path.is_file() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        self._file = path.open("a", encoding="utf-8", newline="\n")
        if torn_tail:  # end the torn line, so the next entry starts a line of its own
            self._file.write("\n")
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def put(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.entries[entry["key"]] = entry
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        self._file.close()
