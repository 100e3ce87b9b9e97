"""`python -m reverie.annotate images=DIR_OR_LIST out=DIR [annotator=openai|hf_local|world]`: REVERIE data for your
images. Prints a summary; the last line is the path of ``out/reverie.json`` (read it with ``data=reverie_json``,
``image_root`` = the image folder)."""

from __future__ import annotations

import logging

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig

from reverie.annotate.images import list_images
from reverie.annotate.job import OWN_FILES, describe, run_job
from reverie.cli import user_errors
from reverie.outputs import check_not_input, check_own_folder
from reverie.redact import config_secrets


@hydra.main(version_base="1.3", config_path="../conf", config_name="annotate")
@user_errors
def main(cfg: DictConfig) -> None:
    check_not_input("out", cfg.out, {"images": cfg.images})
    check_own_folder("out", cfg.out, OWN_FILES)
    list_images(cfg.images)  # a bad image folder or list fails before the annotator starts
    for name in ("httpx", "httpx2"):  # one INFO line per request would bury the progress bars
        logging.getLogger(name).setLevel(logging.WARNING)
    backend = instantiate(cfg.annotator)
    summary = run_job(
        cfg.images,
        cfg.out,
        backend,
        instantiate(cfg.prompts),
        instantiate(cfg.pipeline),
        limit=cfg.limit,
        progress=cfg.progress,
        secrets=config_secrets(cfg) | {getattr(backend, "_secret", None) or ""},
    )
    print(describe(summary))
    print(summary["reverie_json"])


if __name__ == "__main__":
    main()
