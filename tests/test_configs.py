"""Every shipped config composes; every one a CPU can run trains one fast_dev_run step (configs that need your
files or weights, from tiny real stand-ins written here); each choice does what it says (one behavioural check per
shipped choice, so an override that is silently ignored fails); typos fail loudly."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate
from omegaconf import OmegaConf
from sample_files import llava_records, reverie_records, write_images

from reverie.build import build_all, build_module, build_trainer
from reverie.data.conversation import Segment
from reverie.resolvers import register, run_id
from reverie.run import train

CONF = Path(__file__).resolve().parents[1] / "reverie" / "conf"
register()


def shipped(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


# Groups of the other entry points' primary configs (annotate.yaml, diagnose.yaml, ...): composed in their own tests.
OTHER_ENTRY_POINT_GROUPS = ("hydra", "launcher", "annotator", "extractor", "detector")


def group_overrides() -> list[str]:
    out = []
    for folder in sorted(p for p in CONF.rglob("*") if p.is_dir() and p.name not in OTHER_ENTRY_POINT_GROUPS):
        group = folder.relative_to(CONF).as_posix()
        prefix = "+" if group in ("experiment", "debug") else ""
        out += [f"{prefix}{group}={name}" for name in shipped(group)]
    return out


# Configs no test here can train, and why. Each still composes, and gets the check below that a CPU allows.
CANNOT_TRAIN_HERE = {
    "trainer/strategy=ddp": "several processes: tests/scale/test_ddp.py trains it with 2 (gloo) against 1 process",
    "trainer/strategy=fsdp": "Lightning's FSDP needs CUDA devices; here only its strategy object is built",
    "trainer/strategy=deepspeed_zero2": "DeepSpeed's engine needs CUDA: here only its strategy object and ZeRO config are built",
    "trainer/strategy=deepspeed_zero3": "DeepSpeed's engine needs CUDA: here only its strategy object and ZeRO config are built",
    "+experiment=reflect_vs_prefer": "phase 2 of a study: needs the phase-1 runs (sft_runs=...) to start from",
    **{
        f"+experiment={name}": "LLaVA-1.5-7B weights and the paper's data (placeholders): tests/plan plans it instead"
        for name in ("paper_llava15_lora_reverie", "paper_llava15_lora_answers_only", "paper_llava15_align")
    },
    "+experiment=paper_dftg": "a llava-hf folder and targeted data (placeholders): tests/plan plans it instead",
}


# ---------------------------------------------------------------------------------------------------------------
# Tiny real stand-ins for the files and weights a user supplies (same formats, same code paths, tiny sizes).
TINY_TIMM = {"depth": 2, "embed_dim": 32, "num_heads": 2}
BIG_IMAGES = ["data.max_length=1024", "data.batch_size=2", "data.val_batch_size=2", "eval=none"]  # 576+ tokens


@dataclass
class StandIns:
    root: Path

    @property
    def images(self) -> Path:
        return self.root / "images"

    def overrides(self, override: str) -> list[str]:
        r, images = self.root, self.images
        data = ["data.num_workers=0", f"data.train_sources.0.image_root={images}"]
        llm = [f"model.llm.build.pretrained_path={r / 'llm'}"]
        clip = [f"model.vision_encoder.pretrained_path={r / 'clip.safetensors'}", *timm_kwargs(), *BIG_IMAGES]
        return {
            "data=reverie_json": [
                *data,
                f"data.train_sources.0.path={r / 'reverie.json'}",
                f"data.train_sources.1.path={r / 'llava.json'}",
                f"data.train_sources.1.image_root={images}",
            ],
            "data=llava_json": [*data, f"data.train_sources.0.path={r / 'llava.json'}"],
            "model/vision_encoder=clip_vit_l14_336": clip,
            "model/vision_encoder=siglip_so400m": [
                f"model.vision_encoder.pretrained_path={r / 'siglip.safetensors'}",
                *timm_kwargs(),
                *BIG_IMAGES,
            ],
            "model/vision_encoder=hf_local": [f"model.vision_encoder.path={r / 'hf_vision'}"],
            "model/llm=local": llm,
            "model=llava15_7b": [*clip, *llm],
            "eval=pope_coco": [f"eval.pope_dir={r / 'pope'}", f"eval.image_dir={images}"],
            "eval=mme": [f"eval.tasks.mme.source={r / 'mme'}"],
            "eval=scienceqa_img": [
                f"eval.tasks.scienceqa.questions_file={r / 'scienceqa.jsonl'}",
                f"eval.tasks.scienceqa.image_dir={images}",
            ],
        }.get(override, [])


def timm_kwargs() -> list[str]:
    return [f"+model.vision_encoder.model_kwargs.{k}={v}" for k, v in TINY_TIMM.items()]  # `{}` in the file: add


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory, tokenizer) -> StandIns:
    import timm
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModel, LlamaConfig, LlamaForCausalLM

    root = tmp_path_factory.mktemp("stand_ins")
    s = StandIns(root)
    names = write_images(s.images, 12)
    (root / "reverie.json").write_text(json.dumps(reverie_records(names)))
    (root / "llava.json").write_text(json.dumps(llava_records(names)))
    torch.manual_seed(0)
    for file, arch, size in (
        ("clip", "vit_large_patch14_clip_336", 336),
        ("siglip", "vit_so400m_patch14_siglip_384", 384),
    ):
        tower = timm.create_model(arch, pretrained=False, num_classes=0, img_size=size, **TINY_TIMM)
        save_file({k: v.contiguous() for k, v in tower.state_dict().items()}, root / f"{file}.safetensors")
    vision = CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=2, image_size=48, patch_size=16
    )
    CLIPVisionModel(vision).save_pretrained(root / "hf_vision")
    llm = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    LlamaForCausalLM(llm).save_pretrained(root / "llm")
    tokenizer.save_pretrained(root / "llm")
    (root / "pope").mkdir()
    for split in ("random", "popular", "adversarial"):
        rows = [
            {"question_id": f"{split}{i}", "image": names[i], "text": f"Is there a {c} square?", "label": label}
            for i, (c, label) in enumerate([("red", "yes"), ("blue", "no"), ("blue", "yes"), ("red", "no")])
        ]
        write_jsonl(root / "pope" / f"coco_pope_{split}.json", rows)
    for task in ("existence", "color"):  # MME's release layout: one folder per subtask, image + NAME.txt pairs
        folder = root / "mme" / task
        folder.mkdir(parents=True)
        for name in names[:2]:
            (folder / name).write_bytes((s.images / name).read_bytes())
            (folder / f"{Path(name).stem}.txt").write_text("Is it red?\tYes\nIs it blue?\tNo\n")
    questions = [
        {"question_id": f"q{i}", "question": "Which colour?", "choices": ["red", "green"], "answer": i % 2}
        | ({"image": names[i]} if i < 3 else {})  # the last one is text-only: scienceqa_img leaves it out
        for i in range(4)
    ]
    write_jsonl(root / "scienceqa.jsonl", questions)
    return s


def make_cfg(tmp_path: Path, *overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", overrides=[f"paths.output_dir={tmp_path}", *overrides])


@pytest.mark.parametrize("override", group_overrides())
def test_every_config_composes(tmp_path, override):
    cfg = make_cfg(tmp_path, override)
    assert "chat_template" in cfg.model.llm and cfg.stage.name  # unresolved: some need a folder you name


# ---------------------------------------------------------------------------------------------------------------
# One behavioural check per shipped choice: what the choice says it does, observed on what it builds or trains.
@dataclass
class Job:
    """A config with one choice (and its stand-ins); what it builds and what one training step of it gives."""

    tmp_path: Path
    override: str
    extra: list[str]

    @cached_property
    def cfg(self):  # as a user's run composes it
        return make_cfg(self.tmp_path, self.override, *self.extra)

    @cached_property
    def summary(self) -> dict:  # one fast_dev_run step
        # The shared base is checked by its own choices (base=world, base=none); the others start from scratch.
        base = [] if self.override.startswith("base=") else ["base=none"]
        return train(make_cfg(self.tmp_path, self.override, *self.extra, *base, "trainer.fast_dev_run=true", "~logger"))

    @cached_property
    def module(self):
        built = build_all(self.cfg, self.tmp_path / "rebuilt")
        return build_module(self.cfg, built), built

    @property
    def model(self):
        return self.module[0].model

    @property
    def built(self):
        return self.module[1]

    def trainable(self) -> set[str]:
        """Parts (and, for LoRA, adapter vs base) that have trainable parameters."""
        out = set()
        for name, p in self.model.named_parameters():
            if p.requires_grad:
                part = name.split(".")[0]
                out.add(f"{part}:lora" if "lora_" in name else part)
        return out

    def supervised(self) -> dict[str, int]:
        """Supervised training tokens per segment, over every encoded training sample."""
        counts = dict.fromkeys((s.name.lower() for s in Segment), 0)
        for sample in self.built.data.train_samples:
            for seg in sample.target_segments[sample.target_ids >= 0]:
                counts[Segment(int(seg)).name.lower()] += 1
        return counts

    def sources(self) -> dict[str, int]:
        return self.built.data.report["sources"]["train"]


def same_weights(mine: dict, saved: dict) -> bool:
    """Every shared tensor equal (saved ones cast to the loaded dtype, e.g. model.llm's bfloat16)."""
    shared = mine.keys() & saved.keys()
    return bool(shared) and all(torch.equal(mine[k], saved[k].to(mine[k].dtype)) for k in shared)


def tower_loaded_from(file: Path) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        from safetensors.torch import load_file

        saved = load_file(file)
        mine = job.model.vision_tower.vision_model.state_dict()
        assert same_weights(mine, saved) and len(mine.keys() & saved.keys()) > 10  # the file's weights, not random

    return check


def llm_from_folder(job: Job) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = job.cfg.model.llm.build.pretrained_path
    saved = AutoModelForCausalLM.from_pretrained(folder).state_dict()
    assert same_weights(job.model.language_model.state_dict(), saved)
    assert job.built.tokenizer.get_vocab() == AutoTokenizer.from_pretrained(folder).get_vocab()  # its tokenizer
    assert job.built.template.name == "vicuna_v1"


def stage(*parts: str) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        assert job.trainable() == set(parts)

    return check


def experiment(job: Job) -> None:
    """A preset names its runs and sweeps only keys that exist (a typo in a sweep would silently be a new key); every
    value of every swept key composes into a run whose reflection policy and objective build, and different values
    give different runs (a value that changes nothing, e.g. an interpolation the preset forgot, fails)."""
    name = job.override.split("=")[1]
    assert job.cfg.experiment_name == name
    params = OmegaConf.load(CONF / "experiment" / f"{name}.yaml").hydra.sweeper.params
    assert params, name
    for key, values in params.items():
        assert (CONF / key).is_dir() or OmegaConf.select(job.cfg, key, default="<absent>") != "<absent>", key
        if key == "seed":
            continue
        seen = {}
        for value in sweep_values(str(values)):
            cfg = make_cfg(job.tmp_path, job.override, *job.extra, f"{key}={value}")
            if not (CONF / key).is_dir():
                assert str(OmegaConf.select(cfg, key)) == value, (key, value)
            instantiate(cfg.reflection)  # a policy that exists (its values are checked when built)
            instantiate(cfg.objective)
            run = {
                k: OmegaConf.to_container(cfg[k], resolve=True) for k in ("reflection", "objective", "data", "stage")
            }
            assert run not in seen.values(), f"{key}={value} runs the same as {key}={list(seen)[-1]}"
            seen[value] = run


def sweep_values(spec: str) -> list[str]:
    """The values of a basic sweeper's choice list (`a,b,c`) or `range(n)`."""
    if spec.startswith("range("):
        return [str(v) for v in range(*map(int, spec[6:-1].split(",")))]
    return [v.strip() for v in spec.split(",")]


AMBER_FIGURES = ("amber/generative/chair", "amber/generative/cog", "amber/discriminative/f1", "amber/score")


def eval_tasks(
    *names: str, count: dict[str, int] | None = None, present: tuple[str, ...] = ()
) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        assert set(job.cfg.eval.tasks or {}) == set(names)
        metrics = job.summary["eval"]
        assert set(present) <= set(metrics), sorted(metrics)
        for key, n in (count or {}).items():
            assert metrics[key] == n, (key, metrics)
        if not names:
            assert metrics == {}

    return check


# Where each world eval task must read its questions (relative to the world's folder): the test split's files.
WORLD_EVAL_FILES = {
    "pope_random": "pope/test_random.jsonl",
    "pope_popular": "pope/test_popular.jsonl",
    "pope_adversarial": "pope/test_adversarial.jsonl",
    "chair": "chair/objects.jsonl",
    "mme": "mme/test.jsonl",
    "mcq": "mcq/test.jsonl",
    "amber": "amber/test/query_all.json",
}


def world_eval_reads_the_test_split(job: Job) -> None:
    """Every task asked the questions of its own test-split file, all of them (POPE, MME, multiple choice: one sample
    per record; CHAIR: one description per test image), on the world's test images."""
    import re

    from reverie.resolvers import world_dir

    world = world_dir(OmegaConf.to_container(job.cfg.world, resolve=True), job.cfg.paths.cache_dir)
    test_images = {
        r["image"] for r in map(json.loads, (world / "scenes.jsonl").read_text().splitlines()) if r["split"] == "test"
    }
    for task in job.cfg.eval.tasks:
        samples = [json.loads(x) for x in (job.tmp_path / "eval" / f"{task}.samples.jsonl").read_text().splitlines()]
        assert samples, task
        sources = {re.sub(r"(:\d+|: id \d+)$", "", s["meta"]["source"]) for s in samples}
        assert sources == {str(world / WORLD_EVAL_FILES[task])}, (task, sources)
        assert {Path(s["image"]).name for s in samples} <= test_images, task
        if task.startswith("pope") or task in ("mme", "mcq"):
            records = [x for x in (world / WORLD_EVAL_FILES[task]).read_text().splitlines() if x.strip()]
            assert len(samples) == len(records), task
        if task == "chair":
            assert {Path(s["image"]).name for s in samples} == test_images


def all_of(*checks: Callable[[Job], None]) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        for one in checks:
            one(job)

    return check


def projector(*names: str, linear: bool) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        proj = job.model.multi_modal_projector
        assert [n for n, _ in proj.named_children()] == list(names)
        x, y = torch.randn(2, 5, proj.linear_1.in_features, dtype=torch.float64).unbind(0)
        proj = proj.double()
        with torch.no_grad():  # an affine map keeps f(x + y) + f(0) = f(x) + f(y); a GELU between layers does not
            gap = (proj(x + y) + proj(torch.zeros_like(x)) - proj(x) - proj(y)).abs().max().item()
        assert (gap < 1e-9) == linear, gap

    return check


def model_type(kind: str, template: str) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        assert job.model.language_model.config.model_type == kind
        assert job.built.template.name == template

    return check


def tokens(*, rationales: bool) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        seen = job.supervised()
        assert seen["answer"] > 0
        assert (seen["pos_rationale"] > 0 and seen["neg_rationale"] > 0) == rationales, seen
        assert (seen["pos_rationale"] + seen["neg_rationale"] == 0) != rationales, seen

    return check


def plain_targets(job: Job) -> None:
    """Both rationales are targets, never in a sample that holds the answer (no question before them)."""
    tokens(rationales=True)(job)
    for sample in job.built.data.train_samples:
        segments = set(sample.target_segments[sample.target_ids >= 0].tolist())
        assert not (Segment.ANSWER in segments and segments & {Segment.POS_RATIONALE, Segment.NEG_RATIONALE}), sample.id


def strategy(cls: str) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        assert type(instantiate(job.cfg.trainer.strategy)).__name__ == cls

    return check


def world_data(job: Job) -> None:
    counts = job.sources()
    assert set(counts) == {"world_reverie", "world_questions", "world_captions", "world_mate_questions", "world_mcq"}
    assert counts.pop("world_mate_questions") == 0 and min(counts.values()) > 0  # the positive control's, off


def tiny_model(job: Job) -> None:
    tower = job.model.vision_tower
    assert (tower.num_tokens, tower.hidden_size) == (9, 96)  # 48 px, 16 px patches, no CLS
    assert list(Path(job.cfg.paths.cache_dir, "tower").glob("*.pt"))  # pretrained on the world, cached
    model_type("llama", "plain")(job)


def trainer_default(job: Job) -> None:
    trainer = build_trainer(job.cfg)
    assert trainer.gradient_clip_val == 1.0 and trainer.max_epochs == 1 and trainer.accumulate_grad_batches == 1
    assert trainer.precision == "32-true"  # CPU


def callbacks_default(job: Job) -> None:
    from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint

    callbacks = build_trainer(job.cfg).callbacks
    (ckpt,) = [c for c in callbacks if isinstance(c, ModelCheckpoint)]
    assert Path(ckpt.dirpath) == job.tmp_path / "checkpoints" and ckpt.save_last and ckpt.monitor == "val/loss"
    assert any(isinstance(c, LearningRateMonitor) for c in callbacks)


def logger(cls: str) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        (log,) = build_trainer(job.cfg).loggers
        assert type(log).__name__ == cls
        assert Path(log.save_dir).resolve() == job.tmp_path.resolve()  # in the run dir
        if cls == "WandbLogger":
            assert log._wandb_init["id"] == run_id(job.tmp_path) and log._offline

    return check


def paths_default(job: Job) -> None:
    assert Path(job.summary["run_dir"]) == job.tmp_path.resolve()
    assert (job.tmp_path / "summary.json").is_file() and (job.tmp_path / "tokenizer").is_dir()
    assert Path(job.cfg.data.train_sources[0].path).is_relative_to(Path(job.cfg.paths.cache_dir).resolve())


def debug_fast(job: Job) -> None:  # the run itself (seconds, a checkpoint the other commands read): test_debug_run.py
    """Observed on the trained job: four questions per eval task, a last checkpoint kept, one batch per epoch, and a
    tower pretrained for at most 20 steps (its cache key holds the steps)."""
    metrics = job.summary["eval"]
    assert [metrics[f"pope/{s}/total"] for s in ("random", "popular", "adversarial")] == [4, 4, 4]
    assert metrics["chair/captions"] == 4
    trainer = build_trainer(make_cfg(job.tmp_path, job.override, *job.extra, "~logger"))
    assert trainer.limit_train_batches == 1 and trainer.limit_val_batches == 1 and trainer.max_epochs == 1
    assert trainer.checkpoint_callback is not None and trainer.checkpoint_callback.save_last
    steps = OmegaConf.to_container(job.cfg.model.vision_encoder, resolve=True)["steps"]
    assert 0 < steps <= 20


def base_world(job: Job) -> None:
    base = job.summary["base"]  # trained (one batch under fast_dev_run), cached, evaluated: the "before" line
    assert base is not None and (Path(base["dir"]) / "weights.ckpt").is_file() and base["eval"]
    assert job.summary["provenance"]["hashes"]["base"] == base["content_hash"]
    assert job.summary["config"]["trainer"]["max_epochs"] == 1 and job.cfg.base.epochs == 7  # phase after base


def base_none(job: Job) -> None:
    assert job.summary["base"] is None and job.summary["provenance"]["hashes"]["base"] is None


def objective_uniform(job: Job) -> None:
    assert type(job.built.objective).__name__ == "SegmentWeightedLoss"
    assert set(job.built.objective.weights.values()) == {1.0}


def tower(num_tokens: int, weights_key: str) -> Callable[[Job], None]:
    """A timm tower of the config's architecture with the stand-in file's weights, and its number of image tokens."""

    def check(job: Job) -> None:
        tower_loaded_from(Path(job.cfg.model.vision_encoder.pretrained_path))(job)
        assert job.model.vision_tower.num_tokens == num_tokens
        assert weights_key in job.cfg.model.vision_encoder.model_name

    return check


def hf_tower(job: Job) -> None:
    from transformers import CLIPVisionModel

    saved = CLIPVisionModel.from_pretrained(job.cfg.model.vision_encoder.path)
    saved = getattr(saved, "vision_model", saved).state_dict()
    mine = job.model.vision_tower.vision_model
    assert same_weights(mine.state_dict(), saved)  # the folder's weights
    assert len(mine.encoder.layers) == 2 and job.model.vision_tower.num_tokens == 9  # layer -2 of 3, CLS dropped


def llava15_7b(job: Job) -> None:
    tower(576, "clip_336")(job)
    llm_from_folder(job)
    assert [n for n, _ in job.model.multi_modal_projector.named_children()] == ["linear_1", "act", "linear_2"]


def auto_strategy(job: Job) -> None:
    assert type(build_trainer(job.cfg).strategy).__name__ == "SingleDeviceStrategy"


def deepspeed(job: Job) -> None:
    """The ZeRO settings DeepSpeed receives (Lightning's DeepSpeed config, built whether or not deepspeed is
    installed: building it needs no GPU): the stage the choice names, and the offload switches where they say."""
    from unittest import mock

    stage = int(job.override[-1])
    with (
        mock.patch("lightning.pytorch.strategies.deepspeed._DEEPSPEED_AVAILABLE", True),
        mock.patch("lightning.pytorch.strategies.deepspeed._DEEPSPEED_GREATER_EQUAL_0_16", True),
    ):
        for offload in (False, True):
            switches = [
                f"trainer.strategy.offload_optimizer={offload}",
                f"trainer.strategy.offload_parameters={offload}",
            ]
            cfg = make_cfg(job.tmp_path, job.override, *job.extra, *switches)
            built = instantiate(cfg.trainer.strategy)
            assert type(built).__name__ == "DeepSpeedStrategy"
            zero = built.config["zero_optimization"]
            assert zero["stage"] == stage
            assert zero.get("offload_optimizer", {}).get("device") == ("cpu" if offload else None)
            assert zero.get("offload_param", {}).get("device") == ("cpu" if offload else None)  # read at stage 3


def user_sources(expected: dict[str, int]) -> Callable[[Job], None]:
    def check(job: Job) -> None:
        assert job.sources() == expected  # the stand-in files (12 records; REVERIE: one sample per rationale)

    return check


def preference(*, token_loss: bool) -> Callable[[Job], None]:
    """DPO: (correct, confusing) answer pairs; reflective_dpo adds the token loss on every other sample too."""

    def check(job: Job) -> None:
        objective = job.built.objective
        assert type(objective).__name__ == "PreferenceObjective" and (objective.sft is not None) == token_loss
        paired = [bool(s.preference.any()) for s in job.built.data.train_samples]
        assert any(paired) and all(paired) != token_loss

    return check


CHECKS: dict[str, Callable[[Job], None]] = {
    "data=world": world_data,
    "data=world_dftg": world_data,  # arm none: the base mixture
    "data=reverie_json": user_sources({"reverie.json": 24, "llava.json": 12}),
    "data=llava_json": user_sources({"llava.json": 12}),
    "reflection=paper": tokens(rationales=True),
    "reflection=answers_only": tokens(rationales=False),
    "reflection=plain_targets": plain_targets,
    "model=tiny": tiny_model,
    "model=llava15_7b": llava15_7b,
    "model/vision_encoder=tiny_vit": tiny_model,
    "model/vision_encoder=clip_vit_l14_336": tower(576, "clip_336"),  # 24x24 patches, CLS dropped
    "model/vision_encoder=siglip_so400m": tower(729, "siglip_384"),  # 27x27 patches, no prefix token
    "model/vision_encoder=hf_local": hf_tower,
    "model/llm=local": llm_from_folder,
    "model/llm=tiny_llama": model_type("llama", "plain"),
    "model/llm=tiny_qwen2": model_type("qwen2", "chatml"),
    "model/projector=linear": projector("linear_1", "act", linear=True),
    "model/projector=mlp2x_gelu": projector("linear_1", "act", "linear_2", linear=False),
    "objective=uniform": objective_uniform,
    "base=world": base_world,
    "base=none": base_none,
    "objective=dpo": preference(token_loss=False),
    "objective=reflective_dpo": preference(token_loss=True),
    "stage=align": stage("multi_modal_projector"),
    "stage=finetune": stage("multi_modal_projector", "language_model"),
    "stage=full": stage("vision_tower", "multi_modal_projector", "language_model"),
    "stage=lora": stage("multi_modal_projector", "language_model:lora"),
    "trainer=default": trainer_default,
    "trainer/strategy=auto": auto_strategy,
    "trainer/strategy=ddp": strategy("DDPStrategy"),
    "trainer/strategy=fsdp": strategy("FSDPStrategy"),
    "trainer/strategy=deepspeed_zero2": deepspeed,
    "trainer/strategy=deepspeed_zero3": deepspeed,
    "callbacks=default": callbacks_default,
    "logger=csv": logger("CSVLogger"),
    "logger=wandb": logger("WandbLogger"),
    "eval=world": all_of(
        eval_tasks("pope_random", "pope_popular", "pope_adversarial", "chair"), world_eval_reads_the_test_split
    ),
    "eval=world_all": all_of(
        eval_tasks(
            "pope_random", "pope_popular", "pope_adversarial", "chair", "mme", "mcq", "amber", present=AMBER_FIGURES
        ),
        world_eval_reads_the_test_split,
    ),
    "eval=none": eval_tasks(),
    "eval=pope_coco": eval_tasks(
        "pope_random",
        "pope_popular",
        "pope_adversarial",
        count={f"pope/{s}/total": 4 for s in ("random", "popular", "adversarial")},
    ),
    "eval=mme": eval_tasks("mme", count={"mme/perception_subtasks": 2}),  # existence + color, 2 pairs each
    "eval=scienceqa_img": eval_tasks("scienceqa", count={"scienceqa_img/questions": 3}),  # the text-only one left out
    "world=default": world_data,
    "paths=default": paths_default,
    "+debug=fast": debug_fast,
}
# Choices checked elsewhere, with the reason.
CHECKED_ELSEWHERE = {
    "model=hf_llava": "needs a llava-hf folder (weights, tokenizer, processor): tests/models builds a tiny one",
}


def check_for(override: str) -> Callable[[Job], None]:
    if override.startswith("+experiment="):
        return experiment
    if override not in CHECKS:
        pytest.fail(f"{override}: add a behavioural check to CHECKS in {__file__}")
    return CHECKS[override]


@pytest.mark.parametrize("override", [o for o in group_overrides() if o not in CHECKED_ELSEWHERE])
def test_every_choice_trains_and_does_what_it_says(request, tmp_path, world_options, override):
    """One fast_dev_run step where a CPU can (CANNOT_TRAIN_HERE says why not), then the choice's check."""
    check = check_for(override)
    stand_ins = request.getfixturevalue("stand_ins").overrides(override) if needs_files(override) else []
    job = Job(tmp_path, override, [*world_options, *stand_ins])
    if override not in CANNOT_TRAIN_HERE:
        summary = job.summary
        assert summary["optimizer_steps"] == 1
        assert sum(summary["supervised_tokens_seen"].values()) > 0
        assert (tmp_path / "summary.json").is_file()
    check(job)


def needs_files(override: str) -> bool:
    """Whether the config has a value the user must supply (`???`) somewhere in its file."""
    group, name = override.lstrip("+").split("=")
    text = (CONF / group / f"{name}.yaml").read_text()
    return "???" in text or override == "model=llava15_7b"


def test_unknown_keys_fail_loudly(tmp_path):
    with pytest.raises(ConfigCompositionException, match="batch_sizee"):
        make_cfg(tmp_path, "data.batch_sizee=3")
    with pytest.raises(ConfigCompositionException, match="no_such_encoder"):
        make_cfg(tmp_path, "model/vision_encoder=no_such_encoder")


STUDY_PRESETS = ("study01_controls", "study03_dpo_targeted")  # presets whose arms are chosen by `arm` (see `arms`)


@pytest.mark.parametrize("name", STUDY_PRESETS)
def test_study_presets_arms_compose_with_eight_seeds(tmp_path, name):
    """Every arm of a study preset resolves (reflection, data) and the sweep runs it over at least 8 seeds; the
    sources a preset restates are data/world.yaml's, weights aside."""
    preset = OmegaConf.load(CONF / "experiment" / f"{name}.yaml")
    params = preset.hydra.sweeper.params
    assert params.seed == "range(8)" and set(params.arm.split(",")) == set(preset.arms)
    world = OmegaConf.load(CONF / "data" / "world.yaml").train_sources
    for arm in preset.arms:
        cfg = make_cfg(tmp_path, f"+experiment={name}", f"arm={arm}")
        instantiate(cfg.reflection)  # a policy that exists
        sources = OmegaConf.to_container(cfg.data.train_sources, resolve=False)
        restated = [{**s, "weight": 0} for s in sources[: len(world)]]
        assert restated == [{**s, "weight": 0} for s in OmegaConf.to_container(world)]
