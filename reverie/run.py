"""`python -m reverie.run [+experiment=NAME] [overrides]`: train an LVLM, evaluate it, write `summary.json`.

With no arguments: a tiny LVLM trained reflectively on the built-in world on the CPU, in minutes.
The last line printed is the path of the run's summary.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import hydra
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.strategies import DDPStrategy
from omegaconf import DictConfig, OmegaConf

from reverie.base import Base, ensure_base
from reverie.build import Built, build_all, build_module, build_trainer
from reverie.checkpoints import inherit_model_config, safe_load
from reverie.cli import user_errors
from reverie.eval.runner import build_generator, evaluate
from reverie.logging import log_eval
from reverie.provenance import code_version, command_line, content_hash
from reverie.redact import redacted_config
from reverie.resolvers import register, world_dir
from reverie.training.module import ReverieModule

register()


def resume_from(ckpt_path: str | None, run_dir: Path) -> str | None:
    """`last`: this run dir's last.ckpt if there is one (a requeued or restarted job continues), else a fresh start."""
    if ckpt_path is None:
        return None
    path = run_dir / "checkpoints" / "last.ckpt" if ckpt_path == "last" else Path(ckpt_path)
    if path.is_file():
        safe_load(path)  # refused here, in one line, if it holds pickled code (Lightning then loads it weights-only)
        print(f"[reverie] resuming from {path}")
        return str(path)
    if ckpt_path == "last":
        return None
    raise FileNotFoundError(f"ckpt_path: checkpoint not found: {path}")


def run_eval(cfg: DictConfig, built, trainer, run_dir: Path) -> dict[str, float]:
    """Evaluate the trained model with the `eval` config; log metrics and sample tables to the loggers.

    One process: it evaluates. DDP (a full model on every rank): the questions are sharded over the ranks and rank 0
    scores. Strategies that shard the weights (FSDP, DeepSpeed) cannot generate on one rank: evaluation is skipped
    with a message naming `reverie.evaluate`, which evaluates the saved checkpoint in one process.
    """
    if not cfg.eval.get("tasks"):
        return {}
    if trainer.world_size > 1 and type(trainer.strategy) is not DDPStrategy:
        if trainer.is_global_zero:
            print(
                f"[reverie] eval skipped: {type(trainer.strategy).__name__} shards the weights, so no rank can generate "
                f"alone; evaluate a one-file checkpoint (FSDP: trainer.strategy.state_dict_type=full; DeepSpeed: "
                f"its zero_to_fp32 conversion) with `python -m reverie.evaluate run_dir={run_dir} ckpt=FILE`"
            )
        return {}
    model = built.model.to(trainer.strategy.root_device)
    generator = build_generator(model, built.tokenizer, built.template, cfg.eval, cfg.reflection.question_prompt)
    metrics, samples = evaluate(generator, cfg.eval, run_dir / "eval", trainer.global_rank, trainer.world_size)
    if trainer.is_global_zero:
        log_eval(trainer.loggers, metrics, samples, step=trainer.global_step)
    return metrics


@dataclass
class Fitted:
    """What `fit` leaves: the built parts, the trained module, the trainer, the base it branched from, the run's
    provenance (computed once: it hashes the world's files), its start time and where its time went so far."""

    built: Built
    module: ReverieModule
    trainer: Trainer
    base: Base | None
    provenance: dict
    start: float
    timings: dict[str, float]  # seconds: base (trained and evaluated, or loaded), build, train; then eval


def fit(cfg: DictConfig) -> Fitted:
    """Branch from the run's base (trained and cached first if needed), then train as configured."""
    start = time.perf_counter()
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    base = ensure_base(cfg)  # before seeding: the run's randomness is the same whether the base was cached or not
    based = time.perf_counter()
    seed_everything(cfg.seed, workers=True)
    inherit_model_config(cfg, run_dir)
    built = build_all(cfg, run_dir, base_weights=base.weights if base else None)
    module = build_module(cfg, built)
    trainer = build_trainer(cfg)
    built_at = time.perf_counter()
    prov = provenance(cfg, built, base)
    for logger in trainer.loggers:  # the resolved config and the provenance (W&B shows them as the run's config)
        logger.log_hyperparams(redacted_config(cfg, {**OmegaConf.to_container(cfg, resolve=True), "provenance": prov}))
    trainer.fit(
        module,
        datamodule=built.data,
        ckpt_path=resume_from(cfg.get("ckpt_path"), run_dir),
        weights_only=True,  # never unpickle code, whatever torch's default
    )
    if built.data.val_samples and module.val_losses_step != trainer.global_step:  # final weights, final val losses
        trainer.validate(module, datamodule=built.data, verbose=False)
    timings = {"base": based - start, "build": built_at - based, "train": time.perf_counter() - built_at}
    return Fitted(built, module, trainer, base, prov, start, timings)


def provenance(cfg: DictConfig, built: Built, base: Base | None) -> dict:
    """Which code and which inputs made this run (summary.json, W&B config)."""
    world = None
    if OmegaConf.select(cfg, "world") is not None and _uses_world(cfg):
        world = content_hash(world_dir(OmegaConf.to_container(cfg.world, resolve=True), cfg.paths.cache_dir))
    tokenizer_dir = Path(cfg.paths.output_dir) / "tokenizer"
    return {
        "code": code_version(),
        "command": command_line(),
        "hashes": {
            "world": world,
            "tower": getattr(built.model.vision_tower, "content_hash", None),
            "base": base.content_hash if base else None,
            "tokenizer": content_hash(tokenizer_dir / "tokenizer.json")
            if (tokenizer_dir / "tokenizer.json").is_file()
            else None,
        },
    }


def _uses_world(cfg: DictConfig) -> bool:
    """Whether the run's config reads any file of the built-in world (`${world:ROLE}`)."""
    return "${world:" in json.dumps(OmegaConf.to_container(cfg, resolve=False))


def write_summary(fitted: Fitted, cfg: DictConfig, run_dir: Path, metrics: dict[str, float]) -> dict:
    """Write summary.json (rank 0) and return it."""
    module, trainer, built = fitted.module, fitted.trainer, fitted.built
    summary = {
        "run_dir": str(run_dir.resolve()),
        "val_loss": module.val_losses.get("all"),
        "val_losses": {k: v for k, v in module.val_losses.items() if k != "all" and not k.startswith("tokens")},
        "supervised_tokens_seen": module.supervised_tokens_seen(),
        "optimizer_steps": trainer.global_step,
        "preference": module.pair_summary,  # DPO: final rewards, margins, accuracy (train: last epoch; val)
        "eval": metrics,
        "base": fitted.base.summary() if fitted.base else None,  # the "before" line: the base's own evaluation
        "data": built.data.report,
        "provenance": redacted_config(cfg, fitted.provenance),
        "wall_time_s": round(time.perf_counter() - fitted.start, 2),
        # where it went: the base (world, tokenizer and tower too when they were built for it; near 0 when cached),
        # building this run's parts and data, its training (with validation), its evaluation
        "timings_s": {k: round(v, 2) for k, v in fitted.timings.items()},
        "config": redacted_config(cfg),
    }
    if trainer.is_global_zero:
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def train(cfg: DictConfig) -> dict:
    """Train (and later evaluate) as configured; returns the summary it wrote to the run dir."""
    fitted = fit(cfg)
    run_dir = Path(cfg.paths.output_dir)
    started = time.perf_counter()
    metrics = run_eval(cfg, fitted.built, fitted.trainer, run_dir)
    fitted.timings["eval"] = time.perf_counter() - started
    summary = write_summary(fitted, cfg, run_dir, metrics)
    if fitted.trainer.is_global_zero:
        shown = {k: summary[k] for k in ("val_loss", "val_losses", "eval", "wall_time_s")}
        if summary["base"]:
            shown["base_eval"] = summary["base"]["eval"]
        print(json.dumps(shown, indent=2))
        print((run_dir / "summary.json").resolve())
    return summary


def finish_wandb(exit_code: int) -> None:
    """Close the W&B run (if one is open) so a failed job does not show as running forever."""
    import sys

    if "wandb" in sys.modules and sys.modules["wandb"].run is not None:
        sys.modules["wandb"].finish(exit_code=exit_code)


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
@user_errors
def main(cfg: DictConfig) -> float | None:
    try:
        summary = train(cfg)
    except BaseException:
        finish_wandb(exit_code=1)
        raise
    finish_wandb(exit_code=0)
    return summary.get("val_loss")


if __name__ == "__main__":
    main()
