"""Deterministic JSON writers: fixed key order, one record per line, UTF-8, '\\n' line ends."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _dump(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False)


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """One JSON object per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(_dump(record) + "\n")


def write_json_list(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """A JSON list written one element per line: valid JSON, still readable and diffable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [_dump(r) for r in records]
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write("[\n" + ",\n".join(lines) + ("\n]\n" if lines else "]\n"))


def write_json(path: Path, obj: Any) -> None:
    """A pretty-printed JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")
