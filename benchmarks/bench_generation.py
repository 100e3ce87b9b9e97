"""Batched vs batch-size-1 evaluation on the same model and questions (POPE on the built-in world).

Prints questions/s for both, the ratio, and how many answers are identical. Target: >= 8x with 100 % identical.
Also batched without prefix sharing (`share_prefix=false`: every question re-encodes its image and prompt), and each
figure as process CPU time too, which a busy machine disturbs less than wall time.

    python benchmarks/bench_generation.py [--questions 128] [--batch-size 64]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from timing import device_name  # noqa: E402

from reverie.data.templates import TEMPLATES  # noqa: E402
from reverie.data.tokenizer import train_bpe_tokenizer  # noqa: E402
from reverie.eval import PopeTask  # noqa: E402
from reverie.eval.generation import GenerationSettings, Generator  # noqa: E402
from reverie.models.llm import build_llm  # noqa: E402
from reverie.models.lvlm import LVLM  # noqa: E402
from reverie.models.projector import build_projector  # noqa: E402
from reverie.models.vision import TimmVisionEncoder  # noqa: E402
from reverie.world import WorldConfig, build_world, load_manifest  # noqa: E402

LLM = {
    "model_type": "llama",
    "hidden_size": 96,
    "intermediate_size": 192,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 1024,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=8)
    args = parser.parse_args()
    torch.manual_seed(0)
    world = Path(tempfile.mkdtemp()) / "world"
    build_world(world, WorldConfig(num_images=300))
    files = load_manifest(world)
    task = PopeTask(files["pope.test.adversarial"], files["images"], split="adversarial")
    items = [(q.prompt, str(q.image)) for q in task.questions[: args.questions]]
    tokenizer = train_bpe_tokenizer([p for p, _ in items] * 5 + ["Yes", "No"], 400)
    vision = TimmVisionEncoder(
        "vit_tiny_patch16_224", 48, model_kwargs={"patch_size": 8, "embed_dim": 64, "depth": 3, "num_heads": 2}
    )
    model = LVLM(
        vision,
        build_projector("mlp2x_gelu", 64, 96),
        build_llm(len(tokenizer), LLM),
        tokenizer.convert_tokens_to_ids("<image>"),
    )

    def run(batch_size: int, share: bool = True) -> tuple[list[str], float, float]:
        settings = GenerationSettings(batch_size=batch_size, max_new_tokens=args.max_new_tokens, share_prefix=share)
        gen = Generator(model, tokenizer, TEMPLATES["vicuna_v1"], vision.image_transform(), settings)
        start, cpu = time.perf_counter(), time.process_time()
        out = gen.generate(items)
        return out, time.perf_counter() - start, time.process_time() - cpu

    run(args.batch_size)  # warm-up
    batched, t_batched, c_batched = run(args.batch_size)
    unshared, t_unshared, c_unshared = run(args.batch_size, share=False)
    single, t_single, c_single = run(1)
    same = sum(a == b for a, b in zip(batched, single, strict=True))
    same_unshared = sum(a == b for a, b in zip(unshared, single, strict=True))
    print(f"device: {device_name()}; {len(items)} POPE questions, {args.max_new_tokens} new tokens, greedy")
    print(
        f"batch size 1: {len(items) / t_single:.1f} questions/s; batch size {args.batch_size}: "
        f"{len(items) / t_batched:.1f} questions/s (without prefix sharing {len(items) / t_unshared:.1f})"
    )
    print(
        f"speed-up: {t_single / t_batched:.1f}x wall, {c_single / c_batched:.1f}x CPU time (target >= 8x); "
        f"without prefix sharing {t_single / t_unshared:.1f}x wall, {c_single / c_unshared:.1f}x CPU time; "
        f"identical answers: {same}/{len(items)} (without sharing {same_unshared}/{len(items)})"
    )


if __name__ == "__main__":
    main()
