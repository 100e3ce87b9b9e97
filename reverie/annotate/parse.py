"""Model replies -> values: QA lists, rationales, judge verdicts. Obvious damage is repaired (code fences, text around
the JSON, Python-literal quotes, key spelling such as "correct answer1"); anything else raises MalformedReply, which
the runner answers by asking again."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

QA_KEYS = ("question", "correct_answer", "confusing_answer")
RESERVED = ("id", "image", "correct_rationale", "incorrect_rationale")  # record keys a QA item cannot set
_FENCE = re.compile(r"```[\w-]*\s*\n?(.*?)```", re.DOTALL)
_LABEL = re.compile(r"^\s*\**\s*rationale\s*\**\s*:\s*", re.IGNORECASE)


class MalformedReply(ValueError):
    """A reply that cannot be read as the step's output, even after the obvious repairs."""


def strip_fences(text: str) -> str:
    """The inside of the first fenced code block, or the text itself when it has none."""
    match = _FENCE.search(text)
    return match.group(1) if match else text


def extract_json(text: str) -> Any:
    """The JSON value in ``text``: as is, inside a code fence, or the outermost [...] / {...} span in prose.
    Python literals (single quotes, True/None) are accepted, as the paper's own scripts read them."""
    body = strip_fences(text).strip()
    candidates = [body]
    for open_, close in (("[", "]"), ("{", "}")):
        start, end = body.find(open_), body.rfind(close)
        if 0 <= start < end:
            candidates.append(body[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            pass
        try:
            return ast.literal_eval(candidate)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            pass
    raise MalformedReply(f"no JSON found in the reply ({_excerpt(text)})")


def normalize_key(key: str) -> str:
    """'Correct Answer1' -> 'correct_answer' (the paper's prompt literally shows numbered keys)."""
    return re.sub(r"[\s\-]+", "_", str(key).strip().lower()).rstrip("0123456789_")


def _answer(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str | int | float):
        return str(value).strip()
    raise MalformedReply(f"{where} must be text, got {type(value).__name__}")


def parse_qa(text: str, expected: int, accept_fewer: bool) -> list[dict[str, Any]]:
    """A list of 1..``expected`` items (exactly ``expected`` unless ``accept_fewer``), each with a non-empty
    question and both answer keys (an empty answer is kept here; the rules drop it, counted). Other keys are kept."""
    data = extract_json(text)
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(data) == 1 and len(lists) == 1:  # {"questions": [...]}
            data = lists[0]
        elif "question" in {normalize_key(k) for k in data}:
            data = [data]
    if not isinstance(data, list):
        raise MalformedReply(f"expected a JSON list of questions, got {type(data).__name__}")
    if not data or len(data) > expected or (len(data) < expected and not accept_fewer):
        raise MalformedReply(f"expected {expected} question(s), got {len(data)}")
    items = []
    for i, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise MalformedReply(f"item {i} is not an object but {type(raw).__name__}")
        item = {normalize_key(k): v for k, v in raw.items()}
        missing = [k for k in QA_KEYS if k not in item]
        if missing:
            raise MalformedReply(f"item {i}: missing key(s) {missing}; it has {sorted(item)}")
        question = _answer(item["question"], f"item {i}: question")
        if not question:
            raise MalformedReply(f"item {i}: empty question")
        out = {"question": question}
        out.update({k: _answer(item[k], f"item {i}: {k}") for k in QA_KEYS[1:]})
        out.update({k: v for k, v in item.items() if k not in QA_KEYS and k not in RESERVED})
        items.append(out)
    return items


def parse_rationale(text: str) -> str:
    """The rationale text: without a surrounding code fence or a leading 'Rationale:' label. May be empty (a rule
    drops empty rationales, counted)."""
    return _LABEL.sub("", strip_fences(text)).strip()


def parse_verdict(text: str) -> bool:
    """The judge's answer: True when it says the rationales contradict each other ('Yes'), False for 'No'."""
    word = re.sub(r"^[\s*_`'\"#>.-]+", "", strip_fences(text)).lower()
    if word.startswith("yes"):
        return True
    if word.startswith("no"):
        return False
    raise MalformedReply(f"the judge must answer Yes or No, got {_excerpt(text)}")


def _excerpt(text: str, n: int = 80) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= n else flat[:n] + "...")
