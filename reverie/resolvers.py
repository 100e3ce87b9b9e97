"""OmegaConf resolvers used by the shipped configs:

- `${world:ROLE}`: path of a file of the built-in world (built into the cache on first use, options from `world:`);
- `${reverie.precision:}`: "bf16-mixed" on a GPU that supports bf16, else "32-true" (CPUs run bf16 8-33x slower);
- `${reverie.run_id:}`: a stable id for the run directory, so a resumed job continues the same W&B run;
- `${reverie.hf_chat_template:FOLDER}`: the shipped chat template that renders like a Hugging Face folder's own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from reverie.errors import UnknownKeyError
from reverie.provenance import cache_key, source_hash


def auto_precision() -> str:
    import torch

    return "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "32-true"


def world_key(options: dict) -> str:
    """Cache key of a world: its options and the version of the code that builds it (`reverie/world`)."""
    keyed = {"options": options, "code": source_hash("world")}
    return cache_key(keyed)


def world_dir(options: dict, cache_dir: str | Path) -> Path:
    """The cache folder of a world with these options, building it (once, atomically) when missing."""
    from filelock import FileLock

    from reverie.world import WorldConfig, build_world

    cfg = WorldConfig(**options)  # unknown options fail here, by name
    key = world_key(options)
    target = Path(cache_dir).expanduser().resolve() / "world" / key
    if (target / "manifest.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / "manifest.json").is_file():
            tmp = target.with_name(target.name + f".tmp{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            print(f"[reverie] building the built-in world into {target} ({cfg.num_images} images)")
            build_world(tmp, cfg)
            tmp.rename(target)
    return target


def world_file(role: str, *, _root_: DictConfig) -> str:
    from reverie.world import load_manifest

    options = OmegaConf.to_container(_root_.world, resolve=True)
    files = load_manifest(world_dir(options, _root_.paths.cache_dir))
    if role not in files:
        raise UnknownKeyError(f"the built-in world has no file with role {role!r}; roles: {sorted(files)}")
    return str(files[role])


def run_id(output_dir: str | Path) -> str:
    """A W&B run id derived from the run dir: the same dir (a resumed or requeued job) gives the same run."""
    return hashlib.sha256(str(Path(output_dir).resolve()).encode()).hexdigest()[:16]


def run_id_resolver(*, _root_: DictConfig) -> str:
    return run_id(OmegaConf.select(_root_, "paths.output_dir", default="run"))


def hf_chat_template(path: str, *, _root_: DictConfig) -> str:
    from reverie.models.hf_llava import matching_template

    return matching_template(
        path, OmegaConf.select(_root_, "reflection.question_prompt", default="<image>\n{question}")
    )


def register() -> None:
    for name, fn in (
        ("world", world_file),
        ("reverie.precision", auto_precision),
        ("reverie.run_id", run_id_resolver),
        ("reverie.hf_chat_template", hf_chat_template),
    ):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)
