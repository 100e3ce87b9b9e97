"""A tiny real LVLM (transformers CLIP tower -> MLP -> Llama) with a stage applied, one synthetic micro-batch, and
the measurements the plan is checked against: `torch.utils.flop_counter` and PyTorch's MemTracker."""

from __future__ import annotations

import contextlib
import io

import torch
from torch.distributed._tools.mem_tracker import MemTracker

from reverie.models.llm import build_llm
from reverie.models.lvlm import LVLM
from reverie.models.projector import build_projector
from reverie.models.vision import HFVisionEncoder
from reverie.plan.shapes import MicroBatch
from reverie.training.stages import apply_stage

IMAGE = 5  # the image token id
STAGES = {  # (tower, projector, LLM in full, LoRA)
    "finetune": (False, True, True, False),
    "lora": (False, True, False, True),
    "full": (True, True, True, False),
    "align": (False, True, False, False),
    "lora_frozen_projector": (False, False, False, True),
}


def tiny_lvlm(stage: str, attention: str) -> LVLM:
    torch.manual_seed(0)
    tower = HFVisionEncoder(
        config={
            "model_type": "clip_vision_model",
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 3,
            "num_attention_heads": 2,
            "image_size": 48,
            "patch_size": 16,
            "attn_implementation": attention,
        }
    )
    llm_config = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2}
    llm_config |= {"num_attention_heads": 4, "num_key_value_heads": 2}
    llm = build_llm(300, config=llm_config, attn_implementation=attention)
    model = LVLM(tower, build_projector("mlp2x_gelu", 32, 64), llm, image_token_id=IMAGE)
    tower_trains, projector_trains, llm_trains, lora = STAGES[stage]
    with contextlib.redirect_stdout(io.StringIO()):
        apply_stage(
            model,
            stage,
            train_vision_tower=tower_trains,
            train_projector=projector_trains,
            train_llm=llm_trains,
            lora={"r": 8, "alpha": 16, "dropout": 0.05} if lora else None,
        )
    return model.train()


def micro_batch(shape: MicroBatch) -> dict:
    """Rows of `shape.length` tokens, one image each (its 9 tokens after the first), the last targets supervised."""
    torch.manual_seed(1)
    rows, length = shape.rows, shape.length
    ids = torch.randint(10, 300, (rows, length))
    ids[:, 1:10] = IMAGE
    per_row = shape.targets // rows
    targets = torch.full((rows, length), -100)
    targets[:, length - per_row :] = ids[:, length - per_row :]
    return {
        "input_ids": ids,
        "attention_mask": torch.ones(rows, length, dtype=torch.long),
        "pixel_values": torch.randn(rows, 3, 48, 48),
        "target_ids": targets,
        "target_segments": torch.zeros(rows, length, dtype=torch.long),
        "target_mult": torch.ones(rows, length),
    }


def step(model: LVLM, batch: dict) -> None:
    ce, _, _ = model.token_losses(batch)
    ce.sum().backward()


class _Tracker(MemTracker):
    """MemTracker without gradient hooks on parameters (it cannot hook a frozen one); activations are what counts."""

    def _track_module_params_and_buffers(self, module, install_grad_hooks=True):
        return super()._track_module_params_and_buffers(module, install_grad_hooks=False)


def measured_activation_peak(model: LVLM, batch: dict) -> int:
    """Activations and backward temporaries at the step's memory peak (MemTracker's ACT + TEMP), in bytes."""
    tracker = _Tracker()
    tracker.track_external(model)
    with tracker:
        step(model, batch)
    peak = {
        str(k.value): v for k, v in tracker.get_tracker_snapshot("peak")[torch.device("cpu")].items() if k != "Total"
    }
    return peak["Activation"] + peak["Temp"]
