"""Every shipped config composes; every one that fits a CPU trains one fast_dev_run step; typos fail loudly."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from reverie.resolvers import register
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


# Configs that need files or weights the user supplies (`???`), or a GPU: they compose, but do not train here.
NEEDS_USER_FILES = {
    "data=reverie_json",
    "data=llava_json",
    "model=llava15_7b",
    "model/vision_encoder=clip_vit_l14_336",
    "model/vision_encoder=siglip_so400m",
    "model/vision_encoder=hf_local",
    "model/llm=local",
    "eval=mme",
    "eval=pope_coco",
    "eval=scienceqa_img",
    # multi-process or GPU strategies: DDP is exercised by tests/training/test_ddp.py
    "trainer/strategy=ddp",
    "trainer/strategy=fsdp",
    "trainer/strategy=deepspeed_zero2",
    "trainer/strategy=deepspeed_zero3",
}


def make_cfg(tmp_path: Path, *overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("config", overrides=[f"paths.output_dir={tmp_path}", *overrides])


@pytest.mark.parametrize("override", group_overrides())
def test_every_config_composes(tmp_path, override):
    cfg = make_cfg(tmp_path, override)
    assert cfg.model.llm.chat_template
    if override not in NEEDS_USER_FILES:
        OmegaConf.to_container(cfg.stage, resolve=True)


@pytest.mark.parametrize("override", [o for o in group_overrides() if o not in NEEDS_USER_FILES])
def test_cpu_configs_train_one_step(tmp_path, world_options, override):
    cfg = make_cfg(tmp_path, override, *world_options, "trainer.fast_dev_run=true", "~logger", "~callbacks")
    summary = train(cfg)
    assert summary["optimizer_steps"] == 1
    assert sum(summary["supervised_tokens_seen"].values()) > 0
    assert (tmp_path / "summary.json").is_file()


def test_unknown_keys_fail_loudly(tmp_path):
    with pytest.raises(ConfigCompositionException, match="batch_sizee"):
        make_cfg(tmp_path, "data.batch_sizee=3")
    with pytest.raises(ConfigCompositionException, match="no_such_encoder"):
        make_cfg(tmp_path, "model/vision_encoder=no_such_encoder")
