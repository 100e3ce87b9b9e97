"""`python -m reverie.targeted diagnosis=PROFILE.json mode=targeted|untargeted size=N out=FILE.json`: DFTG's
generation step.

Writes ``out`` (LLaVA JSON: one yes/no question or one description per sample, with a ``dftg`` field saying what it
asks), REVERIE JSON next to it (``<stem>.reverie.json``, the world's rationales for both answers, so the data can also
be trained reflectively) and ``<stem>.report.json`` (samples per type and polarity, concepts asked, weights). Images are the
diagnosed run's world (``split``, default train); mix the file in with ``data=world_dftg``. The last line printed is
``out``'s path.
"""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from reverie.cli import user_errors
from reverie.dftg.generate import TargetedGenerator, write_outputs
from reverie.dftg.profile import ProfileError, load_profile
from reverie.outputs import check_new_files, check_not_input
from reverie.resolvers import world_dir
from reverie.world import load_manifest
from reverie.world.config import WorldConfig
from reverie.world.vocab import make_vocab


def world_of(profile: dict, path: str, options: dict | None, cache_dir: str) -> tuple[Path, WorldConfig]:
    """The scene file of the world the diagnosed run used (or of ``options``), built into the cache if missing."""
    options = options or profile["source"].get("world")
    if not options:
        raise ProfileError(
            f"{path}: the diagnosed run did not use the built-in world; targeted generation needs the world's scene "
            "graphs (set world=<options>)"
        )
    files = load_manifest(world_dir(options, cache_dir))
    return files["scenes"], WorldConfig(**options)


def output_paths(out: str | Path, reverie: bool) -> list[Path]:
    """The files a run writes: ``out``, ``<stem>.report.json`` and (with ``reverie``) ``<stem>.reverie.json``."""
    out = Path(out)
    names = [out, out.with_name(out.stem + ".report.json")]
    return names + ([out.with_name(out.stem + ".reverie.json")] if reverie else [])


def run(cfg: DictConfig) -> Path:
    paths = output_paths(cfg.out, cfg.reverie)
    for path in paths:
        check_not_input("out", path, {"diagnosis": cfg.diagnosis})
    check_new_files("out", paths, cfg.overwrite)
    profile = load_profile(cfg.diagnosis)
    options = OmegaConf.to_container(cfg.world, resolve=True) if cfg.world is not None else None
    scenes, world = world_of(profile, cfg.diagnosis, options, cfg.cache_dir)
    generator = TargetedGenerator(
        profile,
        scenes,
        make_vocab(world.themes),
        mode=cfg.mode,
        types=OmegaConf.to_container(cfg.types, resolve=True),
        negative_share=cfg.negative_share,
        weight_by=cfg.weight_by,
        top=cfg.top,
        split=cfg.split,
        seed=cfg.seed,
        negatives_on=cfg.negatives_on,
    )
    llava, reverie, report = generator.generate(cfg.size)
    paths = write_outputs(cfg.out, llava, reverie if cfg.reverie else None, report)
    negatives = sum(t["negative"] for t in report["types"].values())
    print(f"[reverie] {cfg.mode}: {len(llava)} samples ({negatives} negative), types {report['types']}; every answer "
          f"checked against {scenes}")  # fmt: skip
    return paths["llava"]


@hydra.main(version_base="1.3", config_path="conf", config_name="targeted")
@user_errors
def main(cfg: DictConfig) -> None:
    print(run(cfg).resolve())


if __name__ == "__main__":
    main()
