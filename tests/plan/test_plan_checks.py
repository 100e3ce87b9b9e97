"""The plan's numbers against their references: LLaVA-1.5-7B's published parameter count from its config.json,
DeepSpeed's own ZeRO estimators, torch.utils.flop_counter on a tiny model, and the measured activation peak."""

from __future__ import annotations

import pytest
import torch
from plan_compose import compose_plan
from plan_tiny import measured_activation_peak, micro_batch, step, tiny_lvlm
from torch.utils.flop_counter import FlopCounterMode
from transformers import AutoConfig, LlavaForConditionalGeneration

from reverie.plan.activations import activation_bytes
from reverie.plan.flops import micro_batch_flops
from reverie.plan.memory import state_bytes
from reverie.plan.meta_model import STAND_INS
from reverie.plan.parameters import param_counts
from reverie.plan.shapes import MicroBatch

LLAVA15_7B = 7_063_427_072  # llava-hf/llava-1.5-7b-hf, as published (the model card's "7.06B params")
CLIP_LAST_LAYER = 4 * (1024 * 1024 + 1024) + 2 * (1024 * 4096) + 4096 + 1024 + 2 * 2 * 1024  # attn, MLP, 2 norms


def test_llava15_7b_count_from_its_config_equals_the_published_count():
    config = AutoConfig.from_pretrained(STAND_INS / "llava-1.5-7b-hf")
    with torch.device("meta"):
        model = LlavaForConditionalGeneration(config)
    assert sum(p.numel() for p in model.parameters()) == LLAVA15_7B


def test_plan_counts_the_tower_cut_at_its_feature_layer(plan_of):
    """reverie keeps the tower up to vision_feature_layer=-2: the last layer and the post-layernorm are not built."""
    plan = plan_of("model=hf_llava", "model.path=/nowhere/llava-1.5-7b-hf", "stage=lora")
    assert plan.counts.total - 319_815_680 == LLAVA15_7B - CLIP_LAST_LAYER - 2 * 1024  # minus the LoRA adapters
    vicuna = plan_of("model=llava15_7b", "model.llm.build.pretrained_path=/nowhere/vicuna-7b-v1.5", "stage=finetune")
    parts = {p.part: p for p in vicuna.counts.parts}
    assert parts["language_model"].total == 6_738_415_616  # Vicuna-7B v1.5 = Llama-2-7B's published count
    assert parts["vision_tower"].total == LLAVA15_7B - CLIP_LAST_LAYER - 2 * 1024 - 6_738_939_904 - 20_979_712


def test_zero_figures_equal_deepspeeds_estimators(plan_of):
    deepspeed = pytest.importorskip(
        "deepspeed", reason="deepspeed is not installed; the formulas are cited in memory.py"
    )
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    assert deepspeed
    plan = plan_of("model=hf_llava", "model.path=/nowhere/llava-1.5-7b-hf", "stage=full", "trainer.devices=8")
    n = plan.counts.total
    assert plan.counts.trainable == n  # DeepSpeed's estimators assume every parameter trains
    _, zero2 = estimate_zero2_model_states_mem_needs(n, num_gpus_per_node=8, cpu_offload=False)
    _, zero3, _ = estimate_zero3_model_states_mem_needs(
        n, plan.counts.largest_layer, num_gpus_per_node=8, cpu_offload=False, cpu_offload_params=False
    )
    assert plan.states["deepspeed_zero2"].total == zero2
    assert plan.states["deepspeed_zero3"].total == zero3


def test_largest_layer_is_deepspeeds_on_a_real_model():
    deepspeed = pytest.importorskip("deepspeed", reason="deepspeed is not installed")
    from deepspeed.runtime.zero.stage3 import model_to_params

    assert deepspeed
    model = tiny_lvlm("full", "eager")
    assert param_counts(model).largest_layer == model_to_params(model)[1]


def test_frozen_parameters_cost_their_16_bit_copy_under_zero(plan_of):
    """LoRA: DeepSpeed's 18 bytes per trained parameter, 2 per frozen one (ZeRO-2 replicated, ZeRO-3 sharded). DDP
    keeps each weight as loaded (here bf16; peft's adapters fp32), its gradient and AdamW moments in that dtype."""
    overrides = ("model=hf_llava", "model.path=/nowhere/llava-1.5-7b-hf", "model.dtype=bfloat16", "stage=lora")
    counts = plan_of(*overrides).counts
    t, f = counts.trainable, counts.frozen
    assert state_bytes("deepspeed_zero2", counts, 8, "bf16-mixed").total == 2 * (t + f) + 18 * t // 8
    zero3 = 4 * counts.largest_layer + (18 * t + 2 * f) // 8
    assert state_bytes("deepspeed_zero3", counts, 8, "bf16-mixed").total == zero3
    trained = 4 * 319_815_680 + 2 * 20_979_712  # fp32 adapters, the bf16 projector
    assert (counts.trainable_bytes, counts.frozen_bytes) == (trained, 2 * f)
    ddp = state_bytes("ddp", counts, 8, "bf16-mixed")
    assert (ddp.weights, ddp.gradients, ddp.optimizer) == (trained + 2 * f, trained, 2 * trained)
    true_bf16 = state_bytes("ddp", counts, 8, "bf16-true")
    assert (true_bf16.weights, true_bf16.gradients, true_bf16.optimizer) == (2 * (t + f), 2 * t, 4 * t)


@pytest.mark.parametrize("stage", ["finetune", "lora", "full", "align", "lora_frozen_projector"])
def test_flops_equal_the_flop_counter(stage):
    """Eager attention, so the counter sees attention's products (it does not count CPU's fused attention)."""
    model = tiny_lvlm(stage, "eager")
    shape = MicroBatch(rows=2, length=40, images=2, targets=10)
    with FlopCounterMode(display=False) as counter:
        step(model, micro_batch(shape))
    assert sum(micro_batch_flops(model, shape).values()) == counter.get_total_flops()


@pytest.mark.parametrize(
    ("stage", "attention", "checkpointing"),
    [("finetune", "eager", False), ("finetune", "sdpa", True), ("lora", "sdpa", False), ("lora", "eager", True)]
    + [("full", "sdpa", False), ("align", "eager", True)],
)
def test_activation_estimate_within_25_percent_of_the_measured_peak(stage, attention, checkpointing):
    model = tiny_lvlm(stage, attention)
    if checkpointing:
        model.language_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    shape = MicroBatch(rows=4, length=96, images=4, targets=40)
    measured = measured_activation_peak(model, micro_batch(shape))
    estimate = activation_bytes(
        model, shape, checkpointing=checkpointing, compute=4, eager=attention == "eager", mask_bytes=4
    )
    assert abs(sum(estimate.values()) / measured - 1) <= 0.25, (sum(estimate.values()), measured)


def test_plan_of_a_real_hf_llava_folder_counts_what_reverie_builds(plan_of, tmp_path, tokenizer):
    """model=hf_llava: the meta model from the folder's config.json has the parameters, trainable and frozen per part,
    of the model reverie builds from the folder's weights and tokenizer."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    from reverie.build import build_lvlm
    from reverie.data.tokenizer import load_tokenizer
    from reverie.models.hf_llava import load_llava
    from reverie.training.stages import apply_stage

    vision = CLIPVisionConfig(
        image_size=48, patch_size=16, hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=2
    )
    text = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4
    )
    config = LlavaConfig(vision_config=vision.to_dict(), text_config=text.to_dict(), vision_feature_layer=-2)
    LlavaForConditionalGeneration(config).save_pretrained(tmp_path / "llava")
    tokenizer.save_pretrained(tmp_path / "llava")
    plan = plan_of("model=hf_llava", f"model.path={tmp_path / 'llava'}", "stage=lora")
    cfg = compose_plan("model=hf_llava", f"model.path={tmp_path / 'llava'}", "stage=lora")
    load_llava.cache_clear()
    model = build_lvlm(cfg, load_tokenizer(str(tmp_path / "llava")))
    apply_stage(model, "lora", train_projector=True, lora=dict(cfg.stage.lora))
    assert plan.counts == param_counts(model)
