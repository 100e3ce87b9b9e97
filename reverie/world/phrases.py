"""Scene-dependent phrases: surface names for a record, object descriptions, inventories and locations."""

from __future__ import annotations

from reverie.world.facts import SceneFacts
from reverie.world.language import join, number_word, plural, position_phrase, size_word, with_article
from reverie.world.rand import Rand
from reverie.world.scene import Obj
from reverie.world.vocab import Vocab


class Names:
    """Surface name per category, fixed for one record: random synonyms with ``rand``, canonical names without."""

    def __init__(self, vocab: Vocab, rand: Rand | None = None) -> None:
        self._vocab = vocab
        self._rand = rand
        self._chosen: dict[str, str] = {}

    def __call__(self, category: str) -> str:
        if category not in self._chosen:
            names = self._vocab.by_name[category].names
            self._chosen[category] = self._rand.choice(names) if self._rand is not None else names[0]
        return self._chosen[category]

    def plural(self, category: str) -> str:
        return plural(self(category))


def describe_obj(obj: Obj, names: Names, rand: Rand, size: bool = True, article: bool = True) -> str:
    """'a small red mug' (size optional)."""
    words = [size_word(obj.size, rand)] if size else []
    text = " ".join([*words, obj.color, names(obj.category)])
    return with_article(text) if article else text


def obj_at(obj: Obj, names: Names, rand: Rand, size: bool = True) -> str:
    """'a small red mug in the top-left corner'."""
    return f"{describe_obj(obj, names, rand, size)} {position_phrase(obj.cell, rand)}"


def group_item(category: str, count: int, colors: list[str], names: Names) -> str:
    """'a red mug', 'two blue plates', 'three plates' (colour only when all share it)."""
    color = f"{colors[0]} " if len(set(colors)) == 1 else ""
    if count == 1:
        return with_article(f"{color}{names(category)}")
    return f"{number_word(count)} {color}{names.plural(category)}"


def inventory(facts: SceneFacts, names: Names, counts: dict[str, int] | None = None) -> str:
    """'a red mug, two blue plates and a yellow kettle'; ``counts`` overrides the true counts (for wrong answers)."""
    counts = counts if counts is not None else {c: facts.count(c) for c in facts.present}
    items = []
    for category, n in counts.items():
        colors = [o.color for o in facts.by_category.get(category, [])]
        items.append(group_item(category, n, colors if len(colors) == n else [], names))
    return join(items)


def locations(objs: list[Obj], rand: Rand) -> str:
    """Where each of several objects of one category is: 'one in the center and one at the top left'."""
    return join([f"one {position_phrase(o.cell, rand)}" for o in objs])


def group_at(facts: SceneFacts, category: str, names: Names, rand: Rand) -> str:
    """'a small red mug at the top left' or 'two mugs, one in the center and one at the top left'."""
    objs = facts.by_category[category]
    if len(objs) == 1:
        return obj_at(objs[0], names, rand)
    return f"{number_word(len(objs))} {names.plural(category)}, {locations(objs, rand)}"
