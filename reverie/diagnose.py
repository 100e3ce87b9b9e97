"""`python -m reverie.diagnose run_dir=RUN [diagnose.split=test] [diagnose.images=N] [extractor=rules]
[detector=truth]`: DFTG's diagnosis of a trained run.

The run's model describes each image ("Describe the image in detail.", batched, with a progress bar); the extractor
turns each description into (object, attributes, count) triples; the detector says what is really there; the
comparison marks object, attribute and count hallucinations. Writes to ``diagnose.out`` (default
``<run>/diagnose/<time>/``): ``descriptions.jsonl`` (per image: description, triples, truth, hallucinations),
``profile.json`` (see ``reverie.dftg.profile``) and ``profile.png``. The last line printed is profile.json's path.
With ``diagnose.descriptions=FILE`` (a ``descriptions.jsonl``) the stored descriptions are judged again, e.g. against
another detector, without running the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from reverie.cli import user_errors
from reverie.data.templates import get_template
from reverie.dftg.extract import EmptyDescriptionError, Extractor
from reverie.dftg.images import list_images
from reverie.dftg.judge import judge
from reverie.dftg.profile import Diagnosed, build_profile, plot_profile
from reverie.errors import InputError
from reverie.eval.generation import GenerationSettings, Generator
from reverie.eval.io import EvalDataError, read_jsonl, require, resolve_image
from reverie.evaluate import load_run
from reverie.outputs import check_new_files, check_not_input
from reverie.resolvers import register

register()


def describe_images(generator: Generator, images: list[Path], prompt: str) -> list[str]:
    """One description per image, in batches of the generator's batch size, with a progress bar."""
    size = generator.settings.batch_size
    out: list[str] = []
    for start in tqdm(range(0, len(images), size), desc="[reverie] describing", unit="batch"):
        out += generator.generate([(prompt, str(image)) for image in images[start : start + size]])
    return out


def read_descriptions(path: str | Path, image_dir: str | Path) -> tuple[list[Path], list[str]]:
    """Images and descriptions of a ``descriptions.jsonl`` (``{"image", "description"}`` per line)."""
    images, texts = [], []
    for line, row in read_jsonl(path):
        require(row, ("image", "description"), path, line)
        images.append(resolve_image(str(row["image"]), image_dir, path, line))
        texts.append(str(row["description"]))
    if not images:
        raise EvalDataError(path, None, "no descriptions")
    return images, texts


def diagnose(cfg: DictConfig, out: Path) -> Path:
    """Run the diagnosis configured by ``cfg`` (diagnose.yaml) and write its files to ``out``; returns profile.json."""
    run_dir = Path(cfg.run_dir).resolve()
    files = [out / "descriptions.jsonl", out / "profile.json", out / "profile.png"]
    check_not_input("diagnose.out", files[0], {"diagnose.descriptions": cfg.diagnose.descriptions})
    check_new_files("diagnose.out", files, cfg.overwrite)
    run_cfg, tokenizer, model = load_run(run_dir, cfg.ckpt)
    own = {key: OmegaConf.to_container(cfg[key], resolve=False) for key in ("diagnose", "extractor", "detector")}
    merged = OmegaConf.merge(run_cfg, own, {"seed": cfg.seed})  # ${world:...} resolves against the run's world
    d = merged.diagnose
    extractor: Extractor = instantiate(merged.extractor)
    detector = instantiate(merged.detector)
    settings = GenerationSettings(max_new_tokens=d.max_new_tokens, batch_size=d.batch_size, seed=cfg.seed)
    if d.descriptions:  # judge stored descriptions again (another extractor or detector); the model is not run
        images, descriptions = read_descriptions(d.descriptions, d.image_dir)
    else:
        images = list_images(d.image_list, d.image_dir, d.split, d.images)
        device = "cuda" if torch.cuda.is_available() else "cpu"
        template = get_template(run_cfg.model.llm.chat_template)
        generator = Generator(
            model.to(device),
            tokenizer,
            template,
            model.vision_tower.image_transform(),
            settings,
            run_cfg.reflection.question_prompt,
        )
        descriptions = describe_images(generator, images, d.prompt)
    truths = detector.detect(images)

    out.mkdir(parents=True, exist_ok=True)
    items, empty = [], []
    with (out / "descriptions.jsonl").open("w", encoding="utf-8") as handle:
        for image, text, truth in zip(images, descriptions, truths, strict=True):
            try:
                triples = tuple(extractor.extract(text))
            except EmptyDescriptionError:
                empty.append(image.name)
                handle.write(json.dumps({"image": image.name, "description": text, "skipped": "empty"}) + "\n")
                continue
            item = Diagnosed(image.name, text, triples, truth, judge(triples, truth))
            items.append(item)
            handle.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
    if len(empty) > d.max_empty_fraction * len(images):
        raise InputError(
            f"{len(empty)} of {len(images)} descriptions are empty (more than diagnose.max_empty_fraction="
            f"{d.max_empty_fraction}), e.g. {empty[:5]}: is the model trained to describe? (a +debug=fast run is not: "
            f"give diagnose.max_empty_fraction=1 to try the command anyway); see {out / 'descriptions.jsonl'}"
        )
    profile = build_profile(items, extractor.vocabulary.categories, d.top_k)
    profile["skipped"] = {"empty_description": len(empty), "images": empty}
    profile["source"] = {
        "run_dir": str(run_dir),
        "ckpt": cfg.ckpt,
        "split": d.split,
        "images": len(images),
        "image_list": str(d.image_list),
        "image_dir": str(d.image_dir),
        "prompt": d.prompt,
        "descriptions_from": str(d.descriptions) if d.descriptions else None,
        "generation": settings.as_dict(),
        "extractor": extractor.describe(),
        "detector": detector.describe(),
        "world": OmegaConf.to_container(run_cfg.world, resolve=True) if "world" in run_cfg else None,
    }
    path = out / "profile.json"
    path.write_text(json.dumps(profile, indent=2) + "\n", encoding="utf-8")
    plot_profile(profile, out / "profile.png")
    totals = profile["totals"]
    print(
        f"[reverie] diagnosis of {len(items)} descriptions: CHAIR_i {totals['chair_i']:.3f}, "
        f"attribute errors {totals['attribute_hallucinations']}/{totals['attribute_checked']}, "
        f"count errors {totals['count_hallucinations']}/{totals['count_checked']}; top: {profile['top'][:5]}"
    )
    return path


@hydra.main(version_base="1.3", config_path="conf", config_name="diagnose")
@user_errors
def main(cfg: DictConfig) -> None:
    print(diagnose(cfg, Path(cfg.diagnose.out)).resolve())


if __name__ == "__main__":
    main()
