"""The shared base of a study's arms: the world's counterpart of a downloaded stage-1 checkpoint.

The base is the run's model trained on the data sources the `base` config names (by default the world's dense
questions and captions, no REVERIE records), with its own epochs, stage and plain token loss. It is cached under
`cache_dir/base/<key>`, the key hashing everything its weights depend on: the world, the model, the tokenizer
corpus, the base's data, stage and trainer settings, the seed and the code that trains it. Every arm of a sweep with
the same seed branches from the same base automatically, so arms differ only in their own phase (the method). The
base's own evaluation, under the arm's `eval` config, is the "before" line of `reverie.report`.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from filelock import FileLock
from omegaconf import DictConfig, OmegaConf, open_dict

from reverie.errors import InputError
from reverie.provenance import cache_key, content_hash, source_hash
from reverie.redact import redacted_config
from reverie.resolvers import world_key

WEIGHTS = "weights.ckpt"
# The code a base's weights depend on (its evaluation adds reverie/eval).
BASE_CODE = ("data", "models", "training", "world", "build.py", "base.py", "checkpoints.py", "resolvers.py")


@dataclass
class Base:
    """A trained base: its folder, cache key, weights file, content hash of the weights and evaluation metrics."""

    key: str
    dir: Path
    weights: Path
    content_hash: str
    eval: dict

    def summary(self) -> dict:
        return {"key": self.key, "dir": str(self.dir), "content_hash": self.content_hash, "eval": self.eval}


def base_config(cfg: DictConfig) -> DictConfig | None:
    """The config that trains this run's base, or None when the run has none (`base=none`, `init_from` given, or a
    data config without the base's sources: a reported skip). A base source missing from the data is an error."""
    spec = cfg.get("base")
    if not spec or not spec.get("sources") or cfg.get("init_from"):
        return None
    by_name = {s.get("name"): s for s in cfg.data.train_sources}
    wanted = dict(spec.sources)
    missing = [name for name in wanted if name not in by_name]
    if len(missing) == len(wanted):
        print(f"[reverie] base: skipped (data.train_sources has none of {sorted(wanted)}); training from scratch")
        return None
    if missing:
        raise InputError(f"base.sources: {missing} not in data.train_sources (names: {sorted(by_name)})")
    base = copy.deepcopy(cfg)
    with open_dict(base):
        sources = []
        for name, weight in wanted.items():
            source = copy.deepcopy(by_name[name])
            source.weight = weight
            sources.append(source)
        base.data.train_sources = sources
        base.data.val_sources = []
        # No rationales in a base, so no trees: an arm's tree settings (study 01's arms differ in data.shared_once)
        # cannot change the base's data and must not key a second, identical base.
        base.data.trees = True
        base.data.shared_once = False
        base.reflection = {  # no REVERIE records: only the question layout matters
            "_target_": "reverie.data.reflect.ReflectionPolicy",
            "kinds": "none",
            "question_prompt": cfg.reflection.question_prompt,
        }
        base.objective = spec.objective
        base.stage = spec.stage
        base.trainer.max_epochs = spec.epochs
        base.trainer.max_steps = -1
        # One process, whatever the run's strategy: rank 0 trains it before Lightning starts the other ranks (they,
        # and SLURM tasks started together, wait on the file lock and load it), so no rank waits on another.
        base.trainer.devices = 1
        base.trainer.num_nodes = 1
        base.trainer.strategy = "auto"
        base.trainer.accumulate_grad_batches = 1  # the arm's global batch (devices x accumulation) is the arm's
        base.trainer.enable_checkpointing = False
        base.trainer.precision = cfg.trainer.precision  # resolved: bf16 on a bf16 GPU gives another base
        base.init_from = None
        base.ckpt_path = None
        base.base = None
        base.logger = None
        base.callbacks = None
    return base


# Interpolations the key keeps as written: file locations (they say where, not what; the world's content is keyed by
# world_key) and environment variables (often secrets). Every other interpolation is keyed by its value.
_KEEP_AS_WRITTEN = ("${world:", "${paths.", "${oc.env:", "${hydra:")


def _by_value(cfg: DictConfig, raw: object, path: str) -> object:
    """``raw`` (an unresolved subtree of ``cfg`` at ``path``) with interpolations replaced by their values, except
    those in _KEEP_AS_WRITTEN: so a value spelled two ways keys the same, and one interpolation that resolves to two
    values (e.g. a study's `${arms.${arm}.lr}`) keys differently."""
    if isinstance(raw, dict):
        return {k: _by_value(cfg, v, f"{path}.{k}" if path else str(k)) for k, v in raw.items()}
    if isinstance(raw, list):
        return [_by_value(cfg, v, f"{path}[{i}]") for i, v in enumerate(raw)]
    if isinstance(raw, str) and "${" in raw and not any(token in raw for token in _KEEP_AS_WRITTEN):
        value = OmegaConf.select(cfg, path, throw_on_missing=True)
        return (
            _by_value(cfg, OmegaConf.to_container(value, resolve=False), path) if OmegaConf.is_config(value) else value
        )
    return raw


def base_key(base: DictConfig) -> str:
    """Hash of what the base's weights depend on (not where files go, not how it is logged or evaluated)."""
    parts = ("model", "data", "reflection", "objective", "stage", "trainer", "seed")
    keyed = {k: _by_value(base, OmegaConf.to_container(base, resolve=False).get(k), k) for k in parts}
    keyed["trainer"] = {k: v for k, v in keyed["trainer"].items() if k != "default_root_dir"}
    keyed["world"] = world_key(OmegaConf.to_container(base.world, resolve=True))
    keyed["code"] = source_hash(*BASE_CODE)
    return cache_key(keyed, 16)


def ensure_base(cfg: DictConfig) -> Base | None:
    """This run's base: loaded from the cache, or trained (once, under a file lock) and cached; then evaluated
    with the run's `eval` config (cached per eval config). None when the run has no base."""
    base = base_config(cfg)
    if base is None:
        return None
    key = base_key(base)
    folder = Path(cfg.paths.cache_dir).expanduser().resolve() / "base" / key
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if not (folder / WEIGHTS).is_file():
            _train(base, folder)
        else:
            print(f"[reverie] base: cached {folder} (seed {cfg.seed})")
        metrics = _evaluate(cfg, base, folder)
    weights = folder / WEIGHTS
    return Base(key, folder, weights, content_hash(weights), metrics)


def _train(base: DictConfig, folder: Path) -> None:
    from reverie.run import fit, write_summary

    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    with open_dict(base):
        base.paths.output_dir = str(tmp)
        base.eval = {"tasks": {}}  # evaluated after saving, from the saved weights (the same path as a cached base)
    names = [s.name for s in base.data.train_sources]
    print(f"[reverie] base: training {folder} ({base.trainer.max_epochs} epochs on {names}, seed {base.seed})")
    fitted = fit(base)
    state = {f"model.{k}": v for k, v in fitted.built.model.state_dict().items()}
    torch.save({"state_dict": state}, tmp / WEIGHTS)
    write_summary(fitted, base, tmp, {})
    (tmp / "config.yaml").write_text(yaml.safe_dump(redacted_config(base), sort_keys=False))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def _evaluate(cfg: DictConfig, base: DictConfig, folder: Path) -> dict:
    """The base's metrics under the run's eval config, computed once per eval config and code version."""
    if not cfg.eval.get("tasks"):
        return {}
    keyed = {"eval": OmegaConf.to_container(cfg.eval, resolve=True), "code": source_hash("eval")}
    eval_key = cache_key(keyed)
    out = folder / f"eval-{eval_key}"
    metrics_file = out / "metrics.json"
    if not metrics_file.is_file():
        from reverie.build import build_all
        from reverie.eval.runner import build_generator, evaluate

        with open_dict(base):
            base.eval = cfg.eval
        built = build_all(base, None, base_weights=folder / WEIGHTS)
        generator = build_generator(
            built.model, built.tokenizer, built.template, base.eval, base.reflection.question_prompt
        )
        tmp = out.with_name(f"{out.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        metrics, _ = evaluate(generator, base.eval, tmp)
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        print(f"[reverie] base: evaluated -> {out}")
    return json.loads(metrics_file.read_text())
