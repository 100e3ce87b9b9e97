"""The world's REVERIE export has the co-occurrence share its config says: records whose confusing answer names an
absent theme-mate of the present objects, counted from the files (scenes.jsonl and the answers), not from the code
that made them; their rationales are grounded in the cells."""

from __future__ import annotations

from pathlib import Path

import pytest
from world_oracle import Oracle, read_json

from reverie.world import WorldConfig, build_world, load_manifest

SPLITS = ("train", "val", "test")
# Short answers only outside the quota: none of them is an existence or inventory question, so every co-occurrence
# record in the file is one the quota made, and the count must be exact.
QUOTA_ONLY = {"reverie_types": {"short_answer": 1.0}}


def _mates(oracle: Oracle, themes: dict[str, str], image: str) -> set[str]:
    """Absent categories of a present object's theme, else of the scene's theme."""
    present = oracle.present(image)
    absent = set(themes) - present
    own = {c for c in absent if themes[c] in {themes[p] for p in present}}
    return own or {c for c in absent if themes[c] == oracle.scenes[image]["theme"]}


def cooccur(oracle: Oracle, themes: dict[str, str], r: dict) -> bool:
    """Whether a record's confusing answer names (or says yes to) an absent companion of the present objects."""
    probe, image, mates = r["probe"], r["image"], _mates(oracle, themes, r["image"])
    if probe["kind"] == "existence" and r["question_type"] == "yes_no":
        return probe["category"] in mates and oracle.yes_no(r["confusing_answer"])
    if probe["kind"] == "existence":
        return Oracle.letter_option(r["confusing_answer"], probe["options"]) in mates
    if probe["kind"] == "inventory":
        extra = set(oracle.parse_value(probe, r["confusing_answer"])) - oracle.present(image)
        return bool(extra) and extra <= mates
    return False


def _world(tmp_path: Path, **options) -> tuple[Oracle, dict[str, str], dict[str, list[dict]]]:
    build_world(tmp_path, WorldConfig(**options))
    files = load_manifest(tmp_path)
    themes = {c: t for t, members in read_json(files["cooccurrence"])["themes"].items() for c in members}
    return Oracle(files), themes, {s: read_json(files[f"reverie.{s}"]) for s in SPLITS}


@pytest.mark.parametrize("share", [0.0, 0.4, 0.75])
def test_the_export_has_the_configured_cooccurrence_share(tmp_path: Path, share: float) -> None:
    oracle, themes, splits = _world(tmp_path, num_images=60, seed=2, reverie_cooccur_share=share, **QUOTA_ONLY)
    made = 0
    for split, records in splits.items():
        hits = [r for r in records if cooccur(oracle, themes, r)]
        made += len(hits)
        assert abs(len(hits) - share * len(records)) <= 1, (split, len(hits), len(records))
    total = sum(map(len, splits.values()))
    assert made == int(share * total + 1e-9)  # the quota runs over the whole build, train then val then test
    if share:
        forms = {(r["question_type"], r["probe"]["kind"]) for rs in splits.values() for r in rs}
        assert {("yes_no", "existence"), ("multiple_choice", "existence"), ("open_ended", "inventory")} <= forms


def test_cooccurrence_rationales_are_grounded_in_the_cells(tmp_path: Path) -> None:
    oracle, themes, splits = _world(tmp_path, num_images=30, seed=5, reverie_cooccur_share=1.0)
    records = [r for rs in splits.values() for r in rs]
    assert all(cooccur(oracle, themes, r) for r in records)
    for r in records:  # and the correct answer is right
        probe, image = r["probe"], r["image"]
        if r["question_type"] == "yes_no":
            assert not oracle.yes_no(r["correct_answer"]) and probe["category"] not in oracle.present(image)
        elif r["question_type"] == "multiple_choice":
            assert Oracle.letter_option(r["correct_answer"], probe["options"]) == oracle.value_truth(image, probe)
        else:
            assert oracle.parse_value(probe, r["correct_answer"]) == oracle.counts(image)
    for r in records:
        probe, present = r["probe"], oracle.present(r["image"])
        absent = (set(oracle.mentions(r["confusing_answer"])) | {probe.get("category")}) - present - {None}
        if probe["kind"] == "existence" and r["question_type"] == "multiple_choice":
            absent = {Oracle.letter_option(r["confusing_answer"], probe["options"])}
        (mate,) = absent
        positive, negative = r["correct_rationale"], r["incorrect_rationale"]
        assert "cell" in positive or "beside" in positive, positive  # says where things are, cell by cell
        assert set(oracle.mentions(positive)) - present <= {mate} | set(map(str, probe.get("options", [])))
        assert mate in oracle.mentions(negative), negative  # names the object the confusing answer invents
        assert set(oracle.mentions(negative)) - present == {mate}, negative  # and nothing else absent


def test_a_scene_without_companions_gets_an_ordinary_record_and_the_next_makes_up(tmp_path: Path) -> None:
    """One theme, crowded scenes: some scenes hold every garden category, so the quota falls behind and catches up."""
    options = {"themes": ["garden"], "min_objects": 5, "max_objects": 6, "bias_strength": 1.0, **QUOTA_ONLY}
    oracle, themes, splits = _world(tmp_path, num_images=40, seed=3, reverie_cooccur_share=0.5, **options)
    records = [r for rs in splits.values() for r in rs]
    bare = [r for r in records if not _mates(oracle, themes, r["image"])]
    assert bare and not any(cooccur(oracle, themes, r) for r in bare)
    assert sum(cooccur(oracle, themes, r) for r in records) == len(records) // 2


def test_the_default_world_is_at_least_40_percent_cooccurrence() -> None:
    from hydra import compose, initialize_config_dir

    conf = Path(__file__).resolve().parents[2] / "reverie" / "conf"
    with initialize_config_dir(str(conf / "world"), version_base="1.3"):
        shipped = compose("default")
    assert WorldConfig().reverie_cooccur_share >= 0.4 and shipped.reverie_cooccur_share >= 0.4
