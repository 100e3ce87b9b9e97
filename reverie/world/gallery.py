"""Pictures for docs/world.md: a sheet of every category's glyph, and example images with their questions.

    python -m reverie.world.gallery --out docs/img/world

writes glyphs.png and example_<n>.png (224 px, with the 48 px original upscaled beside it) and prints the Markdown
for the examples (caption, REVERIE records, POPE questions), taken from a default world built at 224 px.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from reverie.world.build import build_world, load_manifest
from reverie.world.config import WorldConfig
from reverie.world.glyphs import draw_glyph
from reverie.world.vocab import BACKGROUND, COLORS, make_vocab

CELL = 112


def glyph_sheet(path: Path) -> None:
    """All categories, one column per theme, each glyph labelled with its name."""
    vocab = make_vocab()
    font = ImageFont.load_default(size=15)
    rows = max(len(m) for m in vocab.members.values())
    sheet = Image.new("RGB", (CELL * len(vocab.themes), 28 + CELL * rows), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    colors = list(COLORS.values())
    for col, theme in enumerate(vocab.themes):
        draw.text((col * CELL + CELL // 2, 14), theme.upper(), fill=(200, 200, 200), font=font, anchor="mm")
        for row, name in enumerate(vocab.members[theme]):
            x, y = col * CELL, 28 + row * CELL
            box = (x + 28, y + 10, x + 84, y + 66)
            draw_glyph(draw, vocab.by_name[name].glyph, box, colors[(row + col) % len(colors)], BACKGROUND)
            draw.text((x + CELL // 2, y + 86), name, fill=(235, 235, 235), font=font, anchor="mm")
    sheet.save(path)


def _pair(big: Path, small: Path, out: Path) -> None:
    """The 224 px rendering and the 48 px one (nearest-neighbour upscaled), side by side."""
    with Image.open(big) as a, Image.open(small) as b:
        canvas = Image.new("RGB", (a.width * 2 + 16, a.height), (255, 255, 255))
        canvas.paste(a, (0, 0))
        canvas.paste(b.resize(a.size, Image.Resampling.NEAREST), (a.width + 16, 0))
        canvas.save(out)


def examples(out: Path, images: list[str]) -> str:
    """Write example PNGs and return their Markdown."""
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        big = load_manifest(build_world(Path(tmp) / "big", WorldConfig(image_size=224)))
        small = load_manifest(build_world(Path(tmp) / "small", WorldConfig()))
        captions = {
            s["image"]: s["conversations"][1]["value"] for s in json.loads(big["llava.captions.test"].read_text())
        }
        records = json.loads(big["reverie.test"].read_text())
        pope = [json.loads(x) for x in big["pope.test.adversarial"].read_text().splitlines()]
        for n, image in enumerate(images, 1):
            name = f"example_{n}.png"
            _pair(big["images"] / image, small["images"] / image, out / name)
            lines += [f"### Example {n} (`{image}`)", "", f"![{image} at 224 px and at 48 px](img/world/{name})", ""]
            lines += [f"**Caption** (`llava.captions.test`): {captions[image]}", ""]
            for r in (r for r in records if r["image"] == image):
                question = r["question"].replace("\n", " / ")
                lines += [
                    f"- **{r['question_type']}** — *{question}*",
                    f"  - correct: **{r['correct_answer']}** — {r['correct_rationale']}",
                    f"  - confusing: **{r['confusing_answer']}** — {r['incorrect_rationale']}",
                ]
            probes = [f"{q['text']} → {q['label']}" for q in pope if q["image"] == image]
            lines += ["", f"**POPE adversarial**: {'; '.join(probes)}", ""]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("docs/img/world"))
    p.add_argument("--images", default="000541.png,000549.png,000567.png", help="test images to show")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    glyph_sheet(args.out / "glyphs.png")
    print(examples(args.out, args.images.split(",")))


if __name__ == "__main__":
    main()
