"""Probes: structured questions about a scene, with the true value and a plausible wrong one.

A probe is what is asked (kind, objects, claimed value, options) independent of wording. Its ``truth`` and ``wrong``
are structured values (bool, int, colour, cell, category, counts); ``questions`` and ``rationales`` turn probes
into text. Wrong values are plausible on purpose: an absent theme-mate, an off-by-one count, another object's colour,
a mirrored position or relation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reverie.world.facts import SceneFacts
from reverie.world.grid import CELLS, Cell, holds, mirror_relation
from reverie.world.rand import Rand
from reverie.world.vocab import COLORS

# Kinds each question type can ask, in the order they are tried after a random first pick.
KINDS: dict[str, tuple[str, ...]] = {
    "yes_no": ("existence", "existence", "color", "count", "position", "relation"),
    "short_answer": ("count", "color", "position", "identity", "relation"),
    "multiple_choice": ("identity", "existence", "color", "count", "position"),
    "open_ended": ("inventory", "describe"),
}
MATE_SHARE = 0.7  # share of absent-object questions that ask about a theme-mate rather than any absent category
N_OPTIONS = 4


@dataclass
class Probe:
    """One structured question. ``claim`` is the value a yes/no question asserts."""

    qtype: str
    kind: str
    truth: Any
    wrong: Any
    category: str | None = None
    other: str | None = None  # relation: the reference object
    relation: str | None = None
    cell: Cell | None = None  # identity: the cell asked about
    claim: Any = None
    options: list[Any] | None = None

    def record(self) -> dict[str, Any]:
        """What the question asks, as JSON (no answer in it), so readers can check answers against the scene."""
        out: dict[str, Any] = {"kind": self.kind}
        for key in ("category", "other", "relation", "cell", "claim", "options"):
            value = getattr(self, key)
            if value is not None:
                out[key] = _jsonable(value)
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def off_by_one(n: int, rand: Rand) -> int:
    return n + 1 if n == 1 or rand.chance(0.5) else n - 1


def _with_options(probe: Probe, distractors: list[Any], rand: Rand) -> Probe:
    """Fill ``options``: truth, the wrong value, then distractors, shuffled (counts stay in ascending order)."""
    options = [probe.truth, probe.wrong]
    options += [d for d in distractors if d not in options][: N_OPTIONS - 2]
    probe.options = sorted(options) if probe.kind == "count" else rand.shuffled(options)
    return probe


def _absent_ranked(f: SceneFacts, rand: Rand) -> list[str]:
    mates = rand.shuffled(f.absent_mates)
    return mates + rand.shuffled([c for c in f.absent if c not in mates])


def existence_yes_no(f: SceneFacts, rand: Rand, yes_share: float = 0.5, mate_share: float = MATE_SHARE) -> Probe:
    """ "Is there a {category}?": about a present category with probability ``yes_share`` (always when nothing is
    absent), else about an absent one, a theme-mate with probability ``mate_share`` (see ``tempting_absent``)."""
    absent = f.tempting_absent(rand, mate_share)
    if absent is None or rand.chance(yes_share):
        return Probe("yes_no", "existence", True, False, category=rand.choice(f.present))
    return Probe("yes_no", "existence", False, True, category=absent)


def _existence(qtype: str, f: SceneFacts, rand: Rand) -> Probe | None:
    if qtype == "yes_no":
        return existence_yes_no(f, rand)
    ranked = _absent_ranked(f, rand)
    if not ranked:
        return None
    probe = Probe(qtype, "existence", rand.choice(f.present), ranked[0])
    return _with_options(probe, ranked[1:], rand)


def _count(qtype: str, f: SceneFacts, rand: Rand) -> Probe:
    category = rand.choice(f.present)
    n = f.count(category)
    if qtype == "yes_no":
        claim = n if rand.chance(0.5) else off_by_one(n, rand)
        return Probe(qtype, "count", claim == n, claim != n, category=category, claim=claim)
    probe = Probe(qtype, "count", n, off_by_one(n, rand), category=category)
    if qtype == "multiple_choice":
        low = max(1, min(n, probe.wrong) - rand.below(2))
        return _with_options(probe, list(range(low, low + N_OPTIONS)), rand)
    return probe


def _color(qtype: str, f: SceneFacts, rand: Rand) -> Probe | None:
    if qtype == "yes_no":
        category = rand.choice(f.present)
        own = [o.color for o in f.by_category[category]]
        claim = rand.choice(own) if rand.chance(0.5) else f.other_color(category, rand)
        return Probe(qtype, "color", claim in own, claim not in own, category=category, claim=claim)
    if not f.singles:
        return None
    category = rand.choice(f.singles)
    probe = Probe(qtype, "color", f.single(category).color, f.other_color(category, rand), category=category)
    if qtype == "multiple_choice":
        return _with_options(probe, rand.shuffled(list(COLORS)), rand)
    return probe


def _position(qtype: str, f: SceneFacts, rand: Rand) -> Probe | None:
    if qtype == "yes_no":
        category = rand.choice(f.present)
        cells = {o.cell for o in f.by_category[category]}
        claim = rand.choice(sorted(cells))
        if rand.chance(0.5):
            claim = f.other_cell(claim, rand, avoid=cells)
        return Probe(qtype, "position", claim in cells, claim not in cells, category=category, claim=claim)
    if not f.singles:
        return None
    category = rand.choice(f.singles)
    cell = f.single(category).cell
    probe = Probe(qtype, "position", cell, f.other_cell(cell, rand), category=category)
    if qtype == "multiple_choice":
        return _with_options(probe, rand.shuffled(list(CELLS)), rand)
    return probe


def _relation(qtype: str, f: SceneFacts, rand: Rand) -> Probe | None:
    pairs = [(a, b) for a in f.singles for b in f.singles if a != b]
    if qtype == "yes_no":
        want = rand.chance(0.5)
        options = [
            (a, b, rel)
            for a, b in pairs
            for rel in ("left_of", "right_of", "above", "below", "next_to")
            if holds(rel, f.single(a).cell, f.single(b).cell) == want
        ]
        if not options:
            return None
        a, b, rel = rand.choice(options)
        return Probe(qtype, "relation", want, not want, category=a, other=b, relation=rel, claim=rel)
    aligned = []
    for a, b in pairs:
        (ra, ca), (rb, cb) = f.single(a).cell, f.single(b).cell
        if ra == rb:
            aligned.append((a, b, "left_of" if ca < cb else "right_of"))
        elif ca == cb:
            aligned.append((a, b, "above" if ra < rb else "below"))
    if not aligned:
        return None
    a, b, rel = rand.choice(aligned)
    return Probe(qtype, "relation", rel, mirror_relation(rel), category=a, other=b)


def _identity(qtype: str, f: SceneFacts, rand: Rand) -> Probe | None:
    obj = rand.choice(f.scene.objects)
    ranked = _absent_ranked(f, rand) + rand.shuffled([c for c in f.present if c != obj.category])
    if not ranked:
        return None
    probe = Probe(qtype, "identity", obj.category, ranked[0], cell=obj.cell)
    if qtype == "multiple_choice":
        return _with_options(probe, ranked[1:], rand)
    return probe


def _inventory(qtype: str, f: SceneFacts, rand: Rand) -> Probe:
    truth = {c: f.count(c) for c in f.present}
    wrong = dict(truth)
    absent = f.tempting_absent(rand, 1.0)
    if absent is not None and rand.chance(MATE_SHARE):
        wrong[absent] = 1
    else:
        category = rand.choice(f.present)
        wrong[category] = off_by_one(truth[category], rand)
    return Probe(qtype, "inventory", truth, wrong)


def _describe(qtype: str, f: SceneFacts, rand: Rand) -> Probe | None:
    if not f.singles:
        return None
    category = rand.choice(f.singles)
    obj = f.single(category)
    truth = (obj.color, obj.size, obj.cell)
    if rand.chance(0.5):
        wrong = (f.other_color(category, rand), obj.size, obj.cell)
    else:
        wrong = (obj.color, obj.size, f.other_cell(obj.cell, rand))
    return Probe(qtype, "describe", truth, wrong, category=category)


_BUILDERS: dict[str, Callable[[str, SceneFacts, Rand], Probe | None]] = {
    "existence": _existence,
    "count": _count,
    "color": _color,
    "position": _position,
    "relation": _relation,
    "identity": _identity,
    "inventory": _inventory,
    "describe": _describe,
}


def make_probe(qtype: str, kind: str, facts: SceneFacts, rand: Rand) -> Probe | None:
    """A probe of one kind, or None when the scene cannot support it (e.g. no two single objects for a relation)."""
    return _BUILDERS[kind](qtype, facts, rand)


def sample_probe(qtype: str, facts: SceneFacts, rand: Rand, kinds: tuple[str, ...] | None = None) -> Probe:
    """A probe of a random kind allowed for ``qtype``, falling back through the other kinds when one is impossible."""
    kinds = kinds or KINDS[qtype]
    start = rand.below(len(kinds))
    for kind in kinds[start:] + kinds[:start]:
        probe = make_probe(qtype, kind, facts, rand)
        if probe is not None:
            return probe
    raise RuntimeError(f"no {qtype} probe possible for {facts.scene.image}")  # count/inventory always succeed
