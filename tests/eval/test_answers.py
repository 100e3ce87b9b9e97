"""Answer extraction and the named parsers, on the edge cases that make harnesses disagree."""

from __future__ import annotations

import pytest

from reverie.eval import answers
from reverie.eval.answers import (
    get_parser,
    parse_answer,
    parse_choice,
    parse_lmms_eval,
    parse_mme,
    parse_pope_llava,
    parse_strict,
    parse_vlmevalkit,
    register_parser,
    split_rationale,
    strip_stop_strings,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Yes</s>", "Yes"),
        (" No.<|im_end|>\nUSER: next", "No."),
        ("A cup. ### Human: more", "A cup."),
        ("no stop here ", "no stop here"),
    ],
)
def test_strip_stop_strings(raw: str, expected: str) -> None:
    assert strip_stop_strings(raw) == expected


def test_strip_custom_stop_strings() -> None:
    assert strip_stop_strings("Yes<eos>No", ["<eos>"]) == "Yes"


@pytest.mark.parametrize(
    ("text", "answer", "rationale"),
    [
        ("No. There is no cup because the table is empty.", "No", "There is no cup because the table is empty."),
        ("Yes, because there is a cup.", "Yes", "because there is a cup."),
        ("No, there is no cup.", "No", "there is no cup."),
        ("Yes! It is not hidden.", "Yes", "It is not hidden."),
        ("There is a cup because I see one.", "There is a cup", "because I see one."),
        ("The answer is B since it is red. More.", "The answer is B", "since it is red. More."),
        ("No\nThe image shows a plate.", "No", "The image shows a plate."),
        ("It measures 3.5 cm.", "It measures 3.5 cm.", ""),
        ("Because of the light.", "Because of the light.", ""),
        ("", "", ""),
    ],
)
def test_split_rationale(text: str, answer: str, rationale: str) -> None:
    extracted = split_rationale(text)
    assert (extracted.answer, extracted.rationale) == (answer, rationale)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", "yes"),
        ("No", "no"),
        ("There is no cup in the image.", "no"),
        ("The cup is not visible. Yes it is.", "no"),
        ("There is a cup. There is no plate.", "yes"),  # only the first sentence counts
        ("Not at all", "no"),  # LLaVA's code would say yes (it matches "No"/"no"/"not" only)
        ("There isn't a cup", "yes"),  # neither word appears
        ("", "yes"),  # LLaVA: never unknown
    ],
)
def test_pope_llava(text: str, expected: str) -> None:
    assert parse_pope_llava(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes", "yes"),
        ("yes.", "yes"),
        ("NO!", "no"),
        ('"No"', "no"),
        ("Yes there is a cup", "unknown"),
        ("There is no cup.", "unknown"),
        ("Maybe", "unknown"),
        ("", "unknown"),
    ],
)
def test_strict(text: str, expected: str) -> None:
    assert parse_strict(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Yes.", "yes"), ("no", "no"), ("Nope", "no"), ("Yes, it is", "yes"), ("The answer is yes", "unknown")],
)
def test_mme_parser_reads_first_four_characters(text: str, expected: str) -> None:
    assert parse_mme(text) == expected


# (output, LLaVA's rule, lmms-eval's, VLMEvalKit's): where harnesses part, and where a bare answer makes them agree
HARNESSES = [
    ("Yes", "yes", "yes", "yes"),
    (" no ", "no", "no", "no"),
    ("Yes.", "yes", "unknown", "yes"),
    ("No, there is no cup.", "no", "unknown", "no"),
    ("There is no cup.", "no", "unknown", "no"),
    ("It is not there.", "no", "unknown", "unknown"),
    ("Yes, but no saucer.", "no", "unknown", "unknown"),
    ("Yes\nYes\nYes", "yes", "unknown", "yes"),  # an answer that never stopped
    ("A red cup.", "yes", "unknown", "unknown"),
    ("", "yes", "unknown", "unknown"),
]


@pytest.mark.parametrize(("text", "llava", "lmms_eval", "vlmevalkit"), HARNESSES)
def test_harness_yes_no_rules(text: str, llava: str, lmms_eval: str, vlmevalkit: str) -> None:
    assert (parse_pope_llava(text), parse_lmms_eval(text), parse_vlmevalkit(text)) == (llava, lmms_eval, vlmevalkit)


def test_lmms_eval_reads_the_whole_output_only_without_the_rationale_split() -> None:
    assert parse_answer("Yes.", "lmms_eval", split=False).value == "unknown"  # as lmms-eval reads it
    assert parse_answer("Yes.", "lmms_eval").value == "yes"  # reverie's split takes the leading "Yes" first


OPTIONS = ["apple", "banana", "cherry", "plum"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A", "A"),
        ("b", "B"),
        ("A.", "A"),
        ("(C)", "C"),
        ("D)", "D"),
        ("C) cherry", "C"),
        ("(B) banana", "B"),
        ("B. banana", "B"),
        ("The answer is B", "B"),
        ("The correct answer is (C).", "C"),
        ("Answer: D", "D"),
        ("banana", "B"),
        ("Cherry.", "C"),
        ("E", "unknown"),  # only four options
        ("A cat is on the mat", "unknown"),  # an article, not a letter
        ("The answer is Apple", "unknown"),
        ("I am not sure", "unknown"),
        ("", "unknown"),
    ],
)
def test_choice(text: str, expected: str) -> None:
    assert parse_choice(text, OPTIONS) == expected


def test_choice_ambiguous_option_text_is_unknown() -> None:
    assert parse_choice("red", ["red", "blue", "red"]) == "unknown"


def test_parse_answer_separates_rationale_before_parsing() -> None:
    output = "Yes, there is a cup, but it is not red.</s>"
    split = parse_answer(output, "pope_llava")
    assert (split.value, split.answer, split.parser) == ("yes", "Yes", "pope_llava")
    assert split.rationale == "there is a cup, but it is not red."
    # LLaVA's rule on the whole text reads the rationale's "not" as the answer.
    assert parse_answer(output, "pope_llava", split=False).value == "no"
    assert parse_answer("Yes, because it is there.", "strict").value == "yes"
    assert parse_answer("B, because it is yellow.", "choice", OPTIONS).value == "B"
    assert parse_answer("The answer is C. Cherries are red.", "choice", OPTIONS).value == "C"


def test_registry_errors_name_the_choices() -> None:
    with pytest.raises(KeyError, match="unknown parser 'nope'.*pope_llava"):
        get_parser("nope")
    with pytest.raises(ValueError, match="parses choice answers.*needs yes_no"):
        get_parser("choice", "yes_no")
    with pytest.raises(ValueError, match="already registered"):
        register_parser("strict", "yes_no")(parse_strict)


def test_registered_parser_is_usable_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "PARSERS", dict(answers.PARSERS))
    register_parser("always_no", "yes_no")(lambda text, options=(): "no")
    parsed = parse_answer("Yes", "always_no")
    assert (parsed.value, parsed.parser) == ("no", "always_no")
