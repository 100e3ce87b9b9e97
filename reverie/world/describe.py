"""Detailed descriptions ("Describe the image in detail."): every object named, with colour, size and place.

Each caption picks one surface name per category (a synonym from the vocabulary, plural when there are several),
so CHAIR can map mentions back through the synonym table. Captions mention only objects that are present.
"""

from __future__ import annotations

from reverie.world.facts import SceneFacts
from reverie.world.grid import holds
from reverie.world.language import capitalize, join, number_word, position_phrase, size_word
from reverie.world.phrases import Names, describe_obj, locations
from reverie.world.rand import Rand
from reverie.world.scene import Obj
from reverie.world.vocab import THEME_PLACES

DETAIL_PROMPT = "Describe the image in detail."
DETAIL_PROMPTS = (
    DETAIL_PROMPT,
    "Describe the following image in detail.",
    "Give a detailed description of this picture.",
    "What is in this image? Describe every object you see.",
    "Write a thorough description of the scene.",
    "Explain what the image shows, object by object.",
)


def _opening(n: int, rand: Rand) -> str:
    things = "a single object" if n == 1 else f"{number_word(n)} objects"
    return rand.choice(
        (
            f"The image shows {things} on a dark background.",
            f"This picture is a three-by-three grid with {things} drawn in it.",
            f"{capitalize(things)} {'is' if n == 1 else 'are'} arranged on a plain dark background.",
            f"A dark square image with {things} placed on an invisible three-by-three grid.",
        )
    )


def _single(obj: Obj, names: Names, rand: Rand) -> str:
    d, at = describe_obj(obj, names, rand), position_phrase(obj.cell, rand)
    return rand.choice(
        (
            f"There is {d} {at}.",
            f"{capitalize(at)}, there is {d}.",
            f"{capitalize(d)} sits {at}.",
            f"{capitalize(at)} you can see {d}.",
            f"{capitalize(d)} is drawn {at}.",
        )
    )


def _group(objs: list[Obj], names: Names, rand: Rand) -> str:
    n, many = number_word(len(objs)), names.plural(objs[0].category)
    colors = {o.color for o in objs}
    if len(colors) == 1:
        color = objs[0].color
        return rand.choice(
            (
                f"{capitalize(n)} {color} {many} appear, {locations(objs, rand)}.",
                f"There are {n} {color} {many}: {locations(objs, rand)}.",
            )
        )
    each = join([f"a {size_word(o.size, rand)} {o.color} one {position_phrase(o.cell, rand)}" for o in objs])
    return rand.choice((f"There are {n} {many}: {each}.", f"{capitalize(n)} {many} are drawn, {each}."))


def _relation(facts: SceneFacts, names: Names, rand: Rand) -> str | None:
    pairs = [
        (a, b)
        for a in facts.singles
        for b in facts.singles
        if a != b and holds("next_to", facts.single(a).cell, facts.single(b).cell)
    ]
    if not pairs:
        return None
    a, b = rand.choice(pairs)
    ca, cb = facts.single(a).cell, facts.single(b).cell
    side = next(rel for rel in ("left_of", "right_of", "above", "below") if holds(rel, ca, cb))
    words = {"left_of": "directly to the left of", "right_of": "directly to the right of"}.get(side, f"directly {side}")
    return rand.choice(
        (f"The {names(a)} is {words} the {names(b)}.", f"The {names(a)} and the {names(b)} are neighbours.")
    )


def describe(facts: SceneFacts, names: Names, rand: Rand) -> str:
    """A detailed description of the scene, 3-9 sentences."""
    objects = facts.scene.objects
    sentences = [_opening(len(objects), rand)]
    theme = facts.scene.theme
    from_theme = sum(facts.vocab.by_name[o.category].theme == theme for o in objects)
    if len(objects) >= 2 and 2 * from_theme > len(objects) and rand.chance(0.5):
        sentences.append(
            rand.choice(
                (
                    f"Most of them are things you might find {THEME_PLACES[theme]}.",
                    f"It looks like a set of {theme} things.",
                )
            )
        )
    groups = list(facts.present)
    if rand.chance(0.3):
        groups = rand.shuffled(groups)
    for category in groups:
        objs = facts.by_category[category]
        sentences.append(_single(objs[0], names, rand) if len(objs) == 1 else _group(objs, names, rand))
    relation = _relation(facts, names, rand) if rand.chance(0.5) else None
    if relation:
        sentences.append(relation)
    empty = 9 - len(objects)
    if empty and rand.chance(0.6):
        sentences.append(
            rand.choice(
                (
                    f"The other {number_word(empty)} cells are empty.",
                    "Nothing else is in the picture.",
                    "The rest of the grid is empty.",
                )
            )
        )
    return " ".join(sentences)
