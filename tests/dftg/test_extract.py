"""The rules extractor on handwritten descriptions: synonyms, plurals, two-word names, numbers, attributes,
negations; COCO's colour-word objects; empty input."""

import pytest

from reverie.dftg.extract import EmptyDescriptionError, RulesExtractor, Triple
from reverie.world.vocab import make_vocab

ATTRIBUTES = {
    "color": {"red": [], "blue": [], "green": [], "orange": [], "white": [], "black": []},
    "size": {"small": ["little"], "medium": ["mid"], "large": ["big"]},
}


@pytest.fixture(scope="module")
def world() -> RulesExtractor:
    from reverie.eval.chair import ObjectVocabulary

    return RulesExtractor(ObjectVocabulary(make_vocab().synonyms(), "world"), ATTRIBUTES)


def claims(triples: list[Triple]) -> list[tuple]:
    return [(t.object, t.attributes, t.count, t.negated) for t in triples if not t.refers_back]


def test_synonyms_plurals_and_two_word_names(world):
    text = (
        "Two teacups sit at the top. A hermit crab and three seashells. The ballpoint pen is next to some bumblebees."
    )
    assert [(t.object, t.text, t.count) for t in world.extract(text)] == [
        ("cup", "teacups", 2),
        ("crab", "hermit crab", None),
        ("shell", "seashells", 3),
        ("pen", "ballpoint pen", None),
        ("bee", "bumblebees", None),
    ]


def test_attributes_before_after_and_referring_ones(world):
    text = (
        "A big red mug. The kettle is blue. There are two plates: a little green one on the left and a large white one."
    )
    triples = world.extract(text)
    assert claims(triples) == [
        ("cup", {"size": "large", "color": "red"}, None, False),
        ("kettle", {"color": "blue"}, None, False),
        ("plate", {}, 2, False),
    ]
    ones = [(t.object, t.attributes) for t in triples if t.refers_back]
    assert ones == [("plate", {"size": "small", "color": "green"}), ("plate", {"size": "large", "color": "white"})]


def test_negations_are_not_claims(world):
    text = (
        "There is no cat and no kettle. The image has no forks or bowls, but a dinner fork is at the top. "
        "There isn't a sparrow here. The mug is not red. Nothing else is drawn."
    )
    assert claims(world.extract(text)) == [
        ("kettle", {}, None, True),
        ("fork", {}, None, True),
        ("bowl", {}, None, True),
        ("fork", {}, None, False),
        ("bird", {}, None, True),
        ("cup", {}, None, False),  # "is not red": the mug is claimed, the colour is not
    ]


def test_numbers_only_directly_before_the_noun(world):
    text = "Three small blue boats appear, one in the center and one at the left. One umbrella. Six objects in all."
    assert claims(world.extract(text)) == [
        ("boat", {"size": "small", "color": "blue"}, 3, False),
        ("umbrella", {}, 1, False),
    ]


def test_colour_word_that_is_also_an_object_is_an_attribute_before_an_object():
    coco = RulesExtractor(None, ATTRIBUTES)  # COCO's table reads "orange" as the fruit
    assert claims(coco.extract("An orange cat sleeps next to an orange.")) == [
        ("cat", {"color": "orange"}, None, False),
        ("orange", {}, None, False),
    ]


@pytest.mark.parametrize("text", ["", "   \n "])
def test_empty_description_is_a_clear_error(world, text):
    with pytest.raises(EmptyDescriptionError, match="empty"):
        world.extract(text)


def test_attribute_word_in_two_kinds_fails_loudly():
    with pytest.raises(ValueError, match="both"):
        RulesExtractor(None, {"color": {"light": []}, "size": {"small": ["light"]}})
