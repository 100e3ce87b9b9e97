"""Model FLOPs of one training micro-batch (forward and backward), counted the way `torch.utils.flop_counter`
counts them: every matrix product (linear layers, the patch convolution, attention's two products), 2 FLOPs per
multiply-add, nothing for element-wise work; backward computes the gradient of an input only where autograd needs
it and the gradient of a weight only where the weight trains.

Attention is counted as its products (forward 4·s²·width per row and block, backward twice that), which is what the
counter sees for eager attention. Fused kernels count differently in the counter (the flash/efficient backward
recomputes the scores: 2.5x instead of 2x; on CPU the fused kernel is not counted at all), and recomputation under
gradient checkpointing is not counted: these are the model FLOPs of MFU, not the hardware's.
"""

from __future__ import annotations

from torch import nn

from reverie.plan.shapes import MicroBatch, stack_of, tower_sequence


def _trains(module: nn.Module) -> bool:
    return any(p.requires_grad for p in module.parameters())


def _linear(layer: nn.Linear, tokens: int, input_grad: bool) -> int:
    return 2 * tokens * layer.in_features * layer.out_features * (1 + int(input_grad) + int(layer.weight.requires_grad))


def _attention(stack, rows: int, length: int, backward: bool) -> int:
    forward = 4 * rows * length * length * stack.attention * stack.blocks
    return forward * (3 if backward else 1)


def _first_block_input(name: str) -> bool:
    """A linear that reads the LLM's first block's normalised input (its input has no gradient when nothing before
    the LLM trains): q/k/v and their LoRA A matrices in block 0."""
    return ".layers.0.self_attn." in f".{name}" and name.split(".self_attn.")[1][:6] in ("q_proj", "k_proj", "v_proj")


def micro_batch_flops(model: nn.Module, batch: MicroBatch) -> dict[str, int]:
    """FLOPs per part of one forward + backward over `batch` (the LVLM's tower, projector, LLM and head)."""
    tower, projector, llm = model.vision_tower, model.multi_modal_projector, model.language_model
    head = llm.get_output_embeddings()
    tower_trains, projector_trains = _trains(tower), _trains(projector)
    out: dict[str, int] = {}

    seq = tower_sequence(tower) * batch.images
    flops = 0
    for layer in tower.modules():
        if isinstance(layer, nn.Linear):
            flops += _linear(layer, seq, tower_trains)
        elif isinstance(layer, nn.Conv2d):  # patch embedding: pixels never need a gradient
            positions = seq - (tower_sequence(tower) - _patches(tower)) * batch.images
            macs = layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1] * layer.out_channels
            flops += 2 * positions * macs * (1 + int(layer.weight.requires_grad))
    tower_stack = stack_of(tower)
    out["vision_tower"] = flops + _attention(tower_stack, batch.images, tower_sequence(tower), tower_trains)

    features = model.num_image_tokens * batch.images
    linears = [m for m in projector.modules() if isinstance(m, nn.Linear)]
    out["multi_modal_projector"] = sum(
        _linear(layer, features, tower_trains or (i > 0 and projector_trains)) for i, layer in enumerate(linears)
    )

    upstream = tower_trains or projector_trains or llm.get_input_embeddings().weight.requires_grad
    llm_trains = _trains(llm)
    flops = 0
    for name, layer in llm.named_modules():
        if not isinstance(layer, nn.Linear) or layer is head:
            continue
        input_grad = "lora_B" in name or upstream or (llm_trains and not _first_block_input(name))
        flops += _linear(layer, batch.tokens, input_grad)
    out["language_model"] = flops + _attention(stack_of(llm), batch.rows, batch.length, upstream or llm_trains)
    out["lm_head"] = _linear(head, batch.targets, upstream or llm_trains)
    return out


def _patches(tower: nn.Module) -> int:
    inner = tower.vision_model
    if hasattr(inner, "patch_embed"):
        return inner.patch_embed.num_patches
    return (tower.image_size // tower.patch_size) ** 2
