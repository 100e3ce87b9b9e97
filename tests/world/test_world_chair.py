"""CHAIR ground truth and the synonym table."""

from __future__ import annotations

import re
from pathlib import Path

from world_oracle import Oracle, plural, read_json, read_jsonl


def test_chair_objects_are_the_scene_categories(world: dict[str, Path], oracle: Oracle) -> None:
    lines = read_jsonl(world["chair.objects"])
    assert [line["image"] for line in lines] == sorted(oracle.scenes)
    for line in lines:
        assert set(line["objects"]) == oracle.present(line["image"]) and len(line["objects"]) == len(
            set(line["objects"])
        )
        assert line["split"] == oracle.scenes[line["image"]]["split"]


def test_synonym_table(world: dict[str, Path], world_cfg) -> None:
    table: dict[str, list[str]] = read_json(world["chair.synonyms"])
    assert len(table) == (20 if world_cfg.themes is None else 5 * len(world_cfg.themes))
    owner: dict[str, str] = {}
    for canonical, names in table.items():
        assert 2 <= len(names) <= 4 and names[0] == canonical
        for name in names:
            assert re.fullmatch(r"[a-z]+( [a-z]+)?", name), name
            assert owner.setdefault(name, canonical) == canonical, f"{name!r} names two categories"
    plurals = read_json(world["chair.plurals"])
    assert plurals == {plural(n): n for names in table.values() for n in names}
    assert not set(plurals) & set(owner), "no plural form is also a singular name"


def test_captions_use_synonyms_and_plurals(world: dict[str, Path], oracle: Oracle) -> None:
    table: dict[str, list[str]] = read_json(world["chair.synonyms"])
    captions = " ".join(s["conversations"][1]["value"] for s in read_json(world["llava.captions.train"]))
    used = {name for names in table.values() for name in names if re.search(rf"\b{name}\b", captions)}
    assert len(used) > len(table) * 1.5, "captions draw on the synonyms, not only canonical names"
    assert any(re.search(rf"\b{re.escape(plural(n))}\b", captions) for names in table.values() for n in names)
