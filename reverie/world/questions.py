"""Wording of probes: question templates (many paraphrases per kind) and answer texts.

``question(probe, ...)`` and ``answer(probe, value, ...)`` turn a structured probe into text; the same answer function
renders the correct value and the confusing one, so both read alike. Multiple-choice options are rendered by
``option_text`` and lettered A, B, C, ...
"""

from __future__ import annotations

from typing import Any

from reverie.world.facts import SceneFacts
from reverie.world.grid import position_name
from reverie.world.language import capitalize, number_word, position_phrase, relation_phrase, with_article
from reverie.world.phrases import Names, inventory
from reverie.world.probes import Probe
from reverie.world.rand import Rand

LETTERS = "ABCDEFGH"

_Q: dict[str, tuple[str, ...]] = {
    "existence": (
        "Is there {a_o} in the image?", "Can you see {a_o} in this picture?", "Does the image contain {a_o}?",
        "Is {a_o} visible anywhere in the scene?", "Do you see any {os} here?", "Does this picture show {a_o}?",
        "Is there {a_o} somewhere in the grid?",
    ),
    "color_single": ("Is the {o} {c}?", "Is the {o} in the image {c}?", "Is the {o} colored {c}?", "Would you say the {o} is {c}?"),
    "color_any": ("Is there {a_c_o} in the image?", "Can you see {a_c_o}?", "Is any of the {os} {c}?"),
    "count_one": ("Is there exactly one {o} in the image?", "Is there only one {o}?", "Does the picture show a single {o}?"),
    "count_many": (
        "Are there {n} {os} in the image?", "Are there exactly {n} {os}?", "Does the picture show {n} {os}?",
        "Can you count {n} {os} in the scene?",
    ),
    "position_single": ("Is the {o} {pos}?", "Is the {o} located {pos}?", "Can the {o} be found {pos}?"),
    "position_any": ("Is there {a_o} {pos}?", "Does the cell {pos} hold {a_o}?"),
    "relation_yes_no": ("Is the {o} {rel} the {b}?", "Is the {o} placed {rel} the {b}?", "Would you say the {o} is {rel} the {b}?"),
    "count": (
        "How many {os} are there?", "How many {os} can you see in the image?", "How many {os} does the picture show?",
        "What is the number of {os} in this image?", "Count the {os} in the picture.",
    ),
    "color": (
        "What color is the {o}?", "What is the color of the {o}?", "Which color does the {o} have?",
        "The {o} is drawn in which color?", "What color is the {o} in the image?",
    ),
    "position": (
        "Where is the {o}?", "Where in the image is the {o} located?", "In which part of the picture is the {o}?",
        "Which cell of the grid holds the {o}?", "Where can the {o} be found?",
    ),
    "identity": (
        "What object is {pos}?", "What is {pos}?", "Which object can be seen {pos}?", "What is drawn {pos}?",
        "Name the object {pos}.",
    ),
    "relation_row": ("Is the {o} to the left or to the right of the {b}?", "On which side of the {b} is the {o}?", "Where is the {o} relative to the {b}?"),
    "relation_col": ("Is the {o} above or below the {b}?", "Is the {o} higher or lower than the {b}?", "Where is the {o} relative to the {b}?"),
    "mc_identity": ("Which object is {pos}?", "What can be seen {pos}?", "Which of the following is drawn {pos}?"),
    "mc_existence": (
        "Which of these objects appears in the image?", "Which of the following can be seen in the picture?",
        "One of these objects is in the image. Which one?",
    ),
    "inventory": (
        "What objects can you see in the image?", "List everything that appears in this picture.", "What is in this image?",
        "Which things are shown in the scene, and how many of each?", "Can you name all the objects in the picture?",
    ),
    "describe": (
        "Tell me about the {o}.", "Describe the {o} in the image.", "What does the {o} look like, and where is it?",
        "What can you say about the {o}'s color, size and location?",
    ),
}  # fmt: skip

# Canonical relation words for answers (questions use the varied RELATION_PHRASES).
_REL_ANSWER = {"left_of": "to the left of", "right_of": "to the right of", "above": "above", "below": "below"}


def _template_key(p: Probe, facts: SceneFacts) -> str:
    if p.qtype == "yes_no":
        single = p.category in facts.singles
        if p.kind == "color":
            return "color_single" if single else "color_any"
        if p.kind == "position":
            return "position_single" if single else "position_any"
        if p.kind == "count":
            return "count_one" if p.claim == 1 else "count_many"
        if p.kind == "relation":
            return "relation_yes_no"
        return "existence"
    if p.qtype == "multiple_choice" and p.kind in ("identity", "existence"):
        return f"mc_{p.kind}"
    if p.kind == "relation":
        return "relation_row" if p.truth in ("left_of", "right_of") else "relation_col"
    return p.kind


def question(p: Probe, facts: SceneFacts, names: Names, rand: Rand) -> str:
    """The question text (for multiple choice: the stem only; see ``with_options``)."""
    fields: dict[str, str] = {}
    if p.category is not None:
        o = names(p.category)
        fields.update(o=o, a_o=with_article(o), os=names.plural(p.category))
    if p.other is not None:
        fields["b"] = names(p.other)
    if p.relation is not None:
        fields["rel"] = relation_phrase(p.relation, rand)
    if p.kind == "color" and p.claim is not None:
        fields.update(c=p.claim, a_c_o=with_article(f"{p.claim} {fields['o']}"))
    if p.kind == "count" and p.claim is not None:
        fields["n"] = number_word(p.claim)
    cell = p.cell if p.kind == "identity" else p.claim if p.kind == "position" else None
    if cell is not None:
        fields["pos"] = position_phrase(cell, rand)
    return rand.choice(_Q[_template_key(p, facts)]).format(**fields)


def option_text(p: Probe, value: Any, names: Names) -> str:
    """How one option (or a short answer value) is written."""
    if p.kind in ("identity", "existence"):
        return names(value)
    if p.kind == "position":
        return position_name(value)
    return str(value)


def with_options(stem: str, p: Probe, names: Names) -> str:
    """A multiple-choice question with its lettered options, one per line."""
    lines = [f"{LETTERS[i]}. {option_text(p, v, names)}" for i, v in enumerate(p.options or [])]
    return "\n".join([stem, *lines])


def answer(p: Probe, value: Any, facts: SceneFacts, names: Names, rand: Rand, style: float | None = None) -> str:
    """An answer stating ``value`` (the truth or the confusing value).

    ``style`` in [0, 1) picks the phrasing, so a correct and a confusing answer given the same style read alike;
    None gives the single word or phrase a VQA answer uses.
    """
    if p.qtype == "yes_no":
        return "Yes" if value else "No"
    if p.qtype == "multiple_choice":
        assert p.options is not None
        letter = LETTERS[p.options.index(value)]
        return f"{letter}. {option_text(p, value, names)}"
    if p.kind == "inventory":
        options = _inventory_answers(value, facts, names)
    elif p.kind == "describe":
        options = _describe_answers(p, value, names, rand)
    elif style is None:
        return _short(p, value, names)
    else:
        options = _sentences(p, value, names, rand)
    return options[int((style or 0.0) * len(options))]


def _short(p: Probe, value: Any, names: Names) -> str:
    if p.kind == "count":
        return str(value)
    if p.kind == "position":
        return position_name(value)
    if p.kind == "identity":
        return names(value)
    if p.kind == "relation":
        return f"{_REL_ANSWER[value]} the {names(p.other)}"
    return str(value)


def _sentences(p: Probe, value: Any, names: Names, rand: Rand) -> list[str]:
    """Answer phrasings for short-answer questions."""
    if p.kind == "count":
        be = "is" if value == 1 else "are"
        noun = names(p.category) if value == 1 else names.plural(p.category)
        return [str(value), capitalize(number_word(value)) + ".", f"There {be} {number_word(value)} {noun}."]
    if p.kind == "color":
        return [value, f"{capitalize(value)}.", f"It is {value}.", f"The {names(p.category)} is {value}."]
    if p.kind == "position":
        return [
            position_name(value),
            capitalize(position_phrase(value, rand)) + ".",
            f"It is {position_phrase(value, rand)}.",
        ]
    if p.kind == "identity":
        o = with_article(names(value))
        return [names(value), capitalize(o) + ".", f"It is {o}.", f"There is {o} there."]
    rel = f"{_REL_ANSWER[value]} the {names(p.other)}"
    return [rel, capitalize(rel) + ".", f"The {names(p.category)} is {rel}."]


def _inventory_answers(counts: dict[str, int], facts: SceneFacts, names: Names) -> list[str]:
    items = inventory(facts, names, counts)
    total = sum(counts.values())
    noun = "object" if total == 1 else "objects"
    return [
        f"I can see {items}.",
        f"The image contains {items}.",
        f"There {'is' if total == 1 else 'are'} {number_word(total)} {noun}: {items}.",
        f"{capitalize(items)}.",
    ]


def _describe_answers(p: Probe, value: tuple[str, str, Any], names: Names, rand: Rand) -> list[str]:
    color, size, cell = value
    size_text = {"small": "small", "medium": "medium-sized", "large": "large"}[size]
    o, pos = names(p.category), position_phrase(cell, rand)
    return [
        f"It is {with_article(size_text)} {color} {o} {pos}.",
        f"The {o} is {color} and {size_text}, and it sits {pos}.",
        f"{capitalize(with_article(size_text))} {color} {o}, located {pos}.",
    ]
