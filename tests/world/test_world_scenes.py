"""Scenes: layout rules, the recorded scene graph, the rendered pixels, glyph distinctness, the co-occurrence bias."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from world_oracle import Oracle, read_json

from reverie.world import WorldConfig, build_world, load_manifest
from reverie.world.glyphs import GLYPHS, draw_glyph
from reverie.world.vocab import make_vocab

BACKGROUND = (30, 32, 40)


def test_scene_layout_rules(oracle: Oracle, world_cfg) -> None:
    for scene in oracle.scenes.values():
        objs = scene["objects"]
        assert world_cfg.min_objects <= len(objs) <= world_cfg.max_objects
        cells = [tuple(o["cell"]) for o in objs]
        assert len(set(cells)) == len(cells) and all(0 <= r < 3 and 0 <= c < 3 for r, c in cells)


def test_default_scenes_are_varied(default_oracle: Oracle) -> None:
    oracle = default_oracle
    categories, colors, sizes = set(), set(), set()
    for scene in oracle.scenes.values():
        objs = scene["objects"]
        categories |= {o["category"] for o in objs}
        colors |= {o["color"] for o in objs}
        sizes |= {o["size"] for o in objs}
    assert len(categories) >= 16 and len(colors) >= 6 and 2 <= len(sizes) <= 3
    counts = Counter(len(s["objects"]) for s in oracle.scenes.values())
    assert set(counts) == set(range(1, 7)), "every object count from 1 to 6 occurs"


def test_boxes_lie_in_their_cells_and_never_overlap(oracle: Oracle, world_cfg) -> None:
    edge = [round(i * world_cfg.image_size / 3) for i in range(4)]  # cells split the image as evenly as pixels allow
    assert max(edge[i + 1] - edge[i] for i in range(3)) - min(edge[i + 1] - edge[i] for i in range(3)) <= 1
    for scene in oracle.scenes.values():
        boxes = []
        for o in scene["objects"]:
            x0, y0, x1, y1 = o["bbox"]
            r, c = o["cell"]
            assert edge[c] <= x0 < x1 <= edge[c + 1] and edge[r] <= y0 < y1 <= edge[r + 1]
            assert x1 - x0 == y1 - y0 >= 3
            boxes.append((x0, y0, x1, y1))
        for a, b in itertools.combinations(boxes, 2):
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_relations_match_the_cells(oracle: Oracle) -> None:
    for scene in oracle.scenes.values():
        objs = scene["objects"]
        expected = {
            (i, rel, j)
            for i, a in enumerate(objs)
            for j, b in enumerate(objs)
            if i != j
            for rel in ("left_of", "right_of", "above", "below", "next_to")
            if Oracle.holds(rel, a["cell"], b["cell"])
        }
        assert {(r["subject"], r["relation"], r["object"]) for r in scene["relations"]} == expected


def test_pixels_match_the_scene_graph(world: dict[str, Path], oracle: Oracle) -> None:
    palette = {
        "red": (222, 45, 38), "orange": (253, 141, 20), "yellow": (250, 222, 50), "green": (49, 178, 74),
        "blue": (45, 110, 245), "purple": (150, 75, 215), "pink": (250, 130, 195), "white": (240, 240, 240),
    }  # fmt: skip
    for image, scene in list(oracle.scenes.items())[:40]:
        pixels = np.asarray(Image.open(world["images"] / image).convert("RGB"))
        covered = np.zeros(pixels.shape[:2], dtype=bool)
        for o in scene["objects"]:
            x0, y0, x1, y1 = o["bbox"]
            inside = pixels[y0:y1, x0:x1].reshape(-1, 3)
            colours = {tuple(p) for p in inside}
            assert colours <= {palette[o["color"]], BACKGROUND}, f"{image}: stray colours in {o}"
            share = np.mean(np.all(inside == palette[o["color"]], axis=1))
            assert share > 0.2, f"{image}: the {o['category']} covers only {share:.0%} of its box"
            covered[y0:y1, x0:x1] = True
        assert np.all(pixels[~covered] == BACKGROUND), f"{image}: something drawn outside the boxes"


def test_each_category_has_a_distinct_glyph(default_world: dict[str, Path]) -> None:
    vocab = make_vocab()
    glyph_of = {c: vocab.by_name[c].glyph for c in read_json(default_world["cooccurrence"])["categories"]}
    assert len(set(glyph_of.values())) == len(glyph_of) >= 16
    for side, least in ((8, 10), (12, 18)):  # a small glyph at the default 48 px is 8 px, a medium one 12 px
        masks = {}
        for glyph in set(glyph_of.values()):
            assert glyph in GLYPHS
            im = Image.new("RGB", (side, side), BACKGROUND)
            draw_glyph(ImageDraw.Draw(im), glyph, (0, 0, side, side), (255, 255, 255), BACKGROUND)
            masks[glyph] = np.asarray(im)[..., 0] == 255
        for a, b in itertools.combinations(masks, 2):
            differ = np.sum(masks[a] != masks[b])
            assert differ >= least, f"glyphs {a} and {b} differ in only {differ} of {side * side} pixels at {side} px"


def test_cooccurrence_tables_match_the_scenes(world: dict[str, Path], oracle: Oracle) -> None:
    table = read_json(world["cooccurrence"])
    assert sum(len(m) for m in table["themes"].values()) == len(table["categories"])
    for split in ("all", "train", "val", "test"):
        scenes = [s for s in oracle.scenes.values() if split in ("all", s["split"])]
        freq = Counter(c for s in scenes for c in {o["category"] for o in s["objects"]})
        pairs = Counter(
            (a, b)
            for s in scenes
            for a in {o["category"] for o in s["objects"]}
            for b in {o["category"] for o in s["objects"]}
            if a != b
        )
        got = table["splits"][split]
        assert got["images"] == len(scenes)
        assert got["frequency"] == {c: freq[c] for c in table["categories"]}
        assert all(
            got["cooccurrence"][a][b] == pairs[(a, b)] for a in table["categories"] for b in got["cooccurrence"][a]
        )


def test_bias_strength_controls_theme_cooccurrence(tmp_path: Path) -> None:
    share = {}
    for bias in (0.0, 0.8):
        files = load_manifest(
            build_world(tmp_path / str(bias), WorldConfig(num_images=400, bias_strength=bias, reverie_per_image=0))
        )
        share[bias] = read_json(files["cooccurrence"])["splits"]["all"]["same_theme_share"]
    assert share[0.0] < 0.35 < 0.55 < share[0.8], share


def test_theme_subset(tmp_path: Path) -> None:
    files = load_manifest(build_world(tmp_path, WorldConfig(num_images=30, themes=["office", "kitchen"])))
    table = read_json(files["cooccurrence"])
    assert list(table["themes"]) == ["kitchen", "office"]
    oracle = Oracle(files)
    assert {o["theme"] for s in oracle.scenes.values() for o in s["objects"]} <= {"kitchen", "office"}
