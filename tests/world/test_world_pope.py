"""POPE files follow POPE's sampling rules, checked against statistics recomputed from the split's scene graphs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from world_oracle import Oracle, read_json, read_jsonl

from reverie.world import WorldConfig, build_world, load_manifest

STRATEGIES = ("random", "popular", "adversarial")


def _split_stats(oracle: Oracle, split: str) -> tuple[Counter, dict[str, Counter]]:
    freq: Counter = Counter()
    cooc: dict[str, Counter] = {}
    for scene in oracle.scenes.values():
        if scene["split"] != split:
            continue
        present = {o["category"] for o in scene["objects"]}
        freq.update(present)
        for a in present:
            cooc.setdefault(a, Counter()).update(present - {a})
    return freq, cooc


def _pairs(questions: list[dict]) -> list[tuple[dict, dict]]:
    assert len(questions) % 2 == 0
    return list(zip(questions[::2], questions[1::2], strict=True))


def _check_split(files: dict[str, Path], oracle: Oracle, split: str, k: int) -> None:
    vocabulary = set(read_json(files["chair.synonyms"]))
    freq, cooc = _split_stats(oracle, split)
    positives = {}
    for strategy in STRATEGIES:
        questions = read_jsonl(files[f"pope.{split}.{strategy}"])
        assert [q["question_id"] for q in questions] == list(range(1, len(questions) + 1))
        asked: dict[str, list[str]] = {}
        for yes, no in _pairs(questions):
            image = yes["image"]
            assert no["image"] == image and (yes["label"], no["label"]) == ("yes", "no")
            present = oracle.present(image)
            for q in (yes, no):
                article = "an" if q["object"][0] in "aeiou" else "a"
                assert q["text"] == f"Is there {article} {q['object']} in the image?"
                assert q["object"] in vocabulary
            assert yes["object"] in present, "a yes object is really in the image"
            assert no["object"] not in present, "a no object is really absent"
            before = asked.setdefault(image, [])
            candidates = vocabulary - present - set(before)
            if strategy == "popular":  # (a fallback to random is allowed only once every candidate has frequency 0)
                assert all(freq[c] <= freq[no["object"]] for c in candidates), f"{no} is not the most frequent left"
            if strategy == "adversarial":
                row = cooc.get(yes["object"], Counter())
                assert all(row[c] <= row[no["object"]] for c in candidates), f"{no} is not the top co-occurring one"
            assert no["object"] not in before, "no negative repeats within an image"
            before.append(no["object"])
        for image, negs in asked.items():
            present = oracle.present(image)
            assert len(negs) == min(k, len(present), len(vocabulary - present))
        positives[strategy] = [q["object"] for q in questions if q["label"] == "yes"]
        assert {oracle.scenes[q["image"]]["split"] for q in questions} == {split}
    assert positives["random"] == positives["popular"] == positives["adversarial"], "same present objects probed"


def test_pope_rules(world: dict[str, Path], oracle: Oracle, world_cfg: WorldConfig) -> None:
    for split in ("val", "test"):
        _check_split(world, oracle, split, k=world_cfg.pope_per_image)


def test_adversarial_negatives_are_mostly_theme_mates(tmp_path: Path) -> None:
    """With POPE-sized statistics (60 test images), adversarial negatives are the absent theme-mates."""
    files = load_manifest(build_world(tmp_path, WorldConfig(num_images=120, test_fraction=0.5, reverie_per_image=0)))
    themes = {c: t for t, members in read_json(files["cooccurrence"])["themes"].items() for c in members}
    share = {}
    for strategy in STRATEGIES:
        pairs = _pairs(read_jsonl(files[f"pope.test.{strategy}"]))
        share[strategy] = sum(themes[y["object"]] == themes[n["object"]] for y, n in pairs) / len(pairs)
    assert share["adversarial"] > 0.6 > 0.3 > max(share["random"], share["popular"]), share


def test_pope_rules_with_one_pair_per_image(tmp_path: Path) -> None:
    files = load_manifest(
        build_world(tmp_path, WorldConfig(num_images=60, seed=5, pope_per_image=1, reverie_per_image=0))
    )
    _check_split(files, Oracle(files), "test", k=1)
