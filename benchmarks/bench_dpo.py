"""DPO on shared-prefix pair trees vs two separate sequences (chosen, rejected), on a realistic shape (336 px images
-> 576 image tokens, short answers): one DPO step = policy forward + backward and a reference forward.

Prints pairs/s, tokens computed, the speed-up, and the largest difference of the sequence log-probabilities
between the two layouts. Target: >= 1.8x with log-probabilities equal (relative difference < 1e-4).

    python benchmarks/bench_dpo.py [--pairs 32] [--batch-size 4] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from timing import BENCH_LLM as LLM  # noqa: E402
from timing import BENCH_VIT as VIT  # noqa: E402
from timing import median_seconds, report_tree_vs_separate  # noqa: E402

from reverie.data.dataset import Collator, EncodedDataset  # noqa: E402
from reverie.data.encode import EncodeReport, SampleEncoder  # noqa: E402
from reverie.data.preference import make_pairs, pair_conversations  # noqa: E402
from reverie.data.sources import load_reverie_json  # noqa: E402
from reverie.data.templates import TEMPLATES  # noqa: E402
from reverie.data.tokenizer import train_bpe_tokenizer  # noqa: E402
from reverie.models.llm import build_llm  # noqa: E402
from reverie.models.lvlm import LVLM  # noqa: E402
from reverie.models.projector import build_projector  # noqa: E402
from reverie.models.vision import TimmVisionEncoder  # noqa: E402
from reverie.training.dpo import PreferenceObjective, pair_targets, sequence_logps  # noqa: E402
from reverie.training.reference import ReferencePolicy  # noqa: E402
from reverie.world import WorldConfig, build_world, load_manifest  # noqa: E402


def separate_targets(batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Side and pair of every target of a batch of plain rows laid out [chosen_0, rejected_0, chosen_1, ...]."""
    keep = batch["target_ids"] != -100
    rows = torch.arange(keep.shape[0])[:, None].expand_as(keep)[keep]
    return batch["preference"][keep], rows // 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=32, help="REVERIE records (each = one preference pair)")
    parser.add_argument("--batch-size", type=int, default=4, help="pairs per batch (separate: 2x sequences)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--image-size", type=int, default=336, help="336: 576 image tokens; 48: the tiny world's 9")
    args = parser.parse_args()
    torch.manual_seed(0)
    world = Path(tempfile.mkdtemp()) / "world"
    build_world(world, WorldConfig(num_images=max(40, args.pairs // 2), image_size=args.image_size))
    files = load_manifest(world)
    records = load_reverie_json(files["reverie.train"], files["images"])[: args.pairs]
    convs = [c for r in records for c in pair_conversations(r, "<image>\n{question}")]  # [chosen, rejected] each
    tokenizer = train_bpe_tokenizer([t.text for c in convs for t in c.turns], 512)
    vision = TimmVisionEncoder("vit_tiny_patch16_224", image_size=args.image_size, model_kwargs=VIT)
    model = LVLM(
        vision,
        build_projector("mlp2x_gelu", 64, LLM["hidden_size"]),
        build_llm(len(tokenizer), LLM),
        tokenizer.convert_tokens_to_ids("<image>"),
    )
    model.vision_tower.requires_grad_(False)
    reference = ReferencePolicy(copy.deepcopy(model))  # a frozen copy: the reference forward a DPO step pays for
    encoder = SampleEncoder(tokenizer, TEMPLATES["vicuna_v1"], model.num_image_tokens, 2048)
    separate = [encoder.encode(c, EncodeReport()) for c in convs]
    trees, counts = make_pairs(separate, model.image_token_id, 2048)
    assert counts["pairs"] == len(records), counts
    collate = Collator(tokenizer.pad_token_id)
    objective = PreferenceObjective(beta=0.1)

    def loader(samples, rows_per_batch):
        dataset = EncodedDataset(samples, vision.image_transform())
        return [
            collate([dataset[i] for i in range(s, min(s + rows_per_batch, len(samples)))])
            for s in range(0, len(samples), rows_per_batch)
        ]

    layouts = {
        "separate": (loader(separate, 2 * args.batch_size), separate_targets),
        "tree": (loader(trees, args.batch_size), pair_targets),
    }
    results = {}
    for name, (batches, targets) in layouts.items():
        tokens = sum(b["input_ids"].numel() for b in batches)

        def epoch(batches=batches, targets=targets) -> torch.Tensor:
            model.zero_grad()
            logps = []
            for b in batches:
                side, pair = targets(b)
                ce, seg, mult = model.token_losses(b)
                ref_ce = reference.token_losses(model, b)
                out = objective(ce, ref_ce, seg, mult, side, pair, 0.0)
                out.pair_loss.backward()
                logps.append(torch.stack(sequence_logps(-ce.detach(), side, pair), 1))
            return torch.cat(logps)

        seconds = median_seconds(epoch, repeats=args.repeats)
        results[name] = (seconds, tokens, epoch())
        print(
            f"{name:>8}: {len(batches)} batches, {tokens} tokens computed, {seconds:.2f} s, "
            f"{args.pairs / seconds:.1f} pairs/s"
        )
    report_tree_vs_separate(results, model, f"pairs: {args.pairs}", "sequence log-probability")


if __name__ == "__main__":
    main()
