"""CLI: ``python -m reverie.world --out DIR [options]`` builds the built-in world and prints a short summary.

A user mistake (a bad option or value, an ``--out`` that holds something else than a world) prints one line
``reverie: error: ...`` and exits with status 2, as every reverie entry point does (``HYDRA_FULL_ERROR=1``: the
traceback)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from reverie.cli import full_error, one_line
from reverie.errors import UserError
from reverie.world.build import write_world
from reverie.world.config import QUESTION_TYPES, WorldConfig
from reverie.world.vocab import THEME_NAMES


def _types(text: str) -> dict[str, float]:
    """'short_answer=0.4,yes_no=0.2' -> {'short_answer': 0.4, 'yes_no': 0.2}."""
    out: dict[str, float] = {}
    for part in filter(None, text.split(",")):
        name, sep, weight = part.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected type=weight, got {part!r}")
        try:
            out[name.strip()] = float(weight)
        except ValueError:
            raise argparse.ArgumentTypeError(f"weight of {name!r} is not a number: {weight!r}") from None
    return out


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in reverie's one line (argparse prints the usage and then the error)."""

    def error(self, message: str) -> NoReturn:
        print(f"reverie: error: {one_line(message)} (see python -m reverie.world --help)", file=sys.stderr)
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    d = WorldConfig()
    p = _Parser(prog="python -m reverie.world", description="Build reverie's built-in world.")
    p.add_argument("--out", required=True, help="output directory (new, empty, or a previous world)")
    p.add_argument("--images", type=int, default=d.num_images, help=f"number of images (default {d.num_images})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    p.add_argument("--image-size", type=int, default=d.image_size, help=f"image side in px (default {d.image_size})")
    p.add_argument(
        "--bias-strength", type=float, default=d.bias_strength, help="chance an object comes from the scene's theme"
    )
    p.add_argument("--themes", default=None, help=f"comma-separated subset of: {', '.join(THEME_NAMES)}")
    p.add_argument(
        "--popularity-skew", type=float, default=d.popularity_skew, help="how unequal category frequencies are"
    )
    p.add_argument("--min-objects", type=int, default=d.min_objects, help="fewest objects per scene")
    p.add_argument("--max-objects", type=int, default=d.max_objects, help="most objects per scene (<= 9)")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction, help="share of images in val")
    p.add_argument("--test-fraction", type=float, default=d.test_fraction, help="share of images in test")
    p.add_argument("--vqa-turns", type=int, default=d.vqa_turns, help="questions per VQA conversation")
    p.add_argument("--reverie-per-image", type=int, default=d.reverie_per_image, help="REVERIE records per image")
    p.add_argument(
        "--reverie-types", type=_types, default=None, help=f"weights, e.g. {','.join(f'{t}=1' for t in QUESTION_TYPES)}"
    )
    p.add_argument("--questions-per-image", type=int, default=d.questions_per_image, help="dense single questions")
    p.add_argument("--question-kinds", type=_types, default=None, help="weights, e.g. existence=0.9,count=0.1")
    p.add_argument(
        "--questions-yes-share", type=float, default=d.questions_yes_share, help="share of existence questions: yes"
    )
    p.add_argument(
        "--questions-mate-share", type=float, default=d.questions_mate_share, help="share of negatives: theme-mates"
    )
    p.add_argument("--pope-per-image", type=int, default=d.pope_per_image, help="present objects probed per image")
    p.add_argument("--mcq-per-image", type=int, default=d.mcq_per_image, help="multiple-choice questions per image")
    p.add_argument("--workers", type=int, default=1, help="processes rendering images (output is the same)")
    return p


def config_from_args(args: argparse.Namespace) -> WorldConfig:
    cfg = WorldConfig(
        num_images=args.images,
        seed=args.seed,
        image_size=args.image_size,
        bias_strength=args.bias_strength,
        themes=[t.strip() for t in args.themes.split(",") if t.strip()] if args.themes is not None else None,
        popularity_skew=args.popularity_skew,
        min_objects=args.min_objects,
        max_objects=args.max_objects,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        vqa_turns=args.vqa_turns,
        reverie_per_image=args.reverie_per_image,
        questions_per_image=args.questions_per_image,
        questions_yes_share=args.questions_yes_share,
        questions_mate_share=args.questions_mate_share,
        pope_per_image=args.pope_per_image,
        mcq_per_image=args.mcq_per_image,
    )
    if args.reverie_types is not None:
        cfg.reverie_types = args.reverie_types
    if args.question_kinds is not None:
        cfg.question_kinds = args.question_kinds
    return cfg


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    start = time.perf_counter()
    try:
        cfg = config_from_args(args)
        report = write_world(args.out, cfg, workers=args.workers)
    except (ValueError, UserError, OSError) as err:  # a bad value, or an --out that cannot be (or is not) a world
        if full_error():
            raise
        print(f"reverie: error: {one_line(str(err))}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    c = report.counts
    sizes = cfg.split_sizes()
    print(f"built world: {c['images']} images ({', '.join(f'{k} {v}' for k, v in sizes.items())}), {cfg.image_size} px")
    for label, prefix, splits in (
        ("captions", "llava.captions", ("train", "val", "test")),
        ("vqa", "llava.vqa", ("train", "val", "test")),
        ("reverie", "reverie", ("train", "val", "test")),
        ("pope", "pope", ("val.random", "test.random")),  # the three strategies have equal counts
        ("mme", "mme", ("val", "test")),
        ("mcq", "mcq", ("val", "test")),
    ):
        print(f"  {label:<9}" + ", ".join(f"{s} {c[f'{prefix}.{s}']}" for s in splits))
    print(f"  time     {seconds:.1f} s")
    print(f"manifest: {report.manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
