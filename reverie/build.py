"""Turns a composed config into objects: data module, tokenizer, LVLM, LightningModule, trainer.

Shared by `reverie.run`, `reverie.inspect` and `reverie.evaluate`, so every entry point builds things the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hydra.utils import instantiate
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.callbacks import LearningRateMonitor
from omegaconf import DictConfig, OmegaConf

from reverie.checkpoints import load_model_weights, resolve_init
from reverie.data.datamodule import ReverieDataModule
from reverie.data.reflect import ReflectionPolicy
from reverie.data.templates import ChatTemplate, get_template
from reverie.data.tokenizer import build_tokenizer, corpus_tokenizer
from reverie.models.lvlm import LVLM
from reverie.training.module import ReverieModule
from reverie.training.objective import SegmentWeightedLoss
from reverie.training.optim import OptimSettings
from reverie.training.stages import apply_stage


@dataclass
class Built:
    data: ReverieDataModule
    tokenizer: object
    template: ChatTemplate
    model: LVLM
    objective: SegmentWeightedLoss


def build_data(cfg: DictConfig) -> tuple[ReverieDataModule, ReflectionPolicy]:
    policy: ReflectionPolicy = instantiate(cfg.reflection)
    data: ReverieDataModule = instantiate(cfg.data)
    data.load(policy)
    return data, policy


def build_lvlm(cfg: DictConfig, tokenizer) -> LVLM:
    vision = instantiate(cfg.model.vision_encoder)
    llm = instantiate(cfg.model.llm.build)(vocab_size=len(tokenizer))
    projector = instantiate(cfg.model.projector)(
        in_dim=vision.hidden_size, out_dim=llm.config.get_text_config().hidden_size
    )
    return LVLM(vision, projector, llm, image_token_id=tokenizer.convert_tokens_to_ids("<image>"))


def build_all(cfg: DictConfig, run_dir: str | Path | None, base_weights: Path | None = None) -> Built:
    """Data, tokenizer, model and objective. With `init_from`, the model starts from that run's weights and reuses
    its tokenizer (a tiny BPE tokenizer is byte-level, so it encodes any new text). With a base checkpoint
    (`reverie.base`), the model starts from its weights. A tiny tokenizer trains on the data's `tokenizer_corpus`
    when it names one (cached: the same for every arm), else on this run's training text."""
    data, _ = build_data(cfg)
    tok_cfg = cfg.model.llm.tokenizer
    init_ckpt, init_run = resolve_init(cfg.init_from) if cfg.get("init_from") else (None, None)
    init_tokenizer = init_run / "tokenizer" if init_run and (init_run / "tokenizer").is_dir() else None
    if not (tok_cfg.path or init_tokenizer) and data.tokenizer_corpus:
        init_tokenizer = corpus_tokenizer(data.tokenizer_corpus, tok_cfg.vocab_size, cfg.paths.cache_dir)
    if base_weights is not None:
        init_ckpt = base_weights
    tokenizer = build_tokenizer(
        tok_cfg.path or init_tokenizer,
        data.texts(),
        tok_cfg.vocab_size,
        Path(run_dir) / "tokenizer" if run_dir else None,
    )
    template = get_template(cfg.model.llm.chat_template)
    model = build_lvlm(cfg, tokenizer)
    if init_ckpt is not None:
        load_model_weights(model, init_ckpt)
        what = "base" if base_weights is not None else "init_from"
        print(f"[reverie] {what}: model weights from {init_ckpt} (optimizer and data order start fresh)")
    objective: SegmentWeightedLoss = instantiate(cfg.objective)
    data.bind(
        tokenizer, template, model.num_image_tokens, model.vision_tower.image_transform(), objective.normaliser_weight
    )
    return Built(data, tokenizer, template, model, objective)


def build_module(cfg: DictConfig, built: Built) -> ReverieModule:
    stage = OmegaConf.to_container(cfg.stage, resolve=True)
    optim = OptimSettings(**stage.pop("optim"))
    checkpointing = stage.pop("gradient_checkpointing")
    cache_mb = stage.pop("frozen_tower_cache_mb")
    apply_stage(built.model, **stage)
    return ReverieModule(
        built.model, built.objective, optim, gradient_checkpointing=checkpointing, frozen_tower_cache_mb=cache_mb
    )


def build_trainer(cfg: DictConfig) -> Trainer:
    callbacks: list[Callback] = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c is not None]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values() if c is not None]
    if not loggers:  # learning-rate logging needs a logger; without one it is left out rather than failing the run
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    return instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
