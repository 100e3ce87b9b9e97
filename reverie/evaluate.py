"""`python -m reverie.evaluate run_dir=RUN [ckpt=last|best|PATH] [eval=world_all]`: evaluate a trained run.

Rebuilds the run's model from its saved config and tokenizer, loads the checkpoint, runs the chosen `eval` config
and writes `<run>/evaluate/<time>/metrics.json` plus per-sample JSONL. The last line printed is that file's path.
"""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig, OmegaConf

from reverie.build import build_lvlm
from reverie.checkpoints import find_checkpoint, load_model_weights, model_state
from reverie.cli import user_errors
from reverie.data.templates import get_template
from reverie.data.tokenizer import load_tokenizer
from reverie.eval.runner import build_generator, evaluate
from reverie.resolvers import register
from reverie.training.stages import apply_stage

register()


def load_run(run_dir: Path, ckpt: str):
    """The run's config, tokenizer and model with the checkpoint's weights."""
    saved = run_dir / ".hydra" / "config.yaml"
    if not saved.is_file():
        raise FileNotFoundError(f"{run_dir} is not a reverie run folder (no .hydra/config.yaml)")
    checkpoint = find_checkpoint(run_dir, ckpt)  # before building anything: a run without one fails at once
    state = model_state(checkpoint)  # read (weights only) before building anything: a bad file fails at once
    cfg = OmegaConf.load(saved)
    cfg.paths.output_dir = str(run_dir)
    if OmegaConf.select(cfg, "model.vision_encoder.steps") is not None:  # a world-pretrained tower: the checkpoint
        cfg.model.vision_encoder.steps = 0  # holds its weights, so skip pretraining it again on a fresh machine
    tokenizer = load_tokenizer(run_dir / "tokenizer")
    model = build_lvlm(cfg, tokenizer)
    stage = OmegaConf.to_container(cfg.stage, resolve=True)
    apply_stage(model, stage["name"], lora=stage.get("lora"))  # same parameter names (LoRA wrappers) as training
    load_model_weights(model, checkpoint, state)
    return cfg, tokenizer, model


@hydra.main(version_base="1.3", config_path="conf", config_name="evaluate")
@user_errors
def main(cfg: DictConfig) -> None:
    run_dir = Path(cfg.run_dir).resolve()
    run_cfg, tokenizer, model = load_run(run_dir, cfg.ckpt)
    merged = OmegaConf.merge(run_cfg, {"eval": cfg.eval, "seed": cfg.seed})
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.to(device)
    template = get_template(run_cfg.model.llm.chat_template)
    generator = build_generator(model, tokenizer, template, merged.eval, run_cfg.reflection.question_prompt)
    out_dir = Path(cfg.output_dir)
    metrics, _ = evaluate(generator, merged.eval, out_dir)
    path = out_dir / "metrics.json"
    path.write_text(json.dumps({"run_dir": str(run_dir), "ckpt": cfg.ckpt, "metrics": metrics}, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    print(path.resolve())


if __name__ == "__main__":
    main()
