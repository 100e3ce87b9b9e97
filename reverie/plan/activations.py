"""Activation memory of one micro-batch: the tensors autograd keeps from forward for backward, counted per token
from the architecture (per block of a Llama/Qwen-style decoder, per ViT block when the tower trains).

Per token and decoder block (h = width, f = MLP width, r = LoRA rank, a = heads, s = row length), in elements:
- weights train: 10h + 4f (RMSNorm input, normalised and scaled copies for both norms; rotated q, repeated k and v,
  the attention output; the MLP's gate, SiLU output, up and product), plus attention's probabilities a·s (eager) or
  the fused kernel's output and log-sum-exp h + a;
- LoRA (frozen base weights): 8h + 4f + 7r (the frozen linears keep nothing; the adapters keep their inputs and their
  rank-r products); with adapter dropout each adapter keeps its own dropped copy instead (6h + f in place of
  3h + f) and its dropout mask;
- frozen weights, no adapters (a gradient only passes through, e.g. stage=align): 5h + 3f;
- gradient checkpointing (every decoder block): the blocks keep only their inputs (h each); backward recomputes one
  block at a time, so one block's activations are added once.
Outside the blocks: the projector (its input and GELU in/out per image token when it trains), the final norm, and
the head's fp32 log-softmax over the vocabulary at each supervised target (cross-entropy in fp32). A frozen tower
keeps nothing. Norms and log-softmax keep fp32 under bf16-mixed; the rest is counted in the compute dtype. Backward
adds its working set at the peak: a block's incoming gradient and its MLP's intermediate gradients (2h + 2f).
"""

from __future__ import annotations

from torch import nn

from reverie.plan.shapes import MicroBatch, Stack, stack_of, tower_sequence


def _trains(module: nn.Module) -> bool:
    return any(p.requires_grad for p in module.parameters())


def _lora(llm: nn.Module) -> tuple[int, float]:
    """(rank, dropout) of the LLM's LoRA adapters; (0, 0) without adapters."""
    for module in llm.modules():
        if hasattr(module, "lora_A") and "default" in module.lora_A:
            dropout = module.lora_dropout["default"]
            return module.r["default"], float(getattr(dropout, "p", 0.0))
    return 0, 0.0


def _attention_elements(stack: Stack, length: int, eager: bool) -> int:
    """Per token: attention probabilities (eager) or the fused kernel's extra output and log-sum-exp."""
    return stack.heads * length if eager else stack.attention + stack.heads


def block_bytes(
    stack: Stack,
    length: int,
    *,
    trains: bool,
    lora: tuple[int, float],
    eager: bool,
    compute: int,
    mask_bytes: int,
) -> int:
    """Bytes one decoder block keeps per token. Always (a gradient flows through the block): both norms' inputs
    (fp32), rotated q, repeated k and v, attention's own tensors, the MLP's gate, SiLU output and up. Trained weights
    add their inputs (both norms' normalised copies, the scaled norm outputs, the attention output, the MLP
    product); LoRA adds its adapters' inputs (or dropped copies and their masks) and rank-r products."""
    h, f = stack.hidden, stack.mlp
    rank, dropout = lora
    norms = (4 if trains else 2) * h * 4
    elements = 3 * h + 3 * f + _attention_elements(stack, length, eager)
    masks = 0
    if trains:
        elements += 3 * h + f
    elif rank:
        elements += 7 * rank + (6 * h + f if dropout > 0 else 3 * h + f)
        masks = (6 * h + f) * mask_bytes if dropout > 0 else 0
    return norms + elements * compute + masks


def vit_block_bytes(stack: Stack, length: int, eager: bool, compute: int) -> int:
    """Bytes a trained ViT block keeps per token: both LayerNorms' inputs and outputs, q/k/v, the attention output,
    the MLP's hidden before and after its activation."""
    return (8 * stack.hidden + 2 * stack.mlp + _attention_elements(stack, length, eager)) * compute


def activation_bytes(
    model: nn.Module,
    batch: MicroBatch,
    *,
    checkpointing: bool,
    compute: int = 2,
    eager: bool = False,
    mask_bytes: int = 1,
) -> dict[str, int]:
    """Estimated bytes kept for backward by one micro-batch, per part. `compute`: bytes of an activation (2 under
    bf16, 4 in fp32); `eager`: attention as two products (else a fused kernel); `mask_bytes`: a dropout mask's
    element (1: CUDA's fused dropout keeps booleans; 4: the CPU kernel keeps its fp32 noise)."""
    tower, projector, llm = model.vision_tower, model.multi_modal_projector, model.language_model
    out: dict[str, int] = {"vision_tower": 0, "multi_modal_projector": 0}
    if _trains(tower):
        seq = tower_sequence(tower)
        out["vision_tower"] = (
            batch.images * seq * stack_of(tower).blocks * vit_block_bytes(stack_of(tower), seq, eager, compute)
        )
    if _trains(projector) or _trains(tower):
        width_in = next(m for m in projector.modules() if isinstance(m, nn.Linear)).in_features
        width_out = llm.get_input_embeddings().embedding_dim
        out["multi_modal_projector"] = batch.images * model.num_image_tokens * (width_in + 2 * width_out) * compute
    stack = stack_of(llm)
    lora = _lora(llm)
    trains = any(p.requires_grad for name, p in llm.named_parameters() if ".layers." in name and "lora_" not in name)
    per_block = batch.tokens * block_bytes(
        stack, batch.length, trains=trains, lora=lora, eager=eager, compute=compute, mask_bytes=mask_bytes
    )
    if checkpointing:
        out["language_model"] = stack.blocks * batch.tokens * stack.hidden * compute + per_block
    else:
        out["language_model"] = stack.blocks * per_block
    # backward's working set beside what is kept: a block's incoming gradient and its MLP's intermediate gradients
    out["backward"] = batch.tokens * (2 * stack.hidden + 2 * stack.mlp) * compute
    head = llm.get_output_embeddings()
    final_norm = batch.tokens * stack.hidden * 4 * (2 if trains else 1)
    head_input = batch.targets * stack.hidden * compute if head.weight.requires_grad else 0
    out["lm_head"] = final_norm + head_input + batch.targets * head.out_features * 4
    return out
