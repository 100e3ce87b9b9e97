"""The rule filters: cheap checks that drop a QA pair before (or instead of) asking the judge. Each drop has a reason,
counted in the summary and written to filter.jsonl."""

from __future__ import annotations

import re
from typing import Any

# Reasons, in the order the pipeline applies them; the judge adds "contradiction".
MISSING_ANSWER = "missing_answer"  # the correct or the confusing answer is empty
SAME_ANSWERS = "same_answers"  # the confusing answer equals the correct one
EMPTY_RATIONALE = "empty_rationale"  # a rationale is empty
RATIONALE_IS_ANSWER = "rationale_is_answer"  # a rationale only repeats an answer
CONTRADICTION = "contradiction"  # the judge found the two rationales contradicting each other
RULES = (MISSING_ANSWER, SAME_ANSWERS, EMPTY_RATIONALE, RATIONALE_IS_ANSWER, CONTRADICTION)


def normalized(text: str) -> str:
    """Lower case, punctuation and repeated spaces removed: 'Yes.' == 'yes'."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def qa_rule(pair: dict[str, Any]) -> str | None:
    """The reason to drop a QA pair before asking for rationales, or None."""
    correct, confusing = normalized(pair["correct_answer"]), normalized(pair["confusing_answer"])
    if not correct or not confusing:
        return MISSING_ANSWER
    if correct == confusing:
        return SAME_ANSWERS
    return None


def rationale_rule(pair: dict[str, Any]) -> str | None:
    """The reason to drop a pair with both rationales before the judge, or None."""
    rationales = [normalized(pair["correct_rationale"]), normalized(pair["incorrect_rationale"])]
    if not all(rationales):
        return EMPTY_RATIONALE
    answers = {normalized(pair["correct_answer"]), normalized(pair["confusing_answer"])}
    if any(r in answers for r in rationales):
        return RATIONALE_IS_ANSWER
    return None
