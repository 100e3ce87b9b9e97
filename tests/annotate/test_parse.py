"""Reading model replies: obvious repairs succeed, everything else is a MalformedReply; the rules and the prompts."""

from __future__ import annotations

import json

import pytest

from reverie.annotate.parse import MalformedReply, parse_qa, parse_rationale, parse_verdict
from reverie.annotate.prompts import Prompts
from reverie.annotate.rules import qa_rule, rationale_rule

ITEMS = [{"question": f"Q{i}?", "correct_answer": f"a{i}", "confusing_answer": f"b{i}"} for i in range(3)]


@pytest.mark.parametrize(
    "reply",
    [
        json.dumps(ITEMS),
        f"```json\n{json.dumps(ITEMS, indent=2)}\n```",
        f"Here are three questions:\n{json.dumps(ITEMS)}\nI hope they help!",
        str(ITEMS),  # a Python literal, as the paper's scripts read replies (ast.literal_eval)
        json.dumps({"questions": ITEMS}),
        json.dumps(
            [
                {
                    "Question1": i["question"],
                    "Correct Answer1": i["correct_answer"],
                    "confusing-answer 1": i["confusing_answer"],
                }
                for i in ITEMS
            ]
        ),  # fmt: skip
    ],
)
def test_obvious_damage_is_repaired(reply: str) -> None:
    assert parse_qa(reply, 3, accept_fewer=False) == ITEMS


def test_answers_become_text_and_extra_keys_are_kept_but_not_record_keys() -> None:
    reply = json.dumps([{"question": "How many?", "correct_answer": 3, "confusing_answer": None, "kind": "count",
                         "id": "hijack", "correct_rationale": "not from here"}])  # fmt: skip
    assert parse_qa(reply, 3, accept_fewer=True) == [
        {"question": "How many?", "correct_answer": "3", "confusing_answer": "", "kind": "count"}
    ]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("I cannot see the image.", "no JSON found"),
        ('[{"question": "Q0?", "correct_answer": ', "no JSON found"),
        (json.dumps(ITEMS + ITEMS[:1]), "expected 3 question"),
        (json.dumps(ITEMS[:2]), "expected 3 question"),
        ("[]", "expected 3 question"),
        (json.dumps([{"question": "Q?", "correct_answer": "a"}] * 3), "missing key"),
        (json.dumps([{"question": " ", "correct_answer": "a", "confusing_answer": "b"}] * 3), "empty question"),
        (json.dumps(["Q?", "a", "b"]), "not an object"),
        (json.dumps([{"question": "Q?", "correct_answer": ["a"], "confusing_answer": "b"}] * 3), "must be text"),
    ],
)
def test_malformed_replies_are_refused_with_the_reason(reply: str, message: str) -> None:
    with pytest.raises(MalformedReply, match=message):
        parse_qa(reply, 3, accept_fewer=False)


def test_fewer_items_pass_only_when_accepted() -> None:
    assert len(parse_qa(json.dumps(ITEMS[:2]), 3, accept_fewer=True)) == 2


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [("No", False), ("Yes", True), ("**No**.", False), ("yes, the analyses conflict", True), ("```\nNo\n```", False)],
)
def test_verdicts(reply: str, verdict: bool) -> None:
    assert parse_verdict(reply) is verdict


def test_a_verdict_that_is_neither_yes_nor_no_is_malformed() -> None:
    with pytest.raises(MalformedReply, match="Yes or No"):
        parse_verdict("Perhaps; the second analysis is vague.")


def test_rationales_lose_fences_and_labels_only() -> None:
    assert parse_rationale("Rationale: The cup is red.\n") == "The cup is red."
    assert parse_rationale("```\nThe cup is red.\n```") == "The cup is red."
    assert parse_rationale("  ") == ""


def test_rules() -> None:
    pair = {"correct_answer": "Yes", "confusing_answer": "No"}
    assert qa_rule(pair) is None
    assert qa_rule({**pair, "confusing_answer": "yes."}) == "same_answers"
    assert qa_rule({**pair, "correct_answer": ""}) == "missing_answer"
    full = {**pair, "correct_rationale": "A red cup is drawn.", "incorrect_rationale": "The cup is visible."}
    assert rationale_rule(full) is None
    assert rationale_rule({**full, "incorrect_rationale": " "}) == "empty_rationale"
    assert rationale_rule({**full, "correct_rationale": "Yes!"}) == "rationale_is_answer"


def test_prompts_fill_only_their_placeholders_and_need_them() -> None:
    prompts = Prompts.default()
    qa = prompts.render("qa", num_questions=5)
    assert "create 5 challenging questions" in qa and "[{question1, correct answer1, confusing answer1}" in qa
    text = prompts.render("positive", question="Is {answer} here?", answer="{question}")
    assert text.endswith("Question: Is {answer} here?\nAnswer: {question}\nRationale:")  # values stay verbatim
    with pytest.raises(ValueError, match=r"prompts.judge lacks the placeholder\(s\) \{incorrect_rationale\}"):
        Prompts(prompts.qa, prompts.positive, prompts.negative, prompts.judge.replace("{incorrect_rationale}", ""))
