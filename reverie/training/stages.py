"""Training stages: which parts of the LVLM train (align: projector; finetune: projector + LLM; lora: projector +
LoRA adapters on the LLM). The stage says what it froze, part by part, in the log."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from reverie.models.lvlm import LVLM

PARTS = ("vision_tower", "multi_modal_projector", "language_model")


@dataclass
class LoraSettings:
    r: int = 128  # adapter rank (REVERIE/LLaVA-1.5 LoRA: 128)
    alpha: int = 256  # scaling numerator (alpha / r)
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"  # peft's name for every linear layer except the head


def apply_stage(
    model: LVLM,
    name: str,
    train_vision_tower: bool = False,
    train_projector: bool = True,
    train_llm: bool = False,
    lora: dict | None = None,
) -> str:
    """Freeze/unfreeze parts (and add LoRA adapters when `lora` is given); returns the table it logged."""
    if lora is not None and train_llm:
        raise ValueError(f"stage {name}: choose full LLM training (train_llm) or LoRA, not both")
    for part, trainable in zip(PARTS, (train_vision_tower, train_projector, train_llm), strict=True):
        getattr(model, part).requires_grad_(trainable)
    if lora is not None:
        from peft import LoraConfig, get_peft_model

        settings = LoraSettings(**lora)
        config = LoraConfig(
            r=settings.r,
            lora_alpha=settings.alpha,
            lora_dropout=settings.dropout,
            target_modules=settings.target_modules,
            task_type="CAUSAL_LM",
        )
        model.language_model = get_peft_model(model.language_model, config)
    table = trainable_table(model, name)
    print(table)
    return table


def _count(module: nn.Module) -> tuple[int, int]:
    params = list(module.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def trainable_table(model: LVLM, stage: str) -> str:
    rows = [f"stage {stage!r}: trainable parameters by part", f"  {'part':<24}{'trainable':>14}{'total':>14}  status"]
    for part in PARTS:
        trainable, total = _count(getattr(model, part))
        status = "frozen" if trainable == 0 else ("trainable" if trainable == total else "partly (adapters)")
        rows.append(f"  {part:<24}{trainable:>14,}{total:>14,}  {status}")
    return "\n".join(rows)
