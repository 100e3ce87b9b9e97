"""Rationales for REVERIE records: why the correct answer is right (citing what is drawn where) and why the
confusing answer fails given what is really there. One to three sentences each, several paraphrases per case.

For a yes/no probe the confusing answer either asserts a false claim (refuted like any wrong value) or denies a true
one (answered by pointing at the evidence).

Co-occurrence records (``grounded=True``: existence and inventory questions whose confusing answer names an absent
theme-mate of the present objects) get rationales grounded in the image instead of in a list: which objects are
really there, cell by cell, and what the cells beside the companion that would bring the absent object to mind hold.
"""

from __future__ import annotations

from typing import Any

from reverie.world.facts import SceneFacts
from reverie.world.grid import CELLS, COL_NAMES, ROW_NAMES, Cell, holds, mirror_cell, position_name
from reverie.world.language import capitalize, join, number_word, position_phrase, relation_phrase, with_article
from reverie.world.phrases import Names, describe_obj, group_at, inventory, locations, obj_at
from reverie.world.probes import Probe
from reverie.world.rand import Rand

_SHARE = {"small": "about half", "medium": "about three quarters", "large": "nearly all"}


class _Writer:
    """Renders the sentences of one record; holds the scene, names and random source."""

    def __init__(self, p: Probe, facts: SceneFacts, names: Names, rand: Rand) -> None:
        self.p, self.f, self.names, self.rand = p, facts, names, rand

    def pick(self, *options: str) -> str:
        return capitalize(self.rand.choice(options))

    def pos(self, cell: Cell) -> str:
        return position_phrase(cell, self.rand)

    def inv(self) -> str:
        return inventory(self.f, self.names)

    # --- existence -------------------------------------------------------------------------------------------
    def present(self, c: str) -> str:
        g, be = group_at(self.f, c, self.names, self.rand), "is" if self.f.count(c) == 1 else "are"
        return self.pick(f"there {be} {g}.", f"the picture shows {g}.", f"the grid contains {g}.")

    def absent(self, c: str) -> str:
        o, inv = self.names(c), self.inv()
        if len(self.f.scene.objects) == 1:
            return self.pick(
                f"the only object in the image is {inv}, not {with_article(o)}.",
                f"the grid holds just {inv}; there is no {o}.",
            )
        return self.pick(
            f"the image holds {inv}; none of these is {with_article(o)}.",
            f"every object in the grid is accounted for: {inv}. No {o} is among them.",
            f"scanning all nine cells shows only {inv}, so no {o} is drawn.",
            f"the shapes here are {inv}, and none of them is {with_article(o)}.",
        )

    def hallucinated(self, c: str) -> str:
        w, inv, theme = self.names(c), self.inv(), self.f.vocab.by_name[c].theme
        mates = [m for m in self.f.present if self.f.vocab.by_name[m].theme == theme]
        options = [
            f"that answer invents {with_article(w)}: the image contains only {inv}.",
            f"nothing in the grid is {with_article(w)}; the objects present are {inv}, so {with_article(w)} is not there.",
        ]
        if mates:
            together = join([self.names.plural(m) for m in mates])
            these = "the only object is" if len(self.f.scene.objects) == 1 else "the objects are"
            options.append(
                f"{with_article(w)} often turns up alongside {together}, but here {these} {inv}; no {w} is drawn."
            )
        if theme == self.f.scene.theme:
            options.append(
                f"{self.names.plural(c)} are common in {theme} scenes like this one, yet the picture shows just {inv} and no {w}."
            )
        return self.pick(*options)

    def overlooked(self, c: str) -> str:
        g = group_at(self.f, c, self.names, self.rand)
        return self.pick(f"saying no overlooks {g}.", f"a no would miss {g}, which is plainly part of the scene.")

    # --- co-occurrence, grounded in the cells ----------------------------------------------------------------------
    def companion(self, c: str) -> str | None:
        """A present category of the absent ``c``'s theme (what brings ``c`` to mind), if any."""
        theme = self.f.vocab.by_name[c].theme
        mates = [m for m in self.f.present if self.f.vocab.by_name[m].theme == theme]
        return self.rand.choice(mates) if mates else None

    def beside(self, cell: Cell) -> str:
        """What the cells sharing an edge with ``cell`` hold: 'the top center cell holds a red mug and two cells are empty'."""
        (r, col), held, empty = cell, [], 0
        for other in CELLS:
            if abs(other[0] - r) + abs(other[1] - col) != 1:
                continue
            obj = self.f.cell_of.get(other)
            if obj is None:
                empty += 1
            else:
                held.append(f"the {position_name(other)} cell holds {describe_obj(obj, self.names, self.rand)}")
        if empty:
            held.append(f"{number_word(empty)} {'cell is' if empty == 1 else 'cells are'} empty")
        return join(held)

    def cell_by_cell(self) -> str:
        """Every object with its cell, then how many cells are empty."""
        objs = self.f.scene.objects
        listed = join([obj_at(x, self.names, self.rand, size=False) for x in objs])
        empty = 9 - len(objs)
        return f"{listed}; {'no cell is' if not empty else f'the other {number_word(empty)} cells are'} empty"

    def absent_here(self, c: str) -> str:
        """Why there is no ``c``: the cells beside its present companion, then the cells themselves."""
        o, mate = self.names(c), self.companion(c)
        if mate is None:
            return self.pick(
                f"cell by cell the grid shows {self.cell_by_cell()}. No cell holds {with_article(o)}.",
                f"the image holds {self.cell_by_cell()}; {with_article(o)} would need a cell of its own, and none has one.",
            )
        x = self.f.by_category[mate][0]
        m = self.names(mate)
        return self.pick(
            f"the {m} sits {self.pos(x.cell)}, and beside it {self.beside(x.cell)}. No cell anywhere holds {with_article(o)}.",
            f"next to the {m} {self.pos(x.cell)}, {self.beside(x.cell)}. There is no {o} in the image.",
        )

    def invented(self, c: str) -> str:
        """Why claiming ``c`` is wrong: the companion that suggests it is there, ``c`` itself is not."""
        w, mate = self.names(c), self.companion(c)
        if mate is None:
            theme = self.f.vocab.by_name[c].theme
            return self.pick(
                f"{self.names.plural(c)} belong with {theme} things, but this grid shows {self.cell_by_cell()}; no {w} is drawn.",
            )
        x = self.f.by_category[mate][0]
        m = self.names(mate)
        return self.pick(
            f"that answer expects {with_article(w)} because there is {with_article(m)} {self.pos(x.cell)}, but beside it {self.beside(x.cell)}, and no other cell holds {with_article(w)}.",
            f"{with_article(w)} often goes with {with_article(m)}, and there is {with_article(m)} {self.pos(x.cell)}; yet beside it {self.beside(x.cell)}. No {w} is drawn anywhere.",
        )

    # --- count -----------------------------------------------------------------------------------------------
    def counted(self, c: str) -> str:
        objs, o, os = self.f.by_category[c], self.names(c), self.names.plural(c)
        if len(objs) == 1:
            at = self.pos(objs[0].cell)
            return self.pick(
                f"there is just one {o}, {at}.",
                f"only a single {o} is drawn, {at}.",
                f"the only {o} in the grid sits {at}.",
            )
        n, locs = number_word(len(objs)), locations(objs, self.rand)
        return self.pick(
            f"there are {n} {os}: {locs}.",
            f"counting the {os} gives {n}: {locs}.",
            f"{n} cells hold {with_article(o)}: {locs}.",
        )

    def miscounted(self, c: str, m: int) -> str:
        objs, n = self.f.by_category[c], self.f.count(c)
        noun = self.names(c) if n == 1 else self.names.plural(c)
        locs = locations(objs, self.rand) if n > 1 else self.pos(objs[0].cell)
        if m > n:
            return self.pick(
                f"counting again finds {number_word(n)} {noun}, not {number_word(m)}: {locs}.",
                f"only {number_word(n)} {noun} {'is' if n == 1 else 'are'} drawn ({locs}); there is no other {self.names(c)}.",
            )
        return self.pick(
            f"that count misses one: the {noun} sit {locs}, which makes {number_word(n)}.",
            f"there are {number_word(n)} {noun}, not {number_word(m)}: {locs}.",
        )

    # --- colour ----------------------------------------------------------------------------------------------
    def colored(self, c: str) -> str:
        objs, o = self.f.by_category[c], self.names(c)
        if len(objs) == 1:
            color, at = objs[0].color, self.pos(objs[0].cell)
            return self.pick(
                f"the {o} {at} is filled with {color}.",
                f"looking at the {o} {at}, its color is {color}.",
                f"the {o} is drawn in solid {color}, {at}.",
            )
        parts = join([f"the one {self.pos(x.cell)} is {x.color}" for x in objs])
        return self.pick(f"there are {number_word(len(objs))} {self.names.plural(c)}: {parts}.")

    def miscolored(self, c: str, wrong: str) -> str:
        o, owner = self.names(c), self.f.colour_owner(wrong, c)
        actual = join(sorted({x.color for x in self.f.by_category[c]}))
        if owner is not None:
            other = self.names(owner.category)
            return self.pick(
                f"{wrong} is the color of the {other} {self.pos(owner.cell)}, not of the {o}; the {o} itself is {actual}.",
                f"that mixes up two objects: the {other} is {wrong}, while the {o} is {actual}.",
            )
        return self.pick(
            f"nothing about the {o} is {wrong}; it is plainly {actual}.", f"the {o} is {actual}, not {wrong}."
        )

    # --- position --------------------------------------------------------------------------------------------
    def placed(self, c: str) -> str:
        objs, o = self.f.by_category[c], self.names(c)
        if len(objs) > 1:
            return self.pick(
                f"there are {number_word(len(objs))} {self.names.plural(c)}, {locations(objs, self.rand)}."
            )
        (r, col) = cell = objs[0].cell
        return self.pick(
            f"the {o} sits {self.pos(cell)}.",
            f"the {o} is drawn in the {ROW_NAMES[r]} row and the {COL_NAMES[col]} column.",
            f"looking at the grid, the {o} occupies the cell {self.pos(cell)}.",
        )

    def misplaced(self, c: str, wrong: Cell) -> str:
        objs, o = self.f.by_category[c], self.names(c)
        occupant = self.f.cell_of.get(wrong)
        there = describe_obj(occupant, self.names, self.rand) if occupant else "nothing at all"
        if len(objs) > 1:
            locs = locations(objs, self.rand)
            return self.pick(
                f"no {o} sits {self.pos(wrong)}, which holds {there}; the {self.names.plural(c)} are {locs}."
            )
        where = self.pos(objs[0].cell)
        options = [f"the {o} is {where}, not {self.pos(wrong)}; that cell holds {there}."]
        if mirror_cell(objs[0].cell) == wrong:
            options.append(
                f"that answer mirrors the layout: the {o} is {where}, while {self.pos(wrong)} there is {there}."
            )
        return self.pick(*options)

    # --- relation --------------------------------------------------------------------------------------------
    def related(self, rel: str, true: bool) -> str:
        a, b = self.f.single(self.p.category), self.f.single(self.p.other)
        o, other = self.names(a.category), self.names(b.category)
        words = relation_phrase(rel)
        verdict = f"the {o} is {words} the {other}" if true else f"the {o} is not {words} the {other}"
        return self.pick(
            f"the {o} is {self.pos(a.cell)} and the {other} is {self.pos(b.cell)}, so {verdict}.",
            f"with the {o} {position_name(a.cell)} and the {other} {position_name(b.cell)}, {verdict}.",
        )

    def unrelated(self, claim: str) -> str:
        """Why the claimed relation does not hold, with the reason read off the two cells."""
        a, b = self.f.single(self.p.category), self.f.single(self.p.other)
        o, other = self.names(a.category), self.names(b.category)
        (ra, ca), (rb, cb) = a.cell, b.cell
        if claim == "next_to":
            reason = "their cells do not share an edge"
        elif claim in ("left_of", "right_of") and ca == cb:
            reason = "both sit in the same column, so neither is to the left or right of the other"
        elif claim in ("above", "below") and ra == rb:
            reason = "both sit in the same row, so neither is above the other"
        else:
            actual = next(
                r for r in ("left_of", "right_of", "above", "below") if holds(r, a.cell, b.cell) and r != claim
            )
            reason = f"that puts the {o} {relation_phrase(actual)} the {other}"
        return self.pick(
            f"that gets the layout wrong: the {o} is {self.pos(a.cell)} and the {other} is {self.pos(b.cell)}; {reason}.",
            f"the {o} ({position_name(a.cell)}) is not {relation_phrase(claim)} the {other} ({position_name(b.cell)}): {reason}.",
        )

    # --- identity, inventory, description ----------------------------------------------------------------------
    def identified(self, cell: Cell) -> str:
        d, at = describe_obj(self.f.cell_of[cell], self.names, self.rand), self.pos(cell)
        return self.pick(f"the object {at} is {d}.", f"{at} there is {d}.", f"the cell {at} holds {d}.")

    def misidentified(self, cell: Cell, wrong: str) -> str:
        obj, w = self.f.cell_of[cell], self.names(wrong)
        d, at = describe_obj(obj, self.names, self.rand), self.pos(cell)
        if self.f.count(wrong):
            return self.pick(
                f"the {w} is elsewhere ({group_at(self.f, wrong, self.names, self.rand)}); the cell {at} holds {d}."
            )
        return self.pick(
            f"there is no {w} in the image at all; the object {at} is {d}.",
            f"the cell {at} holds {d}, not {with_article(w)}.",
        )

    def listed(self) -> str:
        objs, empty = self.f.scene.objects, 9 - len(self.f.scene.objects)
        if len(objs) <= 3:
            return self.pick(f"the grid holds {join([obj_at(x, self.names, self.rand) for x in objs])}.")
        return self.pick(
            f"the grid holds {self.inv()}, and the other {number_word(empty)} cells are empty.",
            f"counting every shape gives {self.inv()}; nothing else is drawn.",
        )

    def mislisted(self, wrong: dict[str, int]) -> str:
        extra = [c for c in wrong if not self.f.count(c)]
        if extra:
            return self.hallucinated(extra[0])
        c = next(c for c in wrong if wrong[c] != self.f.count(c))
        return self.miscounted(c, wrong[c])

    def described(self, c: str) -> str:
        x, o = self.f.single(c), self.names(c)
        share = _SHARE[x.size]
        r, col = x.cell
        return self.pick(
            f"the {o} is the {x.color} shape in the {ROW_NAMES[r]} row and the {COL_NAMES[col]} column, and it is {x.size}, filling {share} of its cell.",
            f"the {x.color} {o} sits {self.pos(x.cell)} and spans {share} of the cell's width, which makes it {x.size}.",
        )


def rationales(p: Probe, facts: SceneFacts, names: Names, rand: Rand, grounded: bool = False) -> tuple[str, str]:
    """(positive rationale, negative rationale) for a probe; ``grounded``: a co-occurrence record (see above)."""
    w = _Writer(p, facts, names, rand)
    if grounded:
        return _grounded(w, p)
    return _positive(w, p), _negative(w, p)


def _grounded(w: _Writer, p: Probe) -> tuple[str, str]:
    """Rationales of a co-occurrence record: existence yes/no about an absent mate, existence choice, inventory."""
    if p.kind == "inventory":
        (extra,) = [c for c in p.wrong if not w.f.count(c)]
        return w.pick(f"cell by cell, the grid shows {w.cell_by_cell()}."), w.invented(extra)
    if p.qtype == "multiple_choice":
        return f"{w.present(p.truth)} {w.absent_here(p.wrong)}", w.invented(p.wrong)
    return w.absent_here(p.category), w.invented(p.category)


def _positive(w: _Writer, p: Probe) -> str:
    kind, c = p.kind, p.category
    if kind == "existence":
        if p.qtype == "multiple_choice":
            return f"{w.present(p.truth)} None of the other options is drawn."
        return w.present(c) if p.truth else w.absent(c)
    if kind == "count":
        return w.counted(c)
    if kind == "color":
        return w.colored(c)
    if kind == "position":
        return w.placed(c)
    if kind == "relation":
        return w.related(p.claim, bool(p.truth)) if p.qtype == "yes_no" else w.related(p.truth, True)
    if kind == "identity":
        return w.identified(p.cell)
    if kind == "inventory":
        return w.listed()
    return w.described(c)


def _negative(w: _Writer, p: Probe) -> str:
    kind, c = p.kind, p.category
    yes_no = p.qtype == "yes_no"
    if yes_no and p.truth:  # the confusing "No" denies something true
        return w.overlooked(c) if kind == "existence" else _evidence_against_denial(w, p)
    wrong: Any = p.claim if yes_no else p.wrong
    if kind == "existence":
        return w.hallucinated(c if yes_no else wrong)
    if kind == "count":
        return w.miscounted(c, wrong)
    if kind == "color":
        return w.miscolored(c, wrong)
    if kind == "position":
        return w.misplaced(c, tuple(wrong))
    if kind == "relation":
        return w.unrelated(wrong)
    if kind == "identity":
        return w.misidentified(p.cell, wrong)
    if kind == "inventory":
        return w.mislisted(wrong)
    color, _, cell = wrong
    return w.miscolored(c, color) if color != p.truth[0] else w.misplaced(c, cell)


def _evidence_against_denial(w: _Writer, p: Probe) -> str:
    """Why answering "No" to a true count / colour / position claim is wrong."""
    lead = w.pick("saying no ignores what is drawn.", "a no contradicts the image.", "denying it is wrong.")
    if p.kind == "relation":
        return f"{lead} {w.related(p.claim, True)}"
    return f"{lead} {({'count': w.counted, 'color': w.colored, 'position': w.placed}[p.kind])(p.category)}"


def description_rationales(facts: SceneFacts, names: Names, rand: Rand, invented: str, cell: Cell) -> tuple[str, str]:
    """(positive, negative) for a description and the same description with ``invented`` added ``cell`` (an empty
    cell, or an occupied one when the grid is full): what each cell really holds, and why the addition is wrong."""
    w = _Writer(Probe("open_ended", "inventory", None, None), facts, names, rand)
    occupant = facts.cell_of.get(cell)
    there = f"that cell holds {describe_obj(occupant, names, rand)}" if occupant else "that cell is empty"
    o = names(invented)
    positive = w.pick(f"cell by cell, the grid shows {w.cell_by_cell()}.")
    negative = w.pick(
        f"the description adds {with_article(o)} {w.pos(cell)}, but {there}. {w.invented(invented)}",
        f"{w.pos(cell)}, {there.replace('that cell', 'the cell')}: there is no {o} in the image.",
    )
    return positive, negative
