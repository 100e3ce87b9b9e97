"""The reflection policy yields exactly the conversations the paper describes (hand-written expectations)."""

import pytest

from reverie.data.conversation import Segment as S
from reverie.data.reflect import ReflectionPolicy
from reverie.data.sources import ReverieRecord

REC = ReverieRecord(
    id="q1",
    image="/img/1.png",
    question="What is on the table?",
    correct_answer="A cup",
    confusing_answer="A plate",
    correct_rationale="The round object with a handle is a cup.",
    incorrect_rationale="There is no flat dish; the only object has a handle.",
    origin="f.json#0",
)
Q = ("user", [("<image>\nWhat is on the table?", S.OTHER)])
ANS = ("assistant", [("A cup", S.ANSWER)])
POS_Q = ("user", [("Explain why. Including any necessary facts or knowledge", S.OTHER)])
POS = ("assistant", [("The round object with a handle is a cup.", S.POS_RATIONALE)])
NEG_Q = ("user", [("Explain why this answer is wrong: A plate. Including any necessary facts or knowledge.", S.OTHER)])
NEG = ("assistant", [("There is no flat dish; the only object has a handle.", S.NEG_RATIONALE)])


def as_tuples(policy: ReflectionPolicy) -> list[list]:
    return [[(t.role, [(p.text, p.segment) for p in t.parts]) for t in c.turns] for c in policy.conversations(REC)]


@pytest.mark.parametrize(
    ("kinds", "context", "expected"),
    [
        ("none", "separate", [[Q, ANS]]),
        ("pos", "separate", [[Q, ANS, POS_Q, POS]]),
        ("neg", "separate", [[Q, ANS, NEG_Q, NEG]]),
        ("both", "separate", [[Q, ANS, POS_Q, POS], [Q, ANS, NEG_Q, NEG]]),
        ("both", "joint_pos_first", [[Q, ANS, POS_Q, POS, NEG_Q, NEG]]),
        ("both", "joint_neg_first", [[Q, ANS, NEG_Q, NEG, POS_Q, POS]]),
        ("pos", "joint_neg_first", [[Q, ANS, POS_Q, POS]]),
    ],
)
def test_post_hoc_conversations(kinds, context, expected):
    assert as_tuples(ReflectionPolicy(kinds=kinds, context=context)) == expected


PLAIN_Q = ("user", [("<image>\nWhat does the image show?", S.OTHER)])


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ("both", [[Q, ANS], [PLAIN_Q, POS], [PLAIN_Q, NEG]]),
        ("pos", [[Q, ANS], [PLAIN_Q, POS]]),
        ("none", [[Q, ANS]]),
    ],
)
def test_plain_targets_are_the_rationale_texts_without_question_or_confusing_answer(kinds, expected):
    policy = ReflectionPolicy(kinds=kinds, context="plain")
    assert as_tuples(policy) == expected
    convs = policy.conversations(REC)
    assert len({c.origin for c in convs}) == len(convs)  # own samples: no shared-prefix tree joins them
    for conv in convs[1:]:
        text = " ".join(t.text for t in conv.turns)
        assert REC.question not in text and REC.confusing_answer not in text


def test_cot_puts_rationale_before_answer_in_one_turn():
    convs = as_tuples(ReflectionPolicy(kinds="both", position="cot"))
    assert convs == [
        [
            Q,
            (
                "assistant",
                [
                    ("The round object with a handle is a cup.", S.POS_RATIONALE),
                    ("\nAnswer: ", S.OTHER),
                    ("A cup", S.ANSWER),
                ],
            ),
        ],
        [
            ("user", [("<image>\nWhat is on the table?\nA tempting answer is: A plate.", S.OTHER)]),
            (
                "assistant",
                [
                    ("There is no flat dish; the only object has a handle.", S.NEG_RATIONALE),
                    ("\nAnswer: ", S.OTHER),
                    ("A cup", S.ANSWER),
                ],
            ),
        ],
    ]


def test_confusing_answer_is_never_a_target():
    for context in ("separate", "joint_pos_first", "joint_neg_first"):
        for position in ("post_hoc", "cot"):
            for conv in ReflectionPolicy(kinds="both", context=context, position=position).conversations(REC):
                targets = [p.text for t in conv.turns if t.role == "assistant" for p in t.parts]
                assert "A plate" not in " ".join(targets)


def test_prompts_are_configurable_and_ids_say_which_rationale():
    policy = ReflectionPolicy(kinds="both", pos_prompt="Why?", neg_prompt="Why not {confusing_answer}?")
    pos, neg = policy.conversations(REC)
    assert pos.turns[2].text == "Why?" and neg.turns[2].text == "Why not A plate?"
    assert (pos.id, neg.id) == ("q1:pos", "q1:neg")


def test_bad_policy_values_fail_loudly():
    with pytest.raises(ValueError, match="reflection.kinds='all'"):
        ReflectionPolicy(kinds="all")
    with pytest.raises(ValueError, match="reflection.context"):
        ReflectionPolicy(context="joint")


def test_question_prompt_places_the_image_in_reverie_and_llava_samples_alike(data_dir) -> None:
    from reverie.data.mixture import LlavaSource

    policy = ReflectionPolicy(kinds="none", question_prompt="{question}\n<image>")
    assert policy.conversations(REC)[0].turns[0].text == "What is on the table?\n<image>"
    source = LlavaSource(str(data_dir / "llava.json"), str(data_dir / "images"))
    (first, *_), default = source.conversations(policy), source.conversations(ReflectionPolicy())
    assert first.turns[0].text == "Describe the image in detail.\n<image>"
    assert first.turns[2].text == "Is it bright?"  # later turns untouched
    assert [t.text for t in first.turns[1:]] == [t.text for t in default[0].turns[1:]]
    assert default[0].turns[0].text == "<image>\nDescribe the image in detail."  # the paper's layout: unchanged
    first.validate()


@pytest.mark.parametrize(
    ("confusing", "expected"),
    [
        ("A plate", "Explain why this answer is wrong: A plate. Including"),
        ("A plate.", "Explain why this answer is wrong: A plate. Including"),
        ("Is it a plate?", "Explain why this answer is wrong: Is it a plate? Including"),
    ],
)
def test_negative_prompt_never_reads_two_full_stops(confusing, expected):
    from dataclasses import replace

    (conv,) = ReflectionPolicy(kinds="neg").conversations(replace(REC, confusing_answer=confusing))
    prompt = conv.turns[2].parts[0].text
    assert prompt.startswith(expected) and ".." not in prompt
    cot = ReflectionPolicy(kinds="neg", position="cot").conversations(replace(REC, confusing_answer=confusing))
    assert ".." not in cot[0].turns[0].parts[0].text
