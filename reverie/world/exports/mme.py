"""MME-style yes/no pairs: per image and subtask (existence, count, position, color) one "yes" and one "no" question
about the same thing, on adjacent lines, each ending "Please answer yes or no." as MME's questions do.

Position asks about two objects' relative placement when the scene has two single objects in one row or column,
otherwise about one object's cell. Each line carries a ``probe`` (what is asked) for checking against the scene graph.
"""

from __future__ import annotations

from typing import Any

from reverie.world.facts import SceneFacts
from reverie.world.grid import holds, mirror_relation
from reverie.world.language import number_word, plural, position_phrases, with_article
from reverie.world.probes import MATE_SHARE, Probe, off_by_one
from reverie.world.rand import Rand

SUBTASKS = ("existence", "count", "position", "color")
SUFFIX = "Please answer yes or no."
_REL = {"left_of": "on the left side of", "right_of": "on the right side of", "above": "above", "below": "below"}

Pair = tuple[tuple[str, Probe], tuple[str, Probe]]  # (yes text, probe), (no text, probe)


def _yes_no(kind: str, claim_yes: Any, claim_no: Any, **target: Any) -> tuple[Probe, Probe]:
    return (
        Probe("yes_no", kind, True, False, claim=claim_yes, **target),
        Probe("yes_no", kind, False, True, claim=claim_no, **target),
    )


def _existence(f: SceneFacts, rand: Rand) -> Pair | None:
    present, absent = rand.choice(f.present), f.tempting_absent(rand, MATE_SHARE)
    if absent is None:
        return None
    yes = Probe("yes_no", "existence", True, False, category=present)
    no = Probe("yes_no", "existence", False, True, category=absent)
    return (f"Is there {with_article(present)} in this image?", yes), (
        f"Is there {with_article(absent)} in this image?",
        no,
    )


def _count_text(category: str, n: int) -> str:
    if n == 1:
        return f"Is there only one {category} in this image?"
    return f"Are there {number_word(n)} {plural(category)} in this image?"


def _count(f: SceneFacts, rand: Rand) -> Pair:
    c = rand.choice(f.present)
    n = f.count(c)
    m = off_by_one(n, rand)
    yes, no = _yes_no("count", n, m, category=c)
    return (_count_text(c, n), yes), (_count_text(c, m), no)


def _color(f: SceneFacts, rand: Rand) -> Pair:
    c = rand.choice(f.present)
    right = rand.choice([o.color for o in f.by_category[c]])
    wrong = f.other_color(c, rand)
    yes, no = _yes_no("color", right, wrong, category=c)
    text = "Is there {} in this image?"
    return (text.format(with_article(f"{right} {c}")), yes), (text.format(with_article(f"{wrong} {c}")), no)


def _position(f: SceneFacts, rand: Rand) -> Pair:
    aligned = []
    for a in f.singles:
        for b in f.singles:
            ca, cb = f.single(a).cell, f.single(b).cell
            if a != b and (ca[0] == cb[0] or ca[1] == cb[1]):
                aligned += [(a, b, rel) for rel in _REL if holds(rel, ca, cb)]
    if aligned:
        a, b, rel = rand.choice(aligned)
        mirror = mirror_relation(rel)
        assert mirror is not None
        yes = Probe("yes_no", "relation", True, False, category=a, other=b, relation=rel, claim=rel)
        no = Probe("yes_no", "relation", False, True, category=a, other=b, relation=mirror, claim=mirror)
        text = "Is the {} {} the {} in this image?"
        return (text.format(a, _REL[rel], b), yes), (text.format(a, _REL[mirror], b), no)
    c = rand.choice(f.present)
    cells = {o.cell for o in f.by_category[c]}
    right = rand.choice(sorted(cells))
    wrong = f.other_cell(right, rand, avoid=cells)
    yes, no = _yes_no("position", right, wrong, category=c)
    text = "Is there {} {} of this image?"
    return (
        (text.format(with_article(c), position_phrases(right)[0]), yes),
        (text.format(with_article(c), position_phrases(wrong)[0]), no),
    )


_SUBTASK_BUILDERS = {"existence": _existence, "count": _count, "position": _position, "color": _color}


def mme_questions(facts: SceneFacts, rand: Rand, first_id: int) -> list[dict[str, Any]]:
    """The MME lines of one image, numbered from ``first_id``: a yes line then a no line per subtask."""
    out: list[dict[str, Any]] = []
    for subtask in SUBTASKS:
        pair = _SUBTASK_BUILDERS[subtask](facts, rand)
        if pair is None:
            continue
        for (text, probe), label in zip(pair, ("yes", "no"), strict=True):
            out.append(
                {
                    "question_id": first_id + len(out),
                    "image": facts.scene.image,
                    "text": f"{text} {SUFFIX}",
                    "label": label,
                    "subtask": subtask,
                    "probe": probe.record(),
                }
            )
    return out
