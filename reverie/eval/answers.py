"""Answer extraction: cut template stop strings, separate the answer from a trailing rationale, parse by named parser.

A reflective model may answer "No. There is no cup because ..." or "Yes, because ...". Scoring the whole text lets the
rationale's words decide the answer (LLaVA's POPE rule reads "not" anywhere in the first sentence as "no"), so the
answer span is separated first (``split_rationale``) and the parser only sees that span. Parsers are registered by
name so a config can pick one; the name travels with every result.

Harnesses read the same POPE outputs differently, so a figure names its parser (and its prompt):

- ``pope_llava`` (reverie's default): LLaVA's own rule, "no"/"not" in the first sentence -> no, else yes; never unknown.
- ``lmms_eval``: lmms-eval's POPE rule, the whole output lower-cased and stripped must be exactly "yes" or "no"
  ("Yes." or "No, there is none" count as neither). lmms-eval also leaves such answers out of precision and recall
  (reverie counts an unknown on a yes question as a miss), and its ``yes_ratio`` is the share of ground-truth "yes"
  (0.5 on balanced POPE whatever the model says), where reverie's ``yes_ratio`` is the share of *predicted* "yes".
- ``vlmevalkit``: VLMEvalKit's yes/no extraction, "yes" among the words and not "no" -> yes, the reverse -> no, else
  unknown (which VLMEvalKit may send to an LLM judge, when one is configured).

With a model that answers a bare "Yes"/"No" (what LLaVA's short-answer suffix asks for) the three agree.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

YES, NO, UNKNOWN = "yes", "no", "unknown"
LETTERS = string.ascii_uppercase
DEFAULT_STOP_STRINGS: tuple[str, ...] = (
    "</s>",
    "<|im_end|>",
    "<|eot_id|>",
    "<|endoftext|>",
    "<|end|>",
    "<end_of_turn>",
    "###",
    "USER:",
    "Human:",
)

ParserKind = Literal["yes_no", "choice"]
ParseFn = Callable[[str, Sequence[str]], str]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_LEADING_YES_NO = re.compile(r"^(yes|no)\b\s*[,;:!.\-–—]+\s*", re.IGNORECASE)
_RATIONALE_START = re.compile(
    r"\s*[,;:\-–—]?\s*\b(?=(?:because|since|given that|due to|as (?:there|it|the))\b)", re.IGNORECASE
)
_NEGATION = re.compile(r"\b(?:no|not)\b", re.IGNORECASE)
_LETTER_ONLY = re.compile(r"^\(?([A-Za-z])\)?[.):]?$")
_LETTER_IN_PHRASE = re.compile(r"(?i:\b(?:answer|option)(?:\s+is)?)\s*:?\s*\(?([A-Z])\)?(?![A-Za-z])")
_LETTER_LEADING = re.compile(r"^(?:\(([A-Z])\)|([A-Z])[.):,])\s*\S")
_EDGE_PUNCTUATION = " \t\n\"'`.,!?;:"
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class ExtractedAnswer:
    """The answer span of a model output and whatever followed it."""

    answer: str
    rationale: str


@dataclass(frozen=True)
class ParserSpec:
    """A registered parser: ``fn(answer_span, options) -> value`` for yes/no (``yes|no|unknown``) or letters."""

    name: str
    kind: ParserKind
    fn: ParseFn


@dataclass(frozen=True)
class ParsedAnswer:
    """Everything a record needs about one parsed output."""

    answer: str
    rationale: str
    value: str
    parser: str


PARSERS: dict[str, ParserSpec] = {}


def register_parser(name: str, kind: ParserKind) -> Callable[[ParseFn], ParseFn]:
    """Decorator adding ``fn`` to ``PARSERS`` under ``name``."""

    def add(fn: ParseFn) -> ParseFn:
        if name in PARSERS:
            raise ValueError(f"parser {name!r} is already registered")
        PARSERS[name] = ParserSpec(name, kind, fn)
        return fn

    return add


def get_parser(name: str, kind: ParserKind | None = None) -> ParserSpec:
    """The parser registered as ``name``; with ``kind``, also check it parses that kind of answer."""
    if name not in PARSERS:
        raise KeyError(f"unknown parser {name!r}; registered: {sorted(PARSERS)}")
    spec = PARSERS[name]
    if kind is not None and spec.kind != kind:
        names = sorted(n for n, s in PARSERS.items() if s.kind == kind)
        raise ValueError(f"parser {name!r} parses {spec.kind} answers, this task needs {kind}: one of {names}")
    return spec


def strip_stop_strings(text: str, stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS) -> str:
    """Cut ``text`` at the first stop string (end-of-turn tokens, a new turn's role tag) and trim whitespace."""
    cut = min((i for i in (text.find(stop) for stop in stop_strings if stop) if i >= 0), default=len(text))
    return text[:cut].strip()


def split_rationale(text: str) -> ExtractedAnswer:
    """Separate the answer from a rationale appended after it.

    The answer is the first sentence (ended by ``.!?`` plus whitespace, or a newline), cut further before a rationale
    connective ("because", "since", "due to", ...); a leading "Yes"/"No" followed by punctuation is the whole answer
    ("No, there is no cup." -> "No").
    """
    text = text.strip()
    leading = _LEADING_YES_NO.match(text)
    if leading:
        return ExtractedAnswer(leading.group(1), text[leading.end() :].strip())
    parts = _SENTENCE_END.split(text, maxsplit=1)
    answer, rest = parts[0], (parts[1] if len(parts) > 1 else "")
    connective = _RATIONALE_START.search(answer)
    if connective and connective.start() > 0:
        rest = f"{answer[connective.end() :]} {rest}"
        answer = answer[: connective.start()]
    return ExtractedAnswer(answer.strip(), rest.strip())


def parse_answer(
    output: str,
    parser: str,
    options: Sequence[str] = (),
    *,
    stop_strings: Sequence[str] = DEFAULT_STOP_STRINGS,
    split: bool = True,
) -> ParsedAnswer:
    """Clean ``output``, take its answer span (unless ``split`` is false) and parse it with ``parser``."""
    spec = get_parser(parser)
    cleaned = strip_stop_strings(output, stop_strings)
    extracted = split_rationale(cleaned) if split else ExtractedAnswer(cleaned, "")
    return ParsedAnswer(extracted.answer, extracted.rationale, spec.fn(extracted.answer, options), spec.name)


@register_parser("pope_llava", "yes_no")
def parse_pope_llava(text: str, options: Sequence[str] = ()) -> str:
    """LLaVA's POPE rule: first sentence (up to ``.``) containing the word "no" or "not" -> no, anything else -> yes.

    Never returns unknown (an empty answer is "yes", as in LLaVA). The word test is case-insensitive and ignores
    punctuation; LLaVA's code splits on spaces and matches only "No", "no", "not", so it reads "Not", "NO" and "No!"
    as yes. Contractions ("isn't") contain neither word in both.
    """
    return NO if _NEGATION.search(text.split(".", 1)[0]) else YES


@register_parser("strict", "yes_no")
def parse_strict(text: str, options: Sequence[str] = ()) -> str:
    """Only a bare yes/no (any case, surrounding punctuation ignored); anything else is unknown."""
    word = text.strip(_EDGE_PUNCTUATION).casefold()
    return word if word in (YES, NO) else UNKNOWN


@register_parser("lmms_eval", "yes_no")
def parse_lmms_eval(text: str, options: Sequence[str] = ()) -> str:
    """lmms-eval's POPE rule: the text lower-cased and stripped is exactly "yes" or "no", else unknown (no punctuation
    is dropped: "Yes." is unknown)."""
    word = text.lower().strip()
    return word if word in (YES, NO) else UNKNOWN


@register_parser("vlmevalkit", "yes_no")
def parse_vlmevalkit(text: str, options: Sequence[str] = ()) -> str:
    """VLMEvalKit's yes/no extraction: among the words (punctuation removed, any case) "yes" without "no" -> yes, "no"
    without "yes" -> no, else unknown ("not" is not "no": "It is not there." is unknown)."""
    words = set(_WORD.findall(text.lower()))
    if (YES in words) != (NO in words):
        return YES if YES in words else NO
    return UNKNOWN


@register_parser("mme", "yes_no")
def parse_mme(text: str, options: Sequence[str] = ()) -> str:
    """MME's official rule: exact yes/no after dropping dots, else "yes"/"no" within the first four characters."""
    word = text.lower().strip().replace(".", "")
    if word in (YES, NO):
        return word
    if YES in word[:4]:
        return YES
    return NO if NO in word[:4] else UNKNOWN


@register_parser("choice", "choice")
def parse_choice(text: str, options: Sequence[str] = ()) -> str:
    """An option letter from "A", "A.", "(A)", "A) text", "The answer is A", "Answer: B" or an option's exact text.

    Letters beyond the number of ``options`` (when given) are unknown; so is text matching no or several options.
    """
    text = text.strip()
    valid = LETTERS[: len(options)] if options else LETTERS
    for pattern in (_LETTER_ONLY, _LETTER_IN_PHRASE, _LETTER_LEADING):
        match = pattern.search(text)
        if match:
            letter = next(group for group in match.groups() if group).upper()
            return letter if letter in valid else UNKNOWN
    normalized = text.strip(_EDGE_PUNCTUATION).casefold()
    hits = [LETTERS[i] for i, option in enumerate(options) if option.strip(_EDGE_PUNCTUATION).casefold() == normalized]
    return hits[0] if len(hits) == 1 else UNKNOWN
