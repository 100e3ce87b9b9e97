"""Reading evaluation inputs with errors that name the file and line at fault."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from reverie.errors import InputError


class EvalDataError(InputError):
    """A bad evaluation input; the message starts with ``file:line``."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


def read_json(path: str | Path) -> Any:
    """A whole JSON file; a missing file or malformed JSON raises naming the file (and the line)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise EvalDataError(path, None, "file not found") from error
    except json.JSONDecodeError as error:
        raise EvalDataError(path, error.lineno, f"malformed JSON: {error.msg}") from error


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; malformed JSON raises with its line."""
    path = Path(path)
    if not path.is_file():
        raise EvalDataError(path, None, "file not found")
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as error:
                raise EvalDataError(path, number, f"malformed JSON: {error.msg}") from error
            if not isinstance(row, dict):
                raise EvalDataError(path, number, f"expected a JSON object, got {type(row).__name__}")
            yield number, row


def read_tsv(path: str | Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)`` for a TSV with a header row (MMBench layout); empty cells become ``""``."""
    path = Path(path)
    if not path.is_file():
        raise EvalDataError(path, None, "file not found")
    csv.field_size_limit(sys.maxsize)  # MMBench stores base64 images in a cell
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        for row in reader:
            yield reader.line_num, {key: value or "" for key, value in row.items()}


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """JSONL, or TSV when the file name ends in ``.tsv``."""
    return read_tsv(path) if str(path).endswith(".tsv") else read_jsonl(path)


def require(row: Mapping[str, Any], keys: Sequence[str], path: str | Path, line: int) -> None:
    """Raise naming the first of ``keys`` missing from ``row``."""
    for key in keys:
        if key not in row or row[key] is None:
            raise EvalDataError(path, line, f"missing key {key!r}")


def resolve_image(name: str, image_dir: str | Path, path: str | Path, line: int | None) -> Path:
    """Absolute path of ``name`` (absolute, or relative to ``image_dir``); raise if the file does not exist."""
    image = Path(name)
    if not image.is_absolute():
        image = Path(image_dir) / image
    try:
        found = image.is_file()
    except OSError as error:  # e.g. a name too long to be a path
        raise EvalDataError(path, line, f"image is not a valid path: {error.strerror}") from error
    if not found:
        raise EvalDataError(path, line, f"image file not found: {image.resolve()}")
    return image.resolve()


def normalize_yes_no(value: Any, path: str | Path, line: int) -> str:
    """A ground-truth yes/no label as ``"yes"``/``"no"``; anything else raises."""
    label = str(value).strip().lower()
    if label not in ("yes", "no"):
        raise EvalDataError(path, line, f"label must be yes or no, got {value!r}")
    return label
