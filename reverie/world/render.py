"""Rendering: a scene becomes a PNG of coloured glyphs on a dark background."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image, ImageDraw

from reverie.world.glyphs import draw_glyph
from reverie.world.grid import glyph_box
from reverie.world.scene import Scene
from reverie.world.vocab import BACKGROUND, COLORS, SIZES, Vocab


def render_scene(scene: Scene, vocab: Vocab, image_size: int) -> Image.Image:
    """The scene as an RGB image of ``image_size`` x ``image_size`` pixels."""
    image = Image.new("RGB", (image_size, image_size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for obj in scene.objects:
        box = glyph_box(obj.cell, SIZES[obj.size], obj.offset, image_size)
        draw_glyph(draw, vocab.by_name[obj.category].glyph, box, COLORS[obj.color], BACKGROUND)
    return image


def _write_chunk(args: tuple[Sequence[Scene], Vocab, int, str]) -> int:
    scenes, vocab, image_size, folder = args
    for scene in scenes:
        # optimize=False and no metadata: the bytes depend only on the pixels (and the zlib build).
        render_scene(scene, vocab, image_size).save(Path(folder) / scene.image, format="PNG", compress_level=6)
    return len(scenes)


def write_images(scenes: Sequence[Scene], vocab: Vocab, image_size: int, folder: Path, workers: int = 1) -> None:
    """Render every scene to ``folder``/<scene.image>; ``workers`` > 1 renders in parallel (same bytes either way)."""
    folder.mkdir(parents=True, exist_ok=True)
    if workers <= 1 or len(scenes) < 200:
        _write_chunk((scenes, vocab, image_size, str(folder)))
        return
    step = -(-len(scenes) // (workers * 4))
    chunks = [(scenes[i : i + step], vocab, image_size, str(folder)) for i in range(0, len(scenes), step)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(_write_chunk, chunks):
            pass
