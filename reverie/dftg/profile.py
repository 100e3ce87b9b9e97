"""A model's hallucination profile: per-description checks aggregated per concept, written as JSON and a bar plot.

Per concept (object category): ``mentions`` = descriptions that name it (not negated); ``hallucinations`` =
descriptions that name it although it is absent; ``rate`` = hallucinations / mentions (how often a mention of it is
wrong); ``absent_images`` = images without it; ``invention_rate`` = hallucinations / absent_images (how often it is
invented when it is not there: the rate concepts are ranked and targeted by); ``triggers`` = the present objects
that most often accompany its hallucinations (the co-occurrence that sets it off). Attribute and count hallucinations
are counted per concept and attribute kind against the claims that could be checked.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reverie.dftg.extract import Triple
from reverie.dftg.judge import Checks
from reverie.dftg.truth import ImageTruth
from reverie.errors import InputError

RANK_BY = "invention_rate"


@dataclass(frozen=True)
class Diagnosed:
    """One described image: its description, triples, truth and checks."""

    image: str
    description: str
    triples: tuple[Triple, ...]
    truth: ImageTruth
    checks: Checks

    def to_dict(self) -> dict:
        return {
            "image": self.image,
            "description": self.description,
            "triples": [t.to_dict() for t in self.triples],
            "truth": self.truth.to_dict(),
            "hallucinations": [h.to_dict() for h in self.checks.hallucinations],
        }


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def build_profile(items: Sequence[Diagnosed], categories: Iterable[str], top_k: int = 3) -> dict:
    """The profile of ``items`` over ``categories`` (the vocabulary, so never-mentioned concepts appear with 0)."""
    categories = sorted(categories)
    mentioned: Counter[str] = Counter()
    hallucinated: Counter[str] = Counter()
    present: Counter[str] = Counter()
    triggers: dict[str, Counter[str]] = {c: Counter() for c in categories}
    attr_checked: Counter[tuple[str, str]] = Counter()
    attr_wrong: Counter[tuple[str, str]] = Counter()
    said: dict[tuple[str, str], Counter[str]] = {}
    count_checked: Counter[str] = Counter()
    count_wrong: Counter[str] = Counter()
    mention_total = object_total = with_object = 0
    for item in items:
        claims = [t for t in item.triples if not t.negated and not t.refers_back]
        mention_total += len(claims)
        mentioned.update({t.object for t in claims})
        present.update(item.truth.categories)
        objects = [h for h in item.checks.hallucinations if h.type == "object"]
        object_total += len(objects)
        with_object += bool(objects)
        for concept in {h.object for h in objects}:
            hallucinated[concept] += 1
            triggers.setdefault(concept, Counter()).update(item.truth.categories)
        attr_checked.update(item.checks.attribute_checks)
        count_checked.update(item.checks.count_checks)
        for h in item.checks.hallucinations:
            if h.type == "attribute":
                attr_wrong[(h.object, h.attribute)] += 1
                said.setdefault((h.object, h.attribute), Counter())[str(h.said)] += 1
            elif h.type == "count":
                count_wrong[h.object] += 1
    n = len(items)
    concepts = {}
    for c in sorted(set(categories) | set(mentioned)):
        absent = n - present[c]
        concepts[c] = {
            "mentions": mentioned[c],
            "hallucinations": hallucinated[c],
            "rate": _ratio(hallucinated[c], mentioned[c]),
            "present_images": present[c],
            "absent_images": absent,
            "invention_rate": _ratio(hallucinated[c], absent),
            "triggers": [[t, k] for t, k in sorted(triggers.get(c, {}).items(), key=lambda kv: (-kv[1], kv[0]))][
                :top_k
            ],
        }
    attributes: dict[str, dict] = {}
    for (c, kind), checked in sorted(attr_checked.items()):
        wrong = attr_wrong[(c, kind)]
        attributes.setdefault(c, {})[kind] = {
            "checked": checked,
            "wrong": wrong,
            "rate": _ratio(wrong, checked),
            "said": dict(sorted(said.get((c, kind), Counter()).items(), key=lambda kv: (-kv[1], kv[0]))),
        }
    counts = {
        c: {"checked": k, "wrong": count_wrong[c], "rate": _ratio(count_wrong[c], k)}
        for c, k in sorted(count_checked.items())
    }
    checked_attr, checked_count = sum(attr_checked.values()), sum(count_checked.values())
    return {
        "descriptions": n,
        "totals": {
            "mentions": mention_total,
            "object_hallucinations": object_total,
            "chair_i": _ratio(object_total, mention_total),
            "chair_s": _ratio(with_object, n),
            "attribute_checked": checked_attr,
            "attribute_hallucinations": sum(attr_wrong.values()),
            "attribute_rate": _ratio(sum(attr_wrong.values()), checked_attr),
            "count_checked": checked_count,
            "count_hallucinations": sum(count_wrong.values()),
            "count_rate": _ratio(sum(count_wrong.values()), checked_count),
        },
        "rank_by": RANK_BY,
        "top": ranked(concepts),
        "concepts": concepts,
        "attributes": attributes,
        "counts": counts,
    }


def ranked(concepts: dict[str, dict], key: str = RANK_BY) -> list[str]:
    """Hallucinated concepts, highest ``key`` first (ties: more hallucinations, then name)."""
    hit = [c for c, v in concepts.items() if v["hallucinations"] > 0]
    return sorted(hit, key=lambda c: (-concepts[c][key], -concepts[c]["hallucinations"], c))


class ProfileError(InputError):
    """A profile file that cannot be used; the message names the file."""


def load_profile(path: str | Path) -> dict:
    """A ``profile.json`` written by ``reverie.diagnose``; a clear error when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise ProfileError(f"{path}: profile file not found (write one with `python -m reverie.diagnose`)")
    try:
        profile = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ProfileError(f"{path}:{error.lineno}: not a valid profile (malformed JSON: {error.msg})") from error
    if not isinstance(profile, dict):
        raise ProfileError(f"{path}: not a valid profile (expected a JSON object)")
    for key in ("concepts", "attributes", "source"):
        if not isinstance(profile.get(key), dict):
            raise ProfileError(f"{path}: not a valid profile (missing object {key!r})")
    for concept, entry in profile["concepts"].items():
        for key in ("mentions", "hallucinations", "rate", "invention_rate", "absent_images"):
            if not isinstance(entry, dict) or not isinstance(entry.get(key), int | float):
                raise ProfileError(f"{path}: concepts[{concept!r}] has no number {key!r}")
    return profile


def plot_profile(profile: dict, path: str | Path, top_n: int = 15) -> Path:
    """Bar plot of the top hallucinated concepts (invention rate, with counts) and attribute/count errors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    concepts = profile["concepts"]
    top = profile["top"][:top_n]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    rates = [concepts[c]["invention_rate"] for c in top]
    bars = ax1.bar(range(len(top)), rates, color="#c44e52")
    for bar, c in zip(bars, top, strict=True):
        ax1.annotate(str(concepts[c]["hallucinations"]), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                     ha="center", va="bottom", fontsize=8)  # fmt: skip
    ax1.set_xticks(range(len(top)), top, rotation=45, ha="right")
    ax1.set_ylabel("invented when absent (share of images)")
    ax1.set_title(f"object hallucinations (count on bars), {profile['descriptions']} descriptions")
    rows = [(f"{c} {kind}", v["wrong"]) for c, kinds in profile["attributes"].items() for kind, v in kinds.items()] + [
        (f"{c} count", v["wrong"]) for c, v in profile["counts"].items()
    ]
    rows = sorted((r for r in rows if r[1] > 0), key=lambda r: -r[1])[:top_n]
    ax2.bar(range(len(rows)), [r[1] for r in rows], color="#4c72b0")
    ax2.set_xticks(range(len(rows)), [r[0] for r in rows], rotation=45, ha="right")
    ax2.set_ylabel("hallucinations")
    ax2.set_title("attribute and count hallucinations")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
