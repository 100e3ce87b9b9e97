"""Shared-prefix tree packing vs separate samples, on a realistic shape (336 px images -> 576 image tokens, short
text), for the paper's best setting (both rationales, separate contexts).

Prints samples/s (separate conversations trained per second), tokens computed, the speed-up, and the relative
difference of the per-segment losses. Target: >= 1.8x with losses equal (relative difference < 1e-4).

    python benchmarks/bench_packing.py [--records 32] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from timing import BENCH_LLM as LLM  # noqa: E402
from timing import BENCH_VIT as VIT  # noqa: E402
from timing import median_seconds, report_tree_vs_separate  # noqa: E402

from reverie.data.datamodule import ReverieDataModule  # noqa: E402
from reverie.data.mixture import ReverieSource  # noqa: E402
from reverie.data.reflect import ReflectionPolicy  # noqa: E402
from reverie.data.templates import TEMPLATES  # noqa: E402
from reverie.data.tokenizer import train_bpe_tokenizer  # noqa: E402
from reverie.models.llm import build_llm  # noqa: E402
from reverie.models.lvlm import LVLM  # noqa: E402
from reverie.models.projector import build_projector  # noqa: E402
from reverie.models.vision import TimmVisionEncoder  # noqa: E402
from reverie.training.objective import SegmentWeightedLoss  # noqa: E402
from reverie.world import WorldConfig, build_world, load_manifest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=32, help="REVERIE records (each = 2 separate samples)")
    parser.add_argument("--batch-size", type=int, default=4, help="separate samples per batch (trees: records)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    world = Path(tempfile.mkdtemp()) / "world"
    build_world(world, WorldConfig(num_images=max(40, args.records // 2), image_size=336))
    files = load_manifest(world)
    objective = SegmentWeightedLoss({})
    vision = TimmVisionEncoder("vit_tiny_patch16_224", image_size=336, model_kwargs=VIT)

    def datamodule(**packing) -> ReverieDataModule:
        dm = ReverieDataModule(
            [ReverieSource(str(files["reverie.train"]), str(files["images"]))],
            [],
            batch_size=args.batch_size,
            max_length=2048,
            **packing,
        )
        dm.load(ReflectionPolicy(kinds="both", context="separate"))
        dm.train_convs = dm.train_convs[: 2 * args.records]
        return dm

    plain, trees = datamodule(), datamodule(trees=True)
    tokenizer = train_bpe_tokenizer(plain.texts(), 512)
    model = LVLM(
        vision,
        build_projector("mlp2x_gelu", 64, LLM["hidden_size"]),
        build_llm(len(tokenizer), LLM),
        tokenizer.convert_tokens_to_ids("<image>"),
    )
    for dm in (plain, trees):
        dm.bind(
            tokenizer,
            TEMPLATES["vicuna_v1"],
            model.num_image_tokens,
            vision.image_transform(),
            objective.normaliser_weight,
        )
    results = {}
    for name, dm, bs in (("separate", plain, args.batch_size), ("tree", trees, max(1, args.batch_size // 2))):
        batches = list(dm._loader(dm.train_samples, bs, shuffle=False))
        tokens = sum(b["input_ids"].numel() for b in batches)

        def epoch(batches=batches) -> tuple[torch.Tensor, torch.Tensor]:
            model.zero_grad()
            seg_sum, seg_tok = 0.0, 0.0
            for b in batches:
                ce, seg, mult = model.token_losses(b)
                out = objective(ce, seg, 1.0, mult)
                out.loss.backward()
                seg_sum, seg_tok = seg_sum + out.segment_loss_sum, seg_tok + out.segment_tokens
            return seg_sum, seg_tok

        seconds = median_seconds(epoch, repeats=args.repeats)
        seg_sum, seg_tok = epoch()
        results[name] = (seconds, tokens, seg_sum / seg_tok.clamp_min(1))
        print(
            f"{name:>8}: {len(batches)} batches, {tokens} tokens computed, {seconds:.2f} s, "
            f"{2 * args.records / seconds:.1f} samples/s"
        )
    report_tree_vs_separate(results, model, f"records: {args.records}", "per-segment loss")


if __name__ == "__main__":
    main()
