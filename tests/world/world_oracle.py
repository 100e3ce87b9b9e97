"""Independent ground truth for the world tests: reads the files a world wrote and recomputes every answer from the
scene graphs in scenes.jsonl. Deliberately shares no code with reverie.world beyond reading its outputs."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "white")
NUMBERS = {w: i for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"))}
SIZE_WORDS = {
    "small": "small",
    "little": "small",
    "medium-sized": "medium",
    "mid-sized": "medium",
    "large": "large",
    "big": "large",
}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def plural(word: str) -> str:
    if word.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    if word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


class Oracle:
    """Scene lookups and answer parsers for one world folder."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.scenes = {s["image"]: s for s in read_jsonl(files["scenes"])}
        synonyms: dict[str, list[str]] = read_json(files["chair.synonyms"])
        self.surface: dict[str, str] = {}  # surface form (singular or plural) -> canonical category
        for canonical, names in synonyms.items():
            for name in names:
                self.surface[name] = canonical
                self.surface[plural(name)] = canonical
        forms = sorted(self.surface, key=len, reverse=True)  # longest first: "beach ball" before "ball"
        alt = "|".join(re.escape(f) for f in forms)
        self._mention = re.compile(rf"\b({alt})\b", re.IGNORECASE)
        count_words = "|".join([*NUMBERS, "a", "an"])
        adjectives = "|".join(re.escape(w) for w in (*COLORS, *SIZE_WORDS))
        self._counted = re.compile(rf"\b({count_words})\s+(?:(?:{adjectives})\s+){{0,2}}({alt})\b", re.IGNORECASE)

    # --- scene facts, recomputed --------------------------------------------------------------------------------
    def objects(self, image: str, category: str | None = None) -> list[dict[str, Any]]:
        objs = self.scenes[image]["objects"]
        return [o for o in objs if category is None or o["category"] == category]

    def present(self, image: str) -> set[str]:
        return {o["category"] for o in self.objects(image)}

    def counts(self, image: str) -> Counter:
        return Counter(o["category"] for o in self.objects(image))

    def single(self, image: str, category: str) -> dict[str, Any]:
        objs = self.objects(image, category)
        assert len(objs) == 1, f"{image}: question assumes one {category}, scene has {len(objs)}"
        return objs[0]

    def at(self, image: str, cell: list[int]) -> dict[str, Any]:
        (obj,) = [o for o in self.objects(image) if o["cell"] == list(cell)]
        return obj

    @staticmethod
    def holds(relation: str, a: list[int], b: list[int]) -> bool:
        (ra, ca), (rb, cb) = a, b
        return {
            "left_of": ca < cb,
            "right_of": ca > cb,
            "above": ra < rb,
            "below": ra > rb,
            "next_to": abs(ra - rb) + abs(ca - cb) == 1,
        }[relation]

    # --- parsers --------------------------------------------------------------------------------------------------
    def mentions(self, text: str) -> list[str]:
        """Canonical categories named in a text, in order (two-word names matched first)."""
        return [self.surface[m.group(1).lower()] for m in self._mention.finditer(text)]

    def counted_mentions(self, text: str) -> Counter:
        """'a red mug, two plates' -> {cup: 1, plate: 2}."""
        out: Counter = Counter()
        for m in self._counted.finditer(text):
            word = m.group(1).lower()
            out[self.surface[m.group(2).lower()]] += 1 if word in ("a", "an") else NUMBERS[word]
        return out

    def template(self, text: str) -> str:
        """A text with its objects, colours, numbers and position words blanked: what is left is the phrasing."""
        text = self._mention.sub("OBJ", text)
        text = re.sub(r"\b(" + "|".join(COLORS) + r")\b", "COLOR", text)
        text = re.sub(r"\b(\d+|" + "|".join(NUMBERS) + r")\b", "N", text)
        return re.sub(r"\b(top|upper|bottom|lower|left|right|center|middle)\b", "P", text)

    @staticmethod
    def colors_in(text: str) -> set[str]:
        return {c for c in COLORS if re.search(rf"\b{c}\b", text, re.IGNORECASE)}

    @staticmethod
    def number_in(text: str) -> int:
        found = re.findall(r"\b(\d+|" + "|".join(NUMBERS) + r")\b", text.lower())
        assert len(found) == 1, f"expected one number in {text!r}"
        return int(found[0]) if found[0].isdigit() else NUMBERS[found[0]]

    @staticmethod
    def cell_in(text: str) -> list[int]:
        """Map a position phrase to its cell: row words top/upper/bottom/lower, column words left/right."""
        t = text.lower()
        row = 0 if re.search(r"\b(top|upper)\b", t) else 2 if re.search(r"\b(bottom|lower)\b", t) else 1
        col = 0 if re.search(r"\bleft\b", t) else 2 if re.search(r"\bright\b", t) else 1
        return [row, col]

    @staticmethod
    def size_in(text: str) -> str | None:
        found = {v for k, v in SIZE_WORDS.items() if re.search(rf"\b{re.escape(k)}\b", text.lower())}
        return found.pop() if len(found) == 1 else None

    @staticmethod
    def relation_in(text: str) -> str:
        t = text.lower()
        found = [
            rel
            for rel, word in (("left_of", "left"), ("right_of", "right"), ("above", "above"), ("below", "below"))
            if re.search(rf"\b{word}\b", t)
        ]
        assert len(found) == 1, f"expected one relation in {text!r}"
        return found[0]

    @staticmethod
    def yes_no(text: str) -> bool:
        first = re.split(r"[\s,.]+", text.strip().lower())[0]
        assert first in ("yes", "no"), text
        return first == "yes"

    # --- truth of a probe ---------------------------------------------------------------------------------------
    def yes_no_truth(self, image: str, probe: dict[str, Any]) -> bool:
        kind, c = probe["kind"], probe.get("category")
        if kind == "existence":
            return c in self.present(image)
        if kind == "count":
            return self.counts(image)[c] == probe["claim"]
        if kind == "color":
            return probe["claim"] in {o["color"] for o in self.objects(image, c)}
        if kind == "position":
            return probe["claim"] in [o["cell"] for o in self.objects(image, c)]
        if kind == "relation":
            a, b = self.single(image, c)["cell"], self.single(image, probe["other"])["cell"]
            return self.holds(probe["relation"], a, b)
        raise AssertionError(f"no yes/no truth for {probe}")

    def value_truth(self, image: str, probe: dict[str, Any]) -> Any:
        """The true value a short-answer / multiple-choice / open question asks for."""
        kind, c = probe["kind"], probe.get("category")
        if kind == "count":
            return self.counts(image)[c]
        if kind == "color":
            return self.single(image, c)["color"]
        if kind == "position":
            return self.single(image, c)["cell"]
        if kind == "identity":
            return self.at(image, probe["cell"])["category"]
        if kind == "relation":
            a, b = self.single(image, c)["cell"], self.single(image, probe["other"])["cell"]
            found = [r for r in ("left_of", "right_of", "above", "below") if self.holds(r, a, b)]
            assert len(found) == 1, f"short relation question about a diagonal pair: {probe}"
            return found[0]
        if kind == "existence":  # multiple choice: the one option that is present
            hits = [o for o in probe["options"] if o in self.present(image)]
            assert len(hits) == 1, f"{image}: exactly one option should be present, got {hits}"
            return hits[0]
        if kind == "inventory":
            return self.counts(image)
        if kind == "describe":
            o = self.single(image, c)
            return (o["color"], o["size"], o["cell"])
        raise AssertionError(f"no value truth for {probe}")

    def parse_value(self, probe: dict[str, Any], text: str) -> Any:
        """Read the value an answer text states, for the probe's kind."""
        kind = probe["kind"]
        if kind == "count":
            return self.number_in(text)
        if kind == "color":
            (color,) = self.colors_in(text)
            return color
        if kind == "position":
            return self.cell_in(text)
        if kind == "identity":
            (category,) = set(self.mentions(text))
            return category
        if kind == "relation":
            return self.relation_in(text)
        if kind == "inventory":
            return self.counted_mentions(text)
        if kind == "describe":
            (color,) = self.colors_in(text) or {None}
            return (color, self.size_in(text), self.cell_in(text))
        raise AssertionError(kind)

    @staticmethod
    def letter_option(answer: str, options: list[Any]) -> Any:
        m = re.match(r"^\(?([A-H])\b", answer.strip())
        assert m, answer
        return options["ABCDEFGH".index(m.group(1))]
