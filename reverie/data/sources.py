"""Readers for the data formats users already have (LLaVA JSON, REVERIE JSON), validated record by record.

Every error names the file, the record's index and the offending key, so a bad record is found in seconds.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reverie.data.conversation import IMAGE_PLACEHOLDER, Conversation, Part, Segment, Turn
from reverie.errors import InputError, MissingFileError, UnknownKeyError

REVERIE_KEYS = ("question", "correct_answer", "confusing_answer", "correct_rationale", "incorrect_rationale")
LLAVA_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


@dataclass(frozen=True)
class ReverieRecord:
    """One REVERIE instruction: a question, its correct and confusing answers, and both rationales."""

    id: str
    image: str | None
    question: str
    correct_answer: str
    confusing_answer: str
    correct_rationale: str
    incorrect_rationale: str
    origin: str


def read_json_list(path: str | Path) -> list[Any]:
    """A JSON file holding a list; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"data file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of records, got {type(data).__name__}")
    return data


def _resolve_image(record: dict, origin: str, image_root: str | Path | None) -> str | None:
    image = record.get("image")
    if image is None:
        return None
    if not isinstance(image, str) or not image:
        raise InputError(f"{origin}: key 'image' must be a non-empty string, got {image!r}")
    path = Path(image_root) / image if image_root is not None else Path(image)
    if not path.is_file():
        raise MissingFileError(f"{origin}: key 'image': file not found: {path}")
    return str(path.resolve())


def text_field(record: dict, key: str, origin: str) -> str:
    if key not in record:
        raise UnknownKeyError(f"{origin}: missing key {key!r}")
    value = record[key]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{origin}: key {key!r} must be a non-empty string, got {value!r}")
    return value


def load_llava_json(path: str | Path, image_root: str | Path | None = None) -> list[Conversation]:
    """LLaVA conversation records -> conversations; assistant text is tagged `other` (it is not a REVERIE answer)."""
    conversations = []
    for index, record in enumerate(read_json_list(path)):
        origin = f"{path}#{index}"
        if not isinstance(record, dict):
            raise InputError(f"{origin}: record must be an object, got {type(record).__name__}")
        turns_in = record.get("conversations")
        if not isinstance(turns_in, list) or not turns_in:
            raise InputError(f"{origin}: key 'conversations' must be a non-empty list")
        image = _resolve_image(record, origin, image_root)
        turns = []
        for t, turn in enumerate(turns_in):
            where = f"{origin}: conversations[{t}]"
            if not isinstance(turn, dict) or turn.get("from") not in LLAVA_ROLES:
                raise InputError(f"{where}: key 'from' must be one of {sorted(LLAVA_ROLES)}, got {turn!r:.80}")
            role = LLAVA_ROLES[turn["from"]]
            value = text_field(turn, "value", where)
            turns.append(
                Turn.assistant(Part(value, Segment.OTHER)) if role == "assistant" else Turn(role, (Part(value),))
            )
        if image is not None and not any(IMAGE_PLACEHOLDER in t.text for t in turns):
            # LLaVA's own convention: an image sample without a placeholder gets it before the first user text.
            first_user = next((i for i, t in enumerate(turns) if t.role == "user"), 0)
            turns[first_user] = Turn.user(f"{IMAGE_PLACEHOLDER}\n{turns[first_user].text}")
        conv = Conversation(id=str(record.get("id", index)), turns=turns, image=image, origin=origin)
        conv.validate()
        conversations.append(conv)
    return conversations


def load_reverie_json(path: str | Path, image_root: str | Path | None = None) -> list[ReverieRecord]:
    """REVERIE records (question, answers, rationales) with every text key checked to be non-empty."""
    records, same = [], []
    for index, record in enumerate(read_json_list(path)):
        origin = f"{path}#{index}"
        if not isinstance(record, dict):
            raise InputError(f"{origin}: record must be an object, got {type(record).__name__}")
        texts = {key: text_field(record, key, origin) for key in REVERIE_KEYS}
        if _same_answer(texts["correct_answer"], texts["confusing_answer"]):
            same.append(origin)
            continue
        records.append(
            ReverieRecord(
                id=str(record.get("id", index)),
                image=_resolve_image(record, origin, image_root),
                origin=origin,
                **texts,
            )
        )
    if same:  # nothing to contrast: no negative rationale, no preference pair
        warnings.warn(
            f"{path}: skipped {len(same)} of {len(same) + len(records)} REVERIE records whose confusing answer equals "
            f"the correct answer (e.g. {same[:3]})",
            stacklevel=2,
        )
    return records


def _same_answer(a: str, b: str) -> bool:
    """Equal up to case, surrounding space and a final full stop ("Yes." == "yes")."""
    return a.strip().rstrip(".").strip().casefold() == b.strip().rstrip(".").strip().casefold()
