"""annotate.yaml composes with every shipped annotator, and everything in it builds; typos fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from hydra.utils import instantiate
from omegaconf import OmegaConf
from tiny_vlm import save_tiny_llava

from reverie.annotate.pipeline import PipelineSettings
from reverie.annotate.prompts import Prompts
from reverie.world import WorldConfig, build_world

CONF = Path(__file__).resolve().parents[2] / "reverie" / "conf"
ANNOTATORS = sorted(p.stem for p in (CONF / "annotator").glob("*.yaml"))


def make_cfg(*overrides: str):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        return compose("annotate", ["images=/some/images", "out=/some/out", *overrides])


def test_the_shipped_annotators_are_the_three_backends() -> None:
    assert ANNOTATORS == ["hf_local", "openai", "world"]


@pytest.mark.parametrize("annotator", ANNOTATORS)
def test_every_annotator_composes_and_builds(annotator: str, tmp_path: Path) -> None:
    needs = {
        "openai": ["annotator.model=some-vlm", "annotator.api_key_env=null"],
        "hf_local": [f"annotator.path={save_tiny_llava(tmp_path / 'model')}", "annotator.device=cpu"],
        "world": [f"annotator.world={tmp_path / 'world'}"],
    }
    if annotator == "world":
        build_world(tmp_path / "world", WorldConfig(num_images=6, seed=0))
    cfg = make_cfg(f"annotator={annotator}", *needs[annotator])
    assert not OmegaConf.missing_keys(cfg.annotator)
    backend = instantiate(cfg.annotator)
    assert backend.model_for("qa") and backend.batch_size >= 1 and backend.concurrency >= 1
    assert isinstance(instantiate(cfg.pipeline), PipelineSettings)
    assert instantiate(cfg.prompts) == Prompts.default()
    backend.close()


def test_the_defaults_are_the_paper_settings() -> None:
    cfg = make_cfg()
    assert cfg.annotator._target_.endswith("OpenAIChat") and cfg.pipeline.questions_per_image == 3
    assert cfg.pipeline.judge is True
    assert OmegaConf.missing_keys(cfg) == {"annotator.model"}


@pytest.mark.parametrize("typo", ["annotator.modle=x", "pipeline.judeg=false", "prompts.qaa=x", "imags=/x"])
def test_a_typo_fails_at_composition(typo: str) -> None:
    with pytest.raises(ConfigCompositionException):
        make_cfg(typo)


def test_an_unknown_key_inside_an_annotator_fails_when_built() -> None:
    cfg = make_cfg("annotator.model=m", "annotator.api_key_env=null", "+annotator.colour=red")
    with pytest.raises(Exception, match="colour"):
        instantiate(cfg.annotator)
