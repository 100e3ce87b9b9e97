"""Training-step throughput of a LLaVA-1.5-7B-shaped random model: tokens/s, samples/s and MFU.

    python benchmarks/bench_gpu_step.py                      # on a GPU: the 7B shape, bf16, LoRA and full, trees on/off
    python benchmarks/bench_gpu_step.py --shape tiny --steps 2   # on a CPU: the same code on a tiny shape

Each case builds the model at random (CLIP ViT-L/14-336 cut at layer -2 -> mlp2x_gelu -> Vicuna-7B shape, all in
bf16 on a GPU), applies the stage (`lora`: r 128 on every LLM linear + projector; `full`: projector + whole LLM,
AdamW states in bf16 so 7B fits one 80 GB GPU), and times whole optimizer steps (forward, backward, AdamW) on rows
of `--seq` tokens. A REVERIE record is an image + question + answer, then two rationale branches: with trees one
row unit holds the prefix once and both branches (a tree attention mask), without trees each branch is its own
sample repeating the prefix; units are packed into rows up to `--seq`. MFU = model FLOPs of the step, counted by
`reverie.plan.flops` (the counter `reverie.plan` uses), / step time / `--peak-tflops`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from dataclasses import asdict, dataclass

import torch

from reverie.models.llm import build_llm
from reverie.models.lvlm import LVLM
from reverie.models.projector import build_projector
from reverie.models.vision import HFVisionEncoder
from reverie.plan.flops import micro_batch_flops
from reverie.plan.shapes import MicroBatch
from reverie.training.stages import apply_stage

VICUNA_7B = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32}
VICUNA_7B |= {"num_attention_heads": 32, "num_key_value_heads": 32, "max_position_embeddings": 4096}
CLIP_L_336 = {"model_type": "clip_vision_model", "hidden_size": 1024, "intermediate_size": 4096, "patch_size": 14}
CLIP_L_336 |= {"num_hidden_layers": 24, "num_attention_heads": 16, "image_size": 336}
TINY_LLM = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2}
TINY_LLM |= {"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 512}
TINY_TOWER = {"model_type": "clip_vision_model", "hidden_size": 32, "intermediate_size": 64, "patch_size": 16}
TINY_TOWER |= {"num_hidden_layers": 3, "num_attention_heads": 2, "image_size": 48}


@dataclass(frozen=True)
class Shape:
    llm: dict
    tower: dict
    vocab: int
    text: int  # question + answer tokens after the image
    answer: int  # supervised answer tokens
    branch: int  # tokens of one rationale turn (prompt + rationale), its last `rationale` supervised
    rationale: int


SHAPES = {
    "llava15_7b": Shape(VICUNA_7B, CLIP_L_336, 32064, text=96, answer=16, branch=192, rationale=160),
    "tiny": Shape(TINY_LLM, TINY_TOWER, 300, text=12, answer=3, branch=10, rationale=8),
}
IMAGE = 5  # the image token id


@dataclass
class Result:
    shape: str
    stage: str
    trees: bool
    rows: int
    seq: int
    samples_per_step: int
    step_s: float
    tokens_per_s: float  # non-padding tokens
    samples_per_s: float
    model_flops_per_step: int  # reverie.plan.flops
    mfu: float


def build(shape: Shape, stage: str, device: torch.device, dtype: torch.dtype) -> LVLM:
    torch.manual_seed(0)
    with torch.device(device):
        tower = HFVisionEncoder(config={**shape.tower, "attn_implementation": "sdpa"}, feature_layer=-2)
        llm = build_llm(shape.vocab, config=shape.llm, attn_implementation="sdpa")
        model = LVLM(tower, build_projector("mlp2x_gelu", tower.hidden_size, llm.config.hidden_size), llm, IMAGE)
    lora = {"r": 128, "alpha": 256, "dropout": 0.05} if stage == "lora" else None
    with contextlib.redirect_stdout(io.StringIO()):
        apply_stage(model, stage, train_projector=True, train_llm=stage == "full", lora=lora)
    return model.to(dtype).train()


def units(shape: Shape, image_tokens: int, trees: bool) -> list[list[tuple[int, int, bool]]]:
    """One record as units; a unit is a list of (branch id, tokens, is the rationale branch) spans."""
    prefix = image_tokens + shape.text
    if trees:
        return [[(0, prefix, False), (1, shape.branch, True), (2, shape.branch, True)]]
    return [[(0, prefix, False), (0, shape.branch, True)] for _ in range(2)]


def make_rows(shape: Shape, image_tokens: int, trees: bool, seq: int, rows: int, device: torch.device) -> dict:
    """Rows packed with records' units up to `seq` tokens; returns the batch and its sample count."""
    unit = units(shape, image_tokens, trees)[0]
    unit_len = sum(n for _, n, _ in unit)
    per_row = seq // unit_len
    if per_row < 1:
        raise SystemExit(f"--seq {seq} holds no unit of {unit_len} tokens")
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(10, shape.vocab, (rows, seq), generator=gen)
    unit_ids = torch.full((rows, seq), -1)
    branch_ids = torch.zeros(rows, seq, dtype=torch.long)
    positions = torch.zeros(rows, seq, dtype=torch.long)
    targets = torch.full((rows, seq), -100)
    for r in range(rows):
        start = 0
        for u in range(per_row):
            prefix_len = unit[0][1]
            for branch, n, rationale in unit:
                span = slice(start, start + n)
                unit_ids[r, span], branch_ids[r, span] = u, branch
                first = 0 if branch == 0 and not rationale else prefix_len
                positions[r, span] = torch.arange(first, first + n)
                if rationale:
                    targets[r, start + n - shape.rationale : start + n] = ids[
                        r, start + n - shape.rationale : start + n
                    ]
                else:
                    ids[r, start + 1 : start + 1 + image_tokens] = IMAGE
                    targets[r, start + n - shape.answer : start + n] = ids[r, start + n - shape.answer : start + n]
                start += n
    images = rows * per_row  # one image per unit: a tree's prefix, or each separate sample's own copy
    size = shape.tower["image_size"]
    batch = {
        "input_ids": ids,
        "unit_ids": unit_ids,
        "branch_ids": branch_ids,
        "position_ids": positions,
        "target_ids": targets,
        "target_segments": torch.zeros(rows, seq, dtype=torch.long),
        "target_mult": torch.ones(rows, seq),
        "pixel_values": torch.randn(images, 3, size, size, generator=gen),
    }
    samples = rows * per_row * (2 if trees else 1)  # a sample = one (answer, rationale) conversation
    return {k: v.to(device) for k, v in batch.items()}, samples


def run_case(shape_name: str, stage: str, trees: bool, args, device: torch.device, dtype: torch.dtype) -> Result:
    shape = SHAPES[shape_name]
    model = build(shape, stage, device, dtype)
    if args.checkpointing:
        model.language_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    batch, samples = make_rows(shape, model.num_image_tokens, trees, args.seq, args.rows, device)
    batch["pixel_values"] = batch["pixel_values"].to(dtype)
    images = batch["pixel_values"].shape[0]
    targets = int((batch["target_ids"] != -100).sum())
    flops = sum(micro_batch_flops(model, MicroBatch(args.rows, args.seq, images, targets)).values())
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)

    def step() -> None:
        ce, _, _ = model.token_losses(batch)
        ce.float().mean().backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    step_s = (time.perf_counter() - start) / args.steps
    tokens = int((batch["unit_ids"] >= 0).sum())
    return Result(
        shape_name,
        stage,
        trees,
        args.rows,
        args.seq,
        samples,
        round(step_s, 4),
        round(tokens / step_s, 1),
        round(samples / step_s, 3),
        flops,
        round(flops / step_s / (args.peak_tflops * 1e12), 4),
    )


def main(argv: list[str] | None = None) -> list[Result]:
    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="llava15_7b" if cuda else "tiny")
    parser.add_argument("--stages", default="lora,full", help="comma-separated: lora, full")
    parser.add_argument("--trees", default="on,off", help="comma-separated: on, off")
    parser.add_argument("--seq", type=int, default=2048 if cuda else 128, help="tokens per row")
    parser.add_argument("--rows", type=int, default=1, help="rows per micro-batch")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--checkpointing", action=argparse.BooleanOptionalAction, default=cuda)
    parser.add_argument("--dtype", choices=["bfloat16", "float32"], default="bfloat16" if cuda else "float32")
    parser.add_argument("--peak-tflops", type=float, default=989.0 if cuda else 1.0, help="per device (H100: 989)")
    args = parser.parse_args(argv)
    device = torch.device("cuda" if cuda else "cpu")
    dtype = getattr(torch, args.dtype)
    results = []
    for stage in args.stages.split(","):
        for trees in args.trees.split(","):
            result = run_case(args.shape, stage, trees == "on", args, device, dtype)
            print(json.dumps(asdict(result)), flush=True)
            results.append(result)
            if cuda:
                torch.cuda.empty_cache()
    return results


if __name__ == "__main__":
    main()
